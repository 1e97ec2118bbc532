/**
 * A tiny eBPF assembler: the instruction encoding of `include/uapi/linux/bpf.h` and `bpf_common.h` (opcode =
 * class | size | mode, or class | operation | source), and a builder with named jump labels, so the program
 * the tool loads is written as instructions with kernel names and not as numbers.
 *
 * `struct bpf_insn` is 8 bytes: `__u8 code` @0, `__u8 dst_reg:4, src_reg:4` @1 (dst in the low nibble on
 * little-endian), `__s16 off` @2, `__s32 imm` @4.
 * @module
 */

/** Instruction classes (`BPF_CLASS`). */
export const BpfClass = {
  BPF_LD: 0x00,
  BPF_LDX: 0x01,
  BPF_ST: 0x02,
  BPF_STX: 0x03,
  BPF_ALU: 0x04,
  BPF_JMP: 0x05,
  BPF_JMP32: 0x06,
  BPF_ALU64: 0x07,
} as const;

/** Load/store widths (`BPF_SIZE`). */
export const BpfSize = {
  BPF_W: 0x00,
  BPF_H: 0x08,
  BPF_B: 0x10,
  BPF_DW: 0x18,
} as const;

/** A width name of {@link BpfSize}. */
export type BpfSizeName = keyof typeof BpfSize;

/** Load/store modes (`BPF_MODE`). */
export const BpfMode = {
  BPF_IMM: 0x00,
  BPF_MEM: 0x60,
} as const;

/** ALU operations (`BPF_OP` of BPF_ALU/BPF_ALU64). */
export const BpfAluOp = {
  BPF_ADD: 0x00,
  BPF_SUB: 0x10,
  BPF_MUL: 0x20,
  BPF_DIV: 0x30,
  BPF_OR: 0x40,
  BPF_AND: 0x50,
  BPF_LSH: 0x60,
  BPF_RSH: 0x70,
  BPF_NEG: 0x80,
  BPF_MOD: 0x90,
  BPF_XOR: 0xa0,
  BPF_MOV: 0xb0,
  BPF_ARSH: 0xc0,
} as const;

/** An ALU operation name. */
export type BpfAluOpName = keyof typeof BpfAluOp;

/** Jump operations (`BPF_OP` of BPF_JMP/BPF_JMP32). */
export const BpfJmpOp = {
  BPF_JA: 0x00,
  BPF_JEQ: 0x10,
  BPF_JGT: 0x20,
  BPF_JGE: 0x30,
  BPF_JSET: 0x40,
  BPF_JNE: 0x50,
  BPF_JSGT: 0x60,
  BPF_JSGE: 0x70,
  BPF_CALL: 0x80,
  BPF_EXIT: 0x90,
  BPF_JLT: 0xa0,
  BPF_JLE: 0xb0,
  BPF_JSLT: 0xc0,
  BPF_JSLE: 0xd0,
} as const;

/** A conditional jump operation name. */
export type BpfCondName = Exclude<keyof typeof BpfJmpOp, "BPF_JA" | "BPF_CALL" | "BPF_EXIT">;

/** Operand source (`BPF_SRC`): the immediate, or the source register. */
export const BpfSrc = {
  BPF_K: 0x00,
  BPF_X: 0x08,
} as const;

/**
 * Registers: r0 return value, r1-r5 arguments (clobbered by calls), r6-r9 kept across calls, r10 the
 * read-only frame pointer.
 */
export const Reg = {
  R0: 0,
  R1: 1,
  R2: 2,
  R3: 3,
  R4: 4,
  R5: 5,
  R6: 6,
  R7: 7,
  R8: 8,
  R9: 9,
  R10: 10,
} as const;

/** A register number. */
export type RegNumber = typeof Reg[keyof typeof Reg];

/** The frame pointer's name in the kernel's macros (`BPF_REG_FP`). */
export const FP = Reg.R10;

/** `sizeof(struct bpf_insn)`. */
export const INSN_SIZE = 8;

/** One instruction's fields. */
export interface BpfInsn {
  /** `code`: class | size | mode, or class | op | source. */
  code: number;
  /** `dst_reg`. */
  dst: number;
  /** `src_reg`. */
  src: number;
  /** `off` (signed 16-bit). */
  off: number;
  /** `imm` (signed 32-bit). */
  imm: number;
}

const S16 = [-0x8000, 0x7fff] as const;
const S32 = [-0x80000000, 0x7fffffff] as const;
const MAX_REG = 10;

function checkRange(value: number, [low, high]: readonly [number, number], what: string): void {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new RangeError(`BPF ${what} ${value} is outside ${low}..${high}`);
  }
}

/** Encodes one instruction into `out` at `offset`. @throws {RangeError} for fields out of range */
export function encodeInsn(insn: BpfInsn, out: Uint8Array, offset = 0): void {
  checkRange(insn.code, [0, 0xff], "opcode");
  checkRange(insn.dst, [0, MAX_REG], "dst_reg");
  checkRange(insn.src, [0, MAX_REG], "src_reg");
  checkRange(insn.off, S16, "off");
  checkRange(insn.imm, S32, "imm");
  out[offset] = insn.code;
  out[offset + 1] = (insn.src << 4) | insn.dst;
  out[offset + 2] = insn.off & 0xff;
  out[offset + 3] = (insn.off >> 8) & 0xff;
  for (let byte = 0; byte < 4; byte++) out[offset + 4 + byte] = (insn.imm >> (8 * byte)) & 0xff;
}

/** Decodes the instruction at `offset`. */
export function decodeInsn(bytes: Uint8Array, offset = 0): BpfInsn {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, INSN_SIZE);
  const regs = v.getUint8(1);
  return {
    code: v.getUint8(0),
    dst: regs & 0xf,
    src: regs >> 4,
    off: v.getInt16(2, true),
    imm: v.getInt32(4, true),
  };
}

