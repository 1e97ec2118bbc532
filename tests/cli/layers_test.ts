/**
 * The layers point one way: ffi ← toolkit (commands/toolkit/) ← commands ← cli. Checked over the module graph
 * that `deno info --json` reports, from cli/main.ts and from every file under commands/ and ffi/, so a
 * module no entry reaches is checked too. Failures name the offending import (file → import).
 * @module
 */

import { fileURLToPath } from "node:url";
import { assertEquals } from "../assert.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DENO = Deno.execPath();

/** One import of a project module: who imports what, and how. */
interface Edge {
  readonly from: string;
  readonly to: string;
  /** `import()`: loaded only when the code runs. */
  readonly dynamic: boolean;
  /** `import type`: erased, loads nothing. */
  readonly typeOnly: boolean;
}

interface InfoDependency {
  readonly code?: { readonly specifier?: string };
  readonly type?: { readonly specifier?: string };
  readonly isDynamic?: boolean;
}

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly InfoDependency[];
}

/** The project-relative path of a `file:` specifier inside the checkout, or undefined (npm, node:, jsr). */
function projectPath(specifier: string | undefined): string | undefined {
  if (specifier === undefined || !specifier.startsWith("file:")) return undefined;
  const path = fileURLToPath(specifier);
  if (!path.startsWith(ROOT) || path.includes("/node_modules/")) return undefined;
  return path.slice(ROOT.length);
}

/** The module graph of `entries` as `deno info --json` reports it: roots and the project-internal edges. */
async function graph(entries: readonly string[]): Promise<{ roots: string[]; edges: Edge[] }> {
  const roots: string[] = [];
  const edges = new Map<string, Edge>();
  for (const entry of entries) {
    const { code, stdout, stderr } = await new Deno.Command(DENO, {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (code !== 0) throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(stdout)) as {
      roots: string[];
      modules: InfoModule[];
    };
    roots.push(...info.roots.map((r) => projectPath(r) ?? r));
    for (const module of info.modules) {
      const from = projectPath(module.specifier);
      if (from === undefined) continue;
      for (const dependency of module.dependencies ?? []) {
        const codeTarget = projectPath(dependency.code?.specifier);
        const to = codeTarget ?? projectPath(dependency.type?.specifier);
        if (to === undefined) continue;
        const edge = { from, to, dynamic: dependency.isDynamic === true, typeOnly: codeTarget === undefined };
        edges.set(`${from} ${to} ${edge.dynamic} ${edge.typeOnly}`, edge);
      }
    }
  }
  return { roots, edges: [...edges.values()] };
}

type Layer = "ffi" | "toolkit" | "commands" | "cli" | "other";

function layerOf(path: string): Layer {
  if (path.startsWith("ffi/")) return "ffi";
  if (path.startsWith("commands/toolkit/")) return "toolkit";
  if (path.startsWith("commands/")) return "commands";
  if (path.startsWith("cli/")) return "cli";
  return "other";
}

/** What each layer may import at all (any kind of import). */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  ffi: ["ffi"],
  toolkit: ["toolkit", "ffi"],
  commands: ["commands", "toolkit", "ffi"],
  cli: ["cli", "toolkit", "commands", "ffi"],
  other: ["ffi", "toolkit", "commands", "cli", "other"],
};

/**
 * Command modules that are no command body: one command's flag specs, value parsers and help text, which its
 * route spreads (`map --image`'s formats in `--help`). cli/ may import them statically; the test of the
 * static graph below still refuses any ffi/ module and any other command module they would pull in.
 */
const FLAG_SPEC_MODULES: ReadonlySet<string> = new Set(["commands/image/flags.ts"]);

/** What a flag-spec module may load statically besides the toolkit: its pure tables. */
const FLAG_SPEC_DEPENDENCIES: ReadonlySet<string> = new Set(["commands/image/fourcc.ts"]);

/** The rule an edge breaks, or undefined. */
function violation(edge: Edge): string | undefined {
  const from = layerOf(edge.from);
  const to = layerOf(edge.to);
  if (!ALLOWED[from].includes(to)) return `${from} must not import ${to}`;
  // cli/ loads command bodies only when a command runs; types are free.
  if (
    from === "cli" && (to === "commands" || to === "ffi") && !edge.dynamic && !edge.typeOnly &&
    !FLAG_SPEC_MODULES.has(edge.to)
  ) {
    return `cli reaches ${to} only by lazy import() or import type`;
  }
  return undefined;
}

