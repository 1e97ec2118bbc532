import { assertEquals, assertThrows } from "../../assert.ts";
import { Assembler, decodeInsn, encodeInsn, FP, INSN_SIZE, Reg } from "../../../ffi/bpf/insn.ts";

/** Bytes from a hex string with spaces for readability. */
function hex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, "").match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

// The expected bytes are written out from the opcode tables of include/uapi/linux/bpf_common.h and bpf.h
// (class | size | mode, class | op | source; dst_reg in the low nibble), not computed by the code under test.
Deno.test("Assembler: each instruction encodes as the kernel's macros do", () => {
  const cases: [string, (a: Assembler) => unknown, string][] = [
    ["BPF_MOV64_IMM(R0, 0)", (a) => a.mov64Imm(Reg.R0, 0), "b7 00 0000 00000000"],
    ["BPF_MOV64_IMM(R2, -1)", (a) => a.mov64Imm(Reg.R2, -1), "b7 02 0000 ffffffff"],
    ["BPF_MOV64_REG(R1, R10)", (a) => a.mov64Reg(Reg.R1, FP), "bf a1 0000 00000000"],
    ["BPF_ALU64_IMM(BPF_ADD, R1, -208)", (a) => a.alu64Imm("BPF_ADD", Reg.R1, -208), "07 01 0000 30ffffff"],
    ["BPF_ALU64_REG(BPF_SUB, R3, R4)", (a) => a.alu64Reg("BPF_SUB", Reg.R3, Reg.R4), "1f 43 0000 00000000"],
    ["BPF_LDX_MEM(BPF_DW, R7, R1, 8)", (a) => a.ldxMem("BPF_DW", Reg.R7, Reg.R1, 8), "79 17 0800 00000000"],
    ["BPF_LDX_MEM(BPF_W, R1, R8, 40)", (a) => a.ldxMem("BPF_W", Reg.R1, Reg.R8, 40), "61 81 2800 00000000"],
    ["BPF_LDX_MEM(BPF_H, R1, R8, 2)", (a) => a.ldxMem("BPF_H", Reg.R1, Reg.R8, 2), "69 81 0200 00000000"],
    ["BPF_LDX_MEM(BPF_B, R1, R8, 1)", (a) => a.ldxMem("BPF_B", Reg.R1, Reg.R8, 1), "71 81 0100 00000000"],
    ["BPF_STX_MEM(BPF_DW, R10, R1, -8)", (a) => a.stxMem("BPF_DW", FP, Reg.R1, -8), "7b 1a f8ff 00000000"],
    ["BPF_STX_MEM(BPF_W, R10, R0, -168)", (a) => a.stxMem("BPF_W", FP, Reg.R0, -168), "63 0a 58ff 00000000"],
    [
      "BPF_ST_MEM(BPF_W, R10, -208, 0x62616d64)",
      (a) => a.stMem("BPF_W", FP, -208, 0x62616d64),
      "62 0a 30ff 646d6162",
    ],
    ["BPF_ST_MEM(BPF_DW, R10, -16, 0)", (a) => a.stMem("BPF_DW", FP, -16, 0), "7a 0a f0ff 00000000"],
    ["BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel_str)", (a) => a.call(115), "85 00 0000 73000000"],
    ["BPF_EMIT_CALL(BPF_FUNC_seq_write)", (a) => a.call(127), "85 00 0000 7f000000"],
    ["BPF_EXIT_INSN()", (a) => a.exit(), "95 00 0000 00000000"],
  ];
  for (const [what, emit, expected] of cases) {
    const a = new Assembler();
    emit(a);
    assertEquals([what, [...a.assemble()]], [what, [...hex(expected)]]);
  }
});

Deno.test("Assembler: jumps resolve labels forwards and backwards, relative to the next instruction", () => {
  const a = new Assembler();
  a.label("top");
  a.jmpImm("BPF_JEQ", Reg.R7, 0, "out"); // 0: skips 1 and 2
  a.jmpReg("BPF_JNE", Reg.R8, Reg.R9, "top"); // 1: back to 0
  a.ja("out"); // 2
  a.label("out");
  a.mov64Imm(Reg.R0, 0).exit(); // 3, 4
  const bytes = a.assemble();
  assertEquals(a.length, 5);
  assertEquals(bytes.length, 5 * INSN_SIZE);
  assertEquals([...bytes.subarray(0, 8)], [...hex("15 07 0200 00000000")]); // BPF_JMP_IMM(BPF_JEQ, R7, 0, +2)
  assertEquals([...bytes.subarray(8, 16)], [...hex("5d 98 feff 00000000")]); // BPF_JMP_REG(BPF_JNE, R8, R9, -2)
  assertEquals([...bytes.subarray(16, 24)], [...hex("05 00 0000 00000000")]); // BPF_JMP_A(0)
  assertEquals(decodeInsn(bytes, 8), { code: 0x5d, dst: 8, src: 9, off: -2, imm: 0 });
});

Deno.test("Assembler: unplaced and twice-placed labels and out-of-range fields are refused", () => {
  assertThrows(() => new Assembler().ja("nowhere").assemble(), Error, "BPF label nowhere is never placed");
  assertThrows(() => new Assembler().label("x").label("x"), Error, "placed twice");
  assertThrows(
    () => new Assembler().ldxMem("BPF_DW", Reg.R1, Reg.R1, 0x8000).assemble(),
    RangeError,
    "off 32768",
  );
  assertThrows(() => new Assembler().mov64Imm(Reg.R1, 2 ** 31).assemble(), RangeError, "imm 2147483648");
  assertThrows(
    () => encodeInsn({ code: 0x95, dst: 11, src: 0, off: 0, imm: 0 }, new Uint8Array(8)),
    RangeError,
    "dst_reg 11",
  );
});