/** A jump's target before assembly. */
type Pending = BpfInsn & { label?: string };

/**
 * Builds a program instruction by instruction; jumps name a label that {@link Assembler.label} places later
 * (or earlier). {@link Assembler.assemble} resolves them and encodes.
 *
 * The methods follow the kernel's `include/linux/filter.h` macros: `mov64Imm` is `BPF_MOV64_IMM`,
 * `ldxMem` is `BPF_LDX_MEM`, and so on.
 */
export class Assembler {
  readonly #insns: Pending[] = [];
  readonly #labels = new Map<string, number>();

  /** Number of instructions so far. */
  get length(): number {
    return this.#insns.length;
  }

  /** Places `name` at the next instruction. @throws {Error} when the label is placed twice */
  label(name: string): this {
    if (this.#labels.has(name)) throw new Error(`BPF label ${name} placed twice`);
    this.#labels.set(name, this.#insns.length);
    return this;
  }

  /** `BPF_MOV64_IMM(dst, imm)`: dst = imm (sign-extended to 64 bits). */
  mov64Imm(dst: RegNumber, imm: number): this {
    return this.#push(BpfClass.BPF_ALU64 | BpfAluOp.BPF_MOV | BpfSrc.BPF_K, dst, 0, 0, imm);
  }

  /** `BPF_MOV64_REG(dst, src)`: dst = src. */
  mov64Reg(dst: RegNumber, src: RegNumber): this {
    return this.#push(BpfClass.BPF_ALU64 | BpfAluOp.BPF_MOV | BpfSrc.BPF_X, dst, src, 0, 0);
  }

  /** `BPF_ALU64_IMM(op, dst, imm)`: dst = dst op imm. */
  alu64Imm(op: BpfAluOpName, dst: RegNumber, imm: number): this {
    return this.#push(BpfClass.BPF_ALU64 | BpfAluOp[op] | BpfSrc.BPF_K, dst, 0, 0, imm);
  }

  /** `BPF_ALU64_REG(op, dst, src)`: dst = dst op src. */
  alu64Reg(op: BpfAluOpName, dst: RegNumber, src: RegNumber): this {
    return this.#push(BpfClass.BPF_ALU64 | BpfAluOp[op] | BpfSrc.BPF_X, dst, src, 0, 0);
  }

  /** `BPF_LDX_MEM(size, dst, src, off)`: dst = *(size *)(src + off). */
  ldxMem(size: BpfSizeName, dst: RegNumber, src: RegNumber, off: number): this {
    return this.#push(BpfClass.BPF_LDX | BpfSize[size] | BpfMode.BPF_MEM, dst, src, off, 0);
  }

  /** `BPF_STX_MEM(size, dst, src, off)`: *(size *)(dst + off) = src. */
  stxMem(size: BpfSizeName, dst: RegNumber, src: RegNumber, off: number): this {
    return this.#push(BpfClass.BPF_STX | BpfSize[size] | BpfMode.BPF_MEM, dst, src, off, 0);
  }

  /** `BPF_ST_MEM(size, dst, off, imm)`: *(size *)(dst + off) = imm. */
  stMem(size: BpfSizeName, dst: RegNumber, off: number, imm: number): this {
    return this.#push(BpfClass.BPF_ST | BpfSize[size] | BpfMode.BPF_MEM, dst, 0, off, imm);
  }

  /** `BPF_JMP_IMM(op, dst, imm, label)`: if (dst op imm) goto label. */
  jmpImm(op: BpfCondName, dst: RegNumber, imm: number, label: string): this {
    return this.#push(BpfClass.BPF_JMP | BpfJmpOp[op] | BpfSrc.BPF_K, dst, 0, 0, imm, label);
  }

  /** `BPF_JMP_REG(op, dst, src, label)`: if (dst op src) goto label. */
  jmpReg(op: BpfCondName, dst: RegNumber, src: RegNumber, label: string): this {
    return this.#push(BpfClass.BPF_JMP | BpfJmpOp[op] | BpfSrc.BPF_X, dst, src, 0, 0, label);
  }

  /** `BPF_JMP_A(label)`: goto label. */
  ja(label: string): this {
    return this.#push(BpfClass.BPF_JMP | BpfJmpOp.BPF_JA, 0, 0, 0, 0, label);
  }

  /** `BPF_EMIT_CALL(helper)`: r0 = helper(r1, ..., r5), clobbering r1-r5. */
  call(helper: number): this {
    return this.#push(BpfClass.BPF_JMP | BpfJmpOp.BPF_CALL, 0, 0, 0, helper);
  }

  /** `BPF_EXIT_INSN()`: return r0. */
  exit(): this {
    return this.#push(BpfClass.BPF_JMP | BpfJmpOp.BPF_EXIT, 0, 0, 0, 0);
  }

  /**
   * The encoded program: jump offsets resolved (relative to the next instruction).
   * @throws {Error} for a label never placed; {@link RangeError} for a field out of range
   */
  assemble(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.#insns.length * INSN_SIZE);
    for (const [index, { label, ...insn }] of this.#insns.entries()) {
      if (label !== undefined) {
        const target = this.#labels.get(label);
        if (target === undefined) throw new Error(`BPF label ${label} is never placed`);
        insn.off = target - (index + 1);
      }
      encodeInsn(insn, out, index * INSN_SIZE);
    }
    return out;
  }

  #push(code: number, dst: number, src: number, off: number, imm: number, label?: string): this {
    this.#insns.push(
      label === undefined ? { code, dst, src, off, imm } : { code, dst, src, off, imm, label },
    );
    return this;
  }
}