function describe(edge: Edge, rule: string): string {
  const kind = edge.dynamic ? "import()" : edge.typeOnly ? "import type" : "import";
  return `${edge.from} → ${edge.to} (${kind}): ${rule}`;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    for await (const entry of Deno.readDir(ROOT + relative)) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && path.endsWith(".ts")) files.push(path);
    }
  };
  await walk(dir);
  return files.sort();
}

/** The modules a run of `root` loads before any command runs: static, non-type imports only. */
function staticClosure(root: string, edges: readonly Edge[]): string[] {
  const seen = new Set<string>([root]);
  const queue = [root];
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    for (const edge of edges) {
      if (edge.from !== path || edge.dynamic || edge.typeOnly || seen.has(edge.to)) continue;
      seen.add(edge.to);
      queue.push(edge.to);
    }
  }
  return [...seen].sort();
}

Deno.test("layers: ffi ← toolkit ← commands ← cli, over cli/main.ts and every file under commands/ and ffi/", async () => {
  const entries = ["cli/main.ts", ...await sourceFiles("commands"), ...await sourceFiles("ffi")];
  const { edges } = await graph(entries);
  const broken = edges.flatMap((edge) => {
    const rule = violation(edge);
    return rule === undefined ? [] : [describe(edge, rule)];
  });
  assertEquals(broken, [], `imports against the layers:\n${broken.join("\n")}`);
});

Deno.test("layers: the static graph of cli/main.ts (--help, usage errors) holds no ffi/ and no command body", async () => {
  const { edges } = await graph(["cli/main.ts"]);
  const loaded = staticClosure("cli/main.ts", edges);
  const below = loaded.filter((path) =>
    layerOf(path) === "ffi" ||
    layerOf(path) === "commands" && !FLAG_SPEC_MODULES.has(path) && !FLAG_SPEC_DEPENDENCIES.has(path)
  );
  assertEquals(below, [], `cli/main.ts loads at start:\n${below.join("\n")}`);
});

Deno.test("layers: the rules name what they refuse", () => {
  const edge = (from: string, to: string, kind: Partial<Edge> = {}): Edge => ({
    from,
    to,
    dynamic: false,
    typeOnly: false,
    ...kind,
  });
  assertEquals(violation(edge("commands/map.ts", "cli/errors.ts")), "commands must not import cli");
  assertEquals(
    violation(edge("commands/toolkit/output.ts", "commands/map.ts")),
    "toolkit must not import commands",
  );
  assertEquals(violation(edge("ffi/fd.ts", "commands/toolkit/errors.ts")), "ffi must not import toolkit");
  assertEquals(
    violation(edge("cli/routes/map.ts", "commands/map.ts")),
    "cli reaches commands only by lazy import() or import type",
  );
  assertEquals(violation(edge("cli/routes/map.ts", "commands/map.ts", { dynamic: true })), undefined);
  assertEquals(violation(edge("cli/routes/map.ts", "commands/map.ts", { typeOnly: true })), undefined);
  assertEquals(violation(edge("cli/routes/map.ts", "commands/toolkit/flags.ts")), undefined);
  assertEquals(violation(edge("cli/routes/map.ts", "commands/image/flags.ts")), undefined);
  assertEquals(
    violation(edge("cli/routes/map.ts", "commands/image/map_image.ts")),
    "cli reaches commands only by lazy import() or import type",
  );
  assertEquals(
    describe(edge("commands/map.ts", "cli/errors.ts"), "commands must not import cli"),
    "commands/map.ts → cli/errors.ts (import): commands must not import cli",
  );
});

Deno.test("layers: `stat --input` loads no FFI: commands/stat/mod.ts reaches ffi/ only for text parsers", async () => {
  const { edges } = await graph(["commands/stat/mod.ts"]);
  const loaded = staticClosure("commands/stat/mod.ts", edges);
  const ffi = loaded.filter((path) => layerOf(path) === "ffi" && !path.startsWith("ffi/text/"));
  assertEquals(ffi, [], `commands/stat/mod.ts loads before reading a file:\n${ffi.join("\n")}`);
  assertEquals(loaded.includes("commands/stat/live.ts"), false);
});
