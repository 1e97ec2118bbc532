import { assertEquals, assertOk } from "../../assert.ts";
import { smokeBattery } from "../../../commands/smoke/checks.ts";
import type { SmokeTarget } from "../../../commands/smoke/targets.ts";
import { sizeLabel } from "../../../commands/lab/names.ts";

const target: SmokeTarget = {
  name: "system",
  kind: "heap",
  path: "/nonexistent/dma_heap/system",
  dir: "/nonexistent/dma_heap",
  maxBytes: null,
  capReason: null,
};

function checkName(pageSize: number, id: string): string {
  const check = smokeBattery({ targets: [target], pageSize }).find((c) => c.id === id);
  assertOk(check !== undefined, `no check ${id}`);
  return check.name;
}

Deno.test("smoke on a 16 KiB-page kernel: the 4 KiB size check expects (and names) the rounded size", () => {
  assertEquals(
    checkName(16384, "system/size-4KiB"),
    "lseek(SEEK_END) of a 4 KiB buffer equals its size rounded up to whole 16 KiB pages (16 KiB)",
  );
  // Whole pages already: nothing to round.
  assertEquals(checkName(16384, "system/size-1MiB"), "lseek(SEEK_END) of a 1 MiB buffer equals its size");
});

Deno.test("smoke on a 4 KiB-page kernel: ids and names as before", () => {
  assertEquals(checkName(4096, "system/size-4KiB"), "lseek(SEEK_END) of a 4 KiB buffer equals its size");
  const ids = smokeBattery({ targets: [target], pageSize: 4096 }).map((c) => c.id);
  for (const id of ["system/alloc-4KiB", "system/size-4KiB", "system/alloc-1MiB", "system/alloc-16MiB"]) {
    assertOk(ids.includes(id), id);
  }
});

Deno.test("smoke check ids label a capped size exactly, as bench's LAVA ids do (1.5 MiB is 1536KiB)", () => {
  const capped = { ...target, maxBytes: 1536 * 1024, capReason: "udmabuf size_limit_mb" };
  const ids = smokeBattery({ targets: [capped], pageSize: 4096 }).map((c) => c.id);
  for (
    const id of ["system/alloc-4KiB", "system/alloc-1MiB", "system/alloc-1536KiB", "system/size-1536KiB"]
  ) {
    assertOk(ids.includes(id), `${id} not in ${ids.join(" ")}`);
  }
  assertEquals(sizeLabel(1536 * 1024), "1536KiB");
});
