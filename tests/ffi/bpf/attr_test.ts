import { assertEquals, assertThrows } from "../../assert.ts";
import { BpfIterCreateAttr, BpfLinkCreateAttr, BpfProgLoadAttr } from "../../../ffi/bpf/attr.ts";
import { sysBpf } from "../../../ffi/bpf/syscall.ts";

/** Bytes from a hex string with spaces for readability. */
function hex(text: string): number[] {
  return [...Uint8Array.from(text.replace(/\s+/g, "").match(/../g) ?? [], (pair) => parseInt(pair, 16))];
}

Deno.test("BpfProgLoadAttr: golden bytes of a tracing iterator program's load", () => {
  const load = {
    progType: 26,
    insnCnt: 3,
    insns: 0x1122334455667788n,
    license: 0x1000n,
    logLevel: 1,
    logSize: 4096,
    logBuf: 0x2000n,
    progName: "dmabuf_iter",
    expectedAttachType: 28,
    attachBtfId: 63606,
    attachBtfObjFd: 0,
  };
  const bytes = BpfProgLoadAttr.encode(load);
  assertEquals(bytes.length, 144);
  assertEquals(
    [...bytes.subarray(0, 48)],
    hex(`
    1a000000 03000000 8877665544332211 0010000000000000
    01000000 00100000 0020000000000000 00000000 00000000`),
  );
  assertEquals([...bytes.subarray(48, 64)], hex("646d61627566 5f69746572 0000000000")); // "dmabuf_iter"
  assertEquals([...bytes.subarray(64, 76)], hex("00000000 1c000000 00000000"));
  assertEquals([...bytes.subarray(108, 116)], hex("76f80000 00000000"));
  assertEquals(bytes.subarray(116).every((b) => b === 0), true);
  assertEquals(BpfProgLoadAttr.logTrueSize(bytes), 0);
  assertThrows(
    () => BpfProgLoadAttr.encode({ ...load, progName: "a-name-of-16-chr" }),
    RangeError,
    "at most 15",
  );
});

Deno.test("BpfLinkCreateAttr and BpfIterCreateAttr: golden bytes", () => {
  assertEquals(
    [...BpfLinkCreateAttr.encode({ progFd: 5, targetFd: 0, attachType: 28, flags: 0 })],
    hex("05000000 00000000 1c000000 00000000 0000000000000000 00000000 00000000"),
  );
  assertEquals([...BpfIterCreateAttr.encode({ linkFd: 7, flags: 0 })], hex("07000000 00000000"));
});

Deno.test("sysBpf: __NR_bpf of x86_64 and of the asm-generic table arm64 uses", () => {
  assertEquals([sysBpf("x86_64"), sysBpf("aarch64")], [321, 280]);
  assertThrows(() => sysBpf("riscv64"), Error, "No bpf(2) syscall number known for riscv64");
});
