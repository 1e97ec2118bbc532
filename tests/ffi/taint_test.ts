import assert from "node:assert/strict";
import { addedTaint, describeTaint, readTaint, TAINT_SOFTLOCKUP_BIT, taintFlags } from "../../ffi/taint.ts";
import { warnAboutTaint } from "../../commands/fence/sw_sync.ts";

Deno.test("taintFlags names each set bit with the letter and name of kernel/panic.c", () => {
  assert.deepEqual(taintFlags(0), []);
  assert.deepEqual(taintFlags(16384).map((f) => [f.bit, f.letter, f.name]), [[14, "L", "TAINT_SOFTLOCKUP"]]);
  assert.deepEqual(taintFlags(512 + 1).map((f) => f.letter), ["P", "W"]);
  assert.deepEqual(taintFlags(2 ** 25).map((f) => [f.bit, f.letter]), [[25, "?"]]);
  assert.equal(TAINT_SOFTLOCKUP_BIT, 14);
});

Deno.test("addedTaint is the bits set after that were clear before", () => {
  assert.equal(addedTaint(0, 16384), 16384);
  assert.equal(addedTaint(16384, 16384), 0);
  assert.equal(addedTaint(512, 16384 + 512), 16384);
  assert.equal(addedTaint(16384, 0), 0);
  assert.match(describeTaint(16384), /^L \(TAINT_SOFTLOCKUP: /);
});

Deno.test("readTaint reads a number, and gives null for a missing or bad file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/tainted`, "16384\n");
    assert.equal(readTaint(`${dir}/tainted`), 16384);
    Deno.writeTextFileSync(`${dir}/tainted`, "lots\n");
    assert.equal(readTaint(`${dir}/tainted`), null);
    assert.equal(readTaint(`${dir}/missing`), null);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fence sw-sync warns when its fences tainted the kernel, or on 7.2+ when it already was", () => {
  const warnings: string[] = [];
  const out = { warn: (text: string) => void warnings.push(text) };
  warnAboutTaint(out, 0, 16384, "7.2.13-amd64");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /tainted the kernel: L \(TAINT_SOFTLOCKUP.*0 -> 16384/);
  warnAboutTaint(out, 16384, 16384, "7.2.13-amd64");
  assert.match(warnings[1]!, /taints this kernel \(Linux 7\.2\+/);
  warnAboutTaint(out, 16384, 16384, "6.12.118");
  warnAboutTaint(out, 0, 0, "7.2.13");
  warnAboutTaint(out, null, 16384, "7.2.13");
  assert.equal(warnings.length, 2);
});
