import assert from "node:assert/strict";
import { kernelAtLeast, kernelVersion, parseKernelVersion } from "../../ffi/kernel_release.ts";

Deno.test("kernelVersion reads major.minor from uname -r, null when it does not start with one", () => {
  assert.deepEqual(kernelVersion("6.12.118-1-amd64"), { major: 6, minor: 12 });
  assert.deepEqual(kernelVersion("5.10.0"), { major: 5, minor: 10 });
  assert.deepEqual(kernelVersion("7.2"), { major: 7, minor: 2 });
  assert.equal(kernelVersion("linux"), null);
});

Deno.test("kernelAtLeast compares numerically (6.12 is after 6.8), false for an unreadable release", () => {
  assert.equal(kernelAtLeast("6.8", "6.12.1"), true);
  assert.equal(kernelAtLeast("6.8", "6.1.0"), false);
  assert.equal(kernelAtLeast("6.0", "5.10.223"), false);
  assert.equal(kernelAtLeast("6.17", "7.2.13"), true);
  assert.equal(kernelAtLeast("7.2", "7.2.0-rc1"), true);
  assert.equal(kernelAtLeast("6.0", "weird"), false);
  assert.throws(() => parseKernelVersion("6"), RangeError);
});
