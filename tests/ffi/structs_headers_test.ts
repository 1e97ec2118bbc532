/**
 * Every struct layout of ffi/structs.ts against the kernel headers of the VM's kernels: a C program built with
 * gcc against `~/.cache/dmabuf-vm/<kernel>/headers` (installed by the kernel builds) prints `sizeof` and
 * `offsetof` of each field, which must equal the layout's. The structs sw_sync keeps in its driver (not in
 * UAPI headers) are taken from that kernel's source, `linux/drivers/dma-buf/sw_sync.c`, beside the headers.
 * A struct a kernel's headers lack fails the test when the layout says that kernel should have it (`since`).
 *
 * One test per kernel with headers; with none in the cache (no kernel built yet), or without gcc, the test is
 * ignored with the reason. Headers of another architecture than this machine's are not compiled here.
 * @module
 */

import { assertEquals, assertOk } from "../assert.ts";
import type { StructInfo } from "../../ffi/layout.ts";
import * as structs from "../../ffi/structs.ts";
import { hasGcc } from "../gcc.ts";

const CACHE = `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache`}/dmabuf-vm`;
const HOST_CONFIG = Deno.build.arch === "x86_64" ? "CONFIG_X86_64=y" : "CONFIG_ARM64=y";

const LAYOUTS: StructInfo[] = (Object.values(structs) as unknown[]).filter((value): value is StructInfo =>
  typeof value === "object" && value !== null && "fields" in value && "NAME" in value
);

/** A kernel build in the cache that has installed headers. */
interface Kernel {
  /** `6.12.118`, from the build's directory name. */
  version: string;
  /** Its directory. */
  dir: string;
  /** Why it is not compiled here, or null. */
  skip: string | null;
}

function kernels(): Kernel[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(CACHE)].filter((e) => e.isDirectory).map((e) => e.name).sort();
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const dir = `${CACHE}/${name}`;
    try {
      if (!Deno.statSync(`${dir}/headers`).isDirectory) return [];
    } catch {
      return [];
    }
    const version = /^(\d+\.\d+(?:\.\d+)?)/.exec(name)?.[1] ?? name;
    let config = "";
    try {
      config = Deno.readTextFileSync(`${dir}/config`);
    } catch {
      // No config kept: taken as this machine's architecture.
    }
    const foreign = config !== "" && !config.includes(HOST_CONFIG);
    return [{
      version,
      dir,
      skip: foreign ? `headers of another architecture than ${Deno.build.arch}` : null,
    }];
  });
}

/** Whether version `a` is at least `b` (`6.12.118` against `6.8`). */
function atLeast(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < Math.max(x!.length, y!.length); i++) {
    const d = (x![i] ?? 0) - (y![i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** `struct NAME { ... };` as declared in `text`, or null. */
function declaration(text: string, name: string): string | null {
  return new RegExp(`struct\\s+${name}\\s*\\{[^}]*\\};`).exec(text)?.[0] ?? null;
}

function read(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

interface Plan {
  /** Headers to include. */
  headers: Set<string>;
  /** Declarations taken from driver sources. */
  sources: string[];
  /** The C names to measure, each with the layout it must equal. */
  measured: [string, StructInfo][];
  /** Structs the headers should have and do not. */
  missing: string[];
  /** Structs left out as older than their kernel version. */
  absent: string[];
}

function plan(kernel: Kernel): Plan {
  const result: Plan = { headers: new Set(), sources: [], measured: [], missing: [], absent: [] };
  for (const struct of LAYOUTS) {
    const { header, source, since, aliases = [] } = struct.origin;
    if (header === null && source === undefined) continue; // a plain __u32, no struct
    const text = header !== null
      ? read(`${kernel.dir}/headers/${header}`)
      : read(`${kernel.dir}/linux/${source}`);
    for (const name of [struct.NAME, ...aliases]) {
      const declared = declaration(text, name);
      if (declared === null) {
        const expected = since === undefined || atLeast(kernel.version, since);
        (expected ? result.missing : result.absent).push(`${name} (${header ?? source})`);
        continue;
      }
      if (header !== null) result.headers.add(header);
      else result.sources.push(declared);
      result.measured.push([name, struct]);
    }
  }
  return result;
}

/** The C program that prints `struct size N` and `struct.field offset N` for every measured struct. */
function program(plan: Plan): string {
  const lines = [
    "#include <stddef.h>",
    "#include <stdio.h>",
    "#include <linux/types.h>",
    ...[...plan.headers].map((header) => `#include <${header}>`),
    ...plan.sources,
    "int main(void) {",
  ];
  for (const [name, struct] of plan.measured) {
    lines.push(`  printf("${name} size %zu\\n", sizeof(struct ${name}));`);
    for (const field of struct.fields) {
      if (field.kernel === null) continue;
      lines.push(
        `  printf("${name}.${field.kernel} offset %zu\\n", offsetof(struct ${name}, ${field.kernel}));`,
      );
    }
  }
  lines.push("  return 0;", "}");
  return lines.join("\n") + "\n";
}

/** What the layouts say, in the program's output format. */
function expected(plan: Plan): string[] {
  return plan.measured.flatMap(([name, struct]) => [
    `${name} size ${struct.SIZE}`,
    ...struct.fields.filter((f) => f.kernel !== null).map((f) => `${name}.${f.kernel} offset ${f.offset}`),
  ]);
}

const found = kernels();
const gcc = hasGcc();

if (found.length === 0) {
  Deno.test({
    name: `struct layouts against the kernel headers [ignored: no ${CACHE}/*/headers yet: build a VM kernel]`,
    ignore: true,
    fn: () => {},
  });
}

for (const kernel of found) {
  const why = !gcc ? "no gcc on this machine" : kernel.skip;
  Deno.test({
    name: `struct layouts equal sizeof and offsetof of Linux ${kernel.version}'s headers${
      why === null ? "" : ` [ignored: ${why}]`
    }`,
    ignore: why !== null,
    fn: async () => {
      const work = await Deno.makeTempDir({ prefix: "dmabuf-structs-" });
      try {
        const steps = plan(kernel);
        assertEquals(steps.missing, [], `structs missing from Linux ${kernel.version}'s headers`);
        await Deno.writeTextFile(`${work}/layouts.c`, program(steps));
        const build = await new Deno.Command("gcc", {
          args: ["-I", `${kernel.dir}/headers`, "-o", `${work}/layouts`, `${work}/layouts.c`],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assertOk(build.success, new TextDecoder().decode(build.stderr));
        const run = await new Deno.Command(`${work}/layouts`, { stdout: "piped" }).output();
        const actual = new TextDecoder().decode(run.stdout).trimEnd().split("\n");
        assertEquals(actual, expected(steps));
        // Every struct of ffi/structs.ts with a declaration was measured, or is newer than this kernel.
        const names = new Set(steps.measured.map(([name]) => name));
        const unmeasured = LAYOUTS.filter((s) => s.origin.header !== null || s.origin.source !== undefined)
          .filter((s) => !names.has(s.NAME) && !steps.absent.some((a) => a.startsWith(`${s.NAME} `)));
        assertEquals(unmeasured.map((s) => s.NAME), []);
      } finally {
        await Deno.remove(work, { recursive: true });
      }
    },
  });
}
