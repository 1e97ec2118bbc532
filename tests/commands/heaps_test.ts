import { assertEquals } from "../assert.ts";
import { checkHeapName, heapNameProblem, listHeaps, resolveHeapName } from "../../ffi/dma_heap.ts";
import { assertThrows } from "../assert.ts";
import { parseHeapName } from "../../commands/toolkit/heap_name.ts";
import { UsageError } from "../../commands/toolkit/errors.ts";

function fakeHeapDir(names: string[], links: Record<string, string> = {}): string {
  const dir = Deno.makeTempDirSync({ prefix: "dma_heap_" });
  for (const name of names) Deno.writeTextFileSync(`${dir}/${name}`, "");
  for (const [name, target] of Object.entries(links)) Deno.symlinkSync(target, `${dir}/${name}`);
  return dir;
}

Deno.test("listHeaps lists entries sorted, resolves symlinks and adds udmabuf when present", () => {
  const dir = fakeHeapDir(["system", "linux,cma"], { vidbuf_cached: "system" });
  const udmabuf = `${dir}/udmabuf-device`;
  Deno.writeTextFileSync(udmabuf, "");
  try {
    const heaps = listHeaps(dir, udmabuf)!;
    assertEquals(heaps.map((h) => [h.name, h.target, h.accessible, h.pseudo]), [
      ["linux,cma", null, true, false],
      ["system", null, true, false],
      ["udmabuf-device", null, true, false],
      ["vidbuf_cached", `${dir}/system`, true, false],
      ["udmabuf", null, true, true],
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listHeaps returns null when there is neither a heap directory nor udmabuf", () => {
  assertEquals(listHeaps("/nonexistent/dma_heap", "/nonexistent/udmabuf"), null);
});

Deno.test("listHeaps reports a dangling symlink as not accessible with ENOENT", () => {
  const dir = fakeHeapDir([], { gone: "missing" });
  try {
    const [heap] = listHeaps(dir, null)!;
    assertEquals([heap!.name, heap!.accessible, heap!.error], ["gone", false, "ENOENT"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the cma alias resolves to the first CMA heap name that exists", () => {
  for (
    const [names, expected] of [
      [["system", "reserved"], "reserved"],
      [["linux,cma", "reserved"], "linux,cma"],
      [["default_cma_region", "linux,cma"], "default_cma_region"],
      [["cma", "reserved"], "cma"],
      [["system"], "cma"],
    ] as const
  ) {
    const dir = fakeHeapDir([...names]);
    try {
      assertEquals(resolveHeapName("cma", dir), expected, names.join(","));
      assertEquals(resolveHeapName("system", dir), "system");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
});

Deno.test("heap names that are paths are rejected", () => {
  for (const name of ["../etc", "a/b", "..", ".", ""]) assertThrows(() => resolveHeapName(name), RangeError);
});

Deno.test("heap names: one rule (ffi heapNameProblem) for the CLI parser and the ffi check", () => {
  for (const name of ["system", "linux,cma", "cma", "udmabuf", "qcom.system"]) {
    assertEquals(heapNameProblem(name), undefined, name);
    assertEquals(parseHeapName(name), name);
    checkHeapName(name);
  }
  for (const name of ["", ".", "..", "x..y", "../etc", "a/b", "a\0b"]) {
    const problem = heapNameProblem(name);
    assertEquals(typeof problem, "string", name);
    assertThrows(() => parseHeapName(name), UsageError, problem);
    assertThrows(() => checkHeapName(name), RangeError, problem);
  }
});
