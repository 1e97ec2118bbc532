/**
 * The kernel interfaces dmabuf works with are present: in the test VM (DMABUF_REQUIRE_HW=1) every test here
 * must pass; on a machine without them, each is reported as ignored with the reason.
 */
import assert from "node:assert/strict";
import { cmaHeapPath, exists, hwTest, needs, vgemCardPath } from "./hw.ts";
import { kernelHas } from "./features.ts";

/** Linux dev_t encoding (include/linux/kdev_t.h, new_encode_dev): 12 bits of major, 20 of minor, split. */
function majorMinor(rdev: number): string {
  const dev = BigInt(rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

function assertCharDevice(path: string): void {
  assert.equal(Deno.statSync(path).isCharDevice, true, `${path} is not a character device`);
}

hwTest({
  name: "system heap is a character device at /dev/dma_heap/system",
  needs: [needs.systemHeap],
  fn: () => assertCharDevice("/dev/dma_heap/system"),
});

hwTest({
  name: "CMA heap is a character device in /dev/dma_heap",
  needs: [needs.cmaHeap],
  fn: () => assertCharDevice(cmaHeapPath()!),
});

hwTest({
  name: "udmabuf is a character device at /dev/udmabuf",
  needs: [needs.udmabuf],
  fn: () => assertCharDevice("/dev/udmabuf"),
});

hwTest({
  name: "sw_sync is a file in debugfs",
  needs: [needs.swSync],
  fn: () => assert.equal(Deno.statSync("/sys/kernel/debug/sync/sw_sync").isFile, true),
});

hwTest({
  name: "vgem card node matches the device number sysfs lists for it",
  needs: [needs.vgem],
  fn: () => {
    const card = vgemCardPath()!;
    const name = card.slice(card.lastIndexOf("/") + 1);
    const sysfsDev = Deno.readTextFileSync(`/sys/class/drm/${name}/dev`).trim();
    assertCharDevice(card);
    assert.equal(majorMinor(Deno.statSync(card).rdev!), sysfsDev);
  },
});

hwTest({
  name: "bufinfo is readable and starts with its header",
  needs: [needs.bufinfo],
  fn: () => {
    const text = Deno.readTextFileSync("/sys/kernel/debug/dma_buf/bufinfo");
    assert.match(text, /^\s*Dma-buf Objects:/);
  },
});

hwTest({
  name: `dma-buf sysfs statistics directory ${
    kernelHas("sysfs-stats") ? "exists" : "is absent, as on 5.10 and 7.2"
  }`,
  needs: [needs.bufinfo],
  fn: () => assert.equal(exists("/sys/kernel/dmabuf/buffers"), kernelHas("sysfs-stats")),
});
