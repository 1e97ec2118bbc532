/**
 * Every struct layout of ffi/structs.ts against the kernel headers of the VM's kernels: a C program built with
 * gcc against `~/.cache/dmabuf-vm/<kernel>/headers` (installed by the kernel builds) prints `sizeof` and
 * `offsetof` of each field, which must equal the layout's. The structs sw_sync keeps in its driver (not in
 * UAPI headers) are taken from that kernel's source, `linux/drivers/dma-buf/sw_sync.c`, beside the headers.
 * A struct a kernel's headers lack fails the test when the layout says that kernel should have it (`since`).
 *
 * The values are not printed by a program run here but compiled into a data section and read out of the object
 * file (`objcopy -O binary`), so the arm64 board's headers are measured with the cross compiler as well
 * (`aarch64-linux-gnu-gcc`, installed with the arm64 kernel's build dependencies).
 *
 * One test per kernel with headers; with none in the cache (no kernel built yet), or without the kernel's
 * architecture's gcc, the test is ignored with the reason. With `DMABUF_KERNEL_TREES` (npm test, after the VM
 * tiers) a kernel it names that has no headers in the cache fails (tests/kernel_trees.ts).
 * @module
 */

import { assertEquals, assertOk } from "../assert.ts";
import type { StructInfo } from "../../ffi/layout.ts";
import * as structs from "../../ffi/structs.ts";
import { hasGcc } from "../gcc.ts";
import { missingTrees, requiredTrees } from "../kernel_trees.ts";

const CACHE = `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache`}/dmabuf-vm`;
/** The toolchain prefix of each kernel architecture (empty: this machine's own, when it is that one). */
function toolchain(arm64: boolean): string {
  if (arm64) return Deno.build.arch === "aarch64" ? "" : "aarch64-linux-gnu-";
  return Deno.build.arch === "x86_64" ? "" : "x86_64-linux-gnu-";
}

const LAYOUTS: StructInfo[] = (Object.values(structs) as unknown[]).filter((value): value is StructInfo =>
  typeof value === "object" && value !== null && "fields" in value && "NAME" in value
);

/** A kernel build in the cache that has installed headers. */
interface Kernel {
  /** `6.12.118`, from the build's directory name. */
  version: string;
  /** Its directory. */
  dir: string;
  /** Its architecture (`x86_64`, `arm64`). */
  arch: string;
  /** The prefix of its architecture's gcc and objcopy (`aarch64-linux-gnu-`, or `` for this machine's). */
  prefix: string;
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
    const arm64 = config.includes("CONFIG_ARM64=y");
    return [{ version, dir, arch: arm64 ? "arm64" : "x86_64", prefix: toolchain(arm64) }];
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

/** What each value of the program's array is: `struct size` or `struct.field offset`, in order. */
function labels(plan: Plan): string[] {
  return plan.measured.flatMap(([name, struct]) => [
    `${name} size`,
    ...struct.fields.filter((f) => f.kernel !== null).map((f) => `${name}.${f.kernel} offset`),
  ]);
}

/** The C source of an array of every measured `sizeof` and `offsetof`, as 64-bit values in its own section. */
function program(plan: Plan): string {
  const lines = [
    "#include <stddef.h>",
    "#include <linux/types.h>",
    ...[...plan.headers].map((header) => `#include <${header}>`),
    ...plan.sources,
    `const unsigned long long ${ARRAY}[] = {`,
  ];
  for (const [name, struct] of plan.measured) {
    lines.push(`  sizeof(struct ${name}),`);
    for (const field of struct.fields) {
      if (field.kernel !== null) lines.push(`  offsetof(struct ${name}, ${field.kernel}),`);
    }
  }
  lines.push("};");
  return lines.join("\n") + "\n";
}

/** The array's name; with -fdata-sections it lands in `.rodata.<name>`. */
const ARRAY = "dmabuf_layouts";

/** What the layouts say, each value with its label. */
function expected(plan: Plan): string[] {
  return plan.measured.flatMap(([name, struct]) => [
    `${name} size ${struct.SIZE}`,
    ...struct.fields.filter((f) => f.kernel !== null).map((f) => `${name}.${f.kernel} offset ${f.offset}`),
  ]);
}

/** Whether `command --version` runs. */
function runs(command: string): boolean {
  try {
    return new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

const found = kernels();

const required = requiredTrees();
if (required !== null) {
  Deno.test(`every kernel the VM tiers build has its headers in ${CACHE} (${Deno.env.get("DMABUF_KERNEL_TREES")})`, () => {
    const have = found.map((k) => ({ arch: k.arch, version: k.version }));
    assertEquals(missingTrees(required, have), [], "kernels without headers in the cache");
  });
}

if (found.length === 0) {
  Deno.test({
    name: `struct layouts against the kernel headers [ignored: no ${CACHE}/*/headers yet: build a VM kernel]`,
    ignore: true,
    fn: () => {},
  });
}

for (const kernel of found) {
  const gcc = `${kernel.prefix}gcc`;
  const why = (kernel.prefix === "" ? hasGcc() : runs(gcc)) ? null : `no ${gcc} on this machine`;
  Deno.test({
    name: `struct layouts equal sizeof and offsetof of Linux ${kernel.version}'s headers${
      kernel.prefix === "" ? "" : ` (${kernel.prefix.slice(0, -1)}, cross-compiled)`
    }${why === null ? "" : ` [ignored: ${why}]`}`,
    ignore: why !== null,
    fn: async () => {
      const work = await Deno.makeTempDir({ prefix: "dmabuf-structs-" });
      try {
        const steps = plan(kernel);
        assertEquals(steps.missing, [], `structs missing from Linux ${kernel.version}'s headers`);
        await Deno.writeTextFile(`${work}/layouts.c`, program(steps));
        const build = await new Deno.Command(gcc, {
          args: [
            "-c",
            "-fdata-sections",
            "-I",
            `${kernel.dir}/headers`,
            "-o",
            `${work}/layouts.o`,
            `${work}/layouts.c`,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assertOk(build.success, new TextDecoder().decode(build.stderr));
        const copy = await new Deno.Command(`${kernel.prefix}objcopy`, {
          args: [
            "-O",
            "binary",
            `--only-section=.rodata.${ARRAY}`,
            `${work}/layouts.o`,
            `${work}/layouts.bin`,
          ],
          stderr: "piped",
        }).output();
        assertOk(copy.success, new TextDecoder().decode(copy.stderr));
        // Both architectures are little-endian.
        const bytes = await Deno.readFile(`${work}/layouts.bin`);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const names = labels(steps);
        assertEquals(bytes.byteLength, names.length * 8, "one 64-bit value per label");
        const actual = names.map((label, i) => `${label} ${view.getBigUint64(i * 8, true)}`);
        assertEquals(actual, expected(steps));
        // Every struct of ffi/structs.ts with a declaration was measured, or is newer than this kernel.
        const measured = new Set(steps.measured.map(([name]) => name));
        const unmeasured = LAYOUTS.filter((s) => s.origin.header !== null || s.origin.source !== undefined)
          .filter((s) => !measured.has(s.NAME) && !steps.absent.some((a) => a.startsWith(`${s.NAME} `)));
        assertEquals(unmeasured.map((s) => s.NAME), []);
      } finally {
        await Deno.remove(work, { recursive: true });
      }
    },
  });
}
