import assert from "node:assert/strict";
import { sameCmaArea } from "../../ffi/dma_heap.ts";

Deno.test("sameCmaArea: default_cma_region's twin is the heap named after the only CMA area, else the one legacy name", () => {
  const heaps = ["default_cma_region", "reserved", "system"];
  assert.equal(sameCmaArea(heaps, ["reserved"]), "reserved");
  assert.equal(sameCmaArea(heaps, null), "reserved");
  assert.equal(sameCmaArea(["default_cma_region", "camera", "system"], ["camera"]), "camera");
  assert.equal(
    sameCmaArea(["default_cma_region", "camera", "linux,cma"], ["camera", "linux,cma"]),
    "linux,cma",
  );
  // Before 6.17 there is no default_cma_region: no twin.
  assert.equal(sameCmaArea(["reserved", "system"], ["reserved"]), null);
  // Two legacy-named candidates and no single area: not known, so not claimed.
  assert.equal(sameCmaArea(["default_cma_region", "reserved", "linux,cma"], null), null);
  // The only area has no heap of its own name: no twin.
  assert.equal(sameCmaArea(["default_cma_region", "system"], ["reserved"]), null);
});
