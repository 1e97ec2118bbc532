/**
 * Every dma-buf of the system without debugfs: the kernel's BPF iterator `iter/dmabuf`
 * (`kernel/bpf/dmabuf_iter.c`, Linux 6.16+) running a small program the tool assembles itself, with the
 * offsets it reads resolved by name from the running kernel's BTF (`/sys/kernel/btf/vmlinux`). Nothing outside
 * the tool is needed: no libbpf, clang, bpftool or headers.
 *
 * The program runs once per buffer (`ctx->dmabuf`), while the iterator holds a reference to the buffer's file,
 * and writes one buffer record and one record per attached device ({@link parseRecords}, `dmabuf_record.ts`)
 * with `bpf_seq_write`; strings are read with `bpf_probe_read_kernel_str`, the attachment list walked with
 * `bpf_probe_read_kernel` up to {@link MAX_ATTACHMENTS} devices. Like bufinfo's, the list is walked without
 * `dma_resv_lock` and the name without `name_lock` (a BPF program cannot take them): a buffer renamed or
 * attached in that instant may show the old or the new state, never a fault.
 * @module
 */

import { SyscallError } from "../errno.ts";
import { type Fd, fstat, openPath, readProcSysFile, readToEnd } from "../fd.ts";
import { Mapping } from "../mapping.ts";
import { BpfAttachType, BpfFunc, BpfProgType } from "./attr.ts";
import { Btf, BtfError, BtfKind, byteOffset, VMLINUX_BTF_PATH } from "./btf.ts";
import {
  AttachmentRecord,
  AttachmentStatus,
  BufferRecord,
  DEVICE_NAME_CAPACITY,
  EXP_NAME_CAPACITY,
  type IteratedBuffer,
  NAME_CAPACITY,
  parseRecords,
  RECORD_MAGIC,
  RECORD_VERSION,
  RecordKind,
} from "./dmabuf_record.ts";
import { Assembler, type BpfSizeName, FP, Reg } from "./insn.ts";
import { createIterator, createLink, loadProgram, VerifierError } from "./syscall.ts";

/** The BTF function an `iter/dmabuf` program attaches to (`DEFINE_BPF_ITER_FUNC(dmabuf, ...)`). */
export const ITER_FUNC = "bpf_iter_dmabuf";
/** The first release with `iter/dmabuf`. */
export const ITER_SINCE = "6.16";
/** Attached devices listed per buffer; the program stops there and says so (bufinfo has no bound). */
export const MAX_ATTACHMENTS = 16;
/**
 * The license the program declares: the tool's own (MIT), dual-licensed as the kernel wants for the GPL-only
 * helpers it calls (`bpf_seq_write`, `bpf_probe_read_kernel*`).
 */
export const PROGRAM_LICENSE = "Dual MIT/GPL";
/** The program's name as `bpftool prog` shows it. */
export const PROGRAM_NAME = "dmabuf_iter";
/** Present exactly when the kernel has the bpf() syscall (`CONFIG_BPF_SYSCALL`): its sysctl. */
export const UNPRIVILEGED_BPF_SYSCTL = "/proc/sys/kernel/unprivileged_bpf_disabled";
/** The kernel's lockdown state (`[none] integrity confidentiality`). */
const LOCKDOWN_PATH = "/sys/kernel/security/lockdown";

/** Why the iterator cannot be used here. */
export type BpfMissing =
  | "bpf-syscall"
  | "btf"
  | "iterator"
  | "btf-layout"
  | "privilege"
  | "verifier"
  | "failed";

/** The iterator cannot be used here: which piece is missing, in one line. */
export class BpfUnavailable extends Error {
  /** Which piece is missing. */
  readonly missing: BpfMissing;
  /** The verifier's log, when it refused the program. */
  readonly log: string | null;

  /** Makes the error. */
  constructor(missing: BpfMissing, message: string, options: { log?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BpfUnavailable";
    this.missing = missing;
    this.log = options.log ?? null;
  }
}

/** A load of a field: byte offset and width. */
export interface FieldLoad {
  /** Byte offset in its struct. */
  offset: number;
  /** Load width. */
  size: BpfSizeName;
}

/**
 * Where the program reads, resolved from BTF. Offsets are bytes from the start of the named struct.
 */
export interface DmabufIterLayout {
  /** The BTF id of FUNC `bpf_iter_dmabuf` (`attach_btf_id`). */
  attachBtfId: number;
  /** Context offsets of `meta` and `dmabuf` (tracing context: argument i at i * 8). */
  ctx: { meta: number; dmabuf: number };
  /** `struct bpf_iter_meta`: `seq`. */
  metaSeq: number;
  /** `struct dma_buf`. */
  dmabuf: { size: FieldLoad; file: number; expName: number; name: number; attachments: number };
  /** `struct file`: `f_inode`, `f_flags`, `f_mode`, and its reference counter. */
  file: { inode: number; flags: FieldLoad; mode: FieldLoad; ref: FieldLoad };
  /**
   * How the counter reads: `f_ref` (`file_ref_t`, 6.13+) holds references - 1, `f_count` (`atomic_long_t`)
   * holds references.
   */
  refKind: "f_ref" | "f_count";
  /** `struct inode`: `i_ino`. */
  inodeIno: FieldLoad;
  /** `struct list_head`: `next`. */
  listNext: number;
  /** `struct dma_buf_attachment`: `node`, `dev`. */
  attachment: { node: number; dev: number };
  /** `struct device`: `init_name`, `kobj.name` (what `dev_name()` reads). */
  device: { initName: number; kobjName: number };
}

const LOAD_SIZE: Readonly<Record<number, BpfSizeName>> = { 1: "BPF_B", 2: "BPF_H", 4: "BPF_W", 8: "BPF_DW" };
/** A tracing program's context is an array of u64 arguments. */
const CTX_ARG_SIZE = 8;
/** Pointers on LP64. */
const POINTER_SIZE = 8;

/** `uname -r`, or `unknown` without permission to ask. */
function kernelRelease(): string {
  try {
    return Deno.osRelease();
  } catch {
    return "unknown";
  }
}

/** The clause every kernel-side refusal ends with. */
export function versionClause(release: string = kernelRelease()): string {
  return `iter/dmabuf needs Linux ${ITER_SINCE}+; this kernel is ${release}`;
}

/** The structs {@link resolveLayout} reads members of. */
const LAYOUT_STRUCTS = [
  "bpf_iter_meta",
  "dma_buf",
  "file",
  "inode",
  "list_head",
  "dma_buf_attachment",
  "device",
] as const;

/**
 * Resolves what the program reads from `btf`.
 * @throws {BpfUnavailable} `iterator` when there is no `bpf_iter_dmabuf`, `btf-layout` when a struct or member
 * is missing or not what the program can read
 */
export function resolveLayout(btf: Btf): DmabufIterLayout {
  const [func, ...ids] = btf.findEach([
    [BtfKind.BTF_KIND_FUNC, ITER_FUNC],
    ...LAYOUT_STRUCTS.map((name) => [BtfKind.BTF_KIND_STRUCT, name] as const),
  ]);
  if (func === null || func === undefined) {
    throw new BpfUnavailable("iterator", `this kernel's BTF has no ${ITER_FUNC} (${versionClause()})`);
  }
  try {
    const struct = (name: typeof LAYOUT_STRUCTS[number]) => {
      const id = ids[LAYOUT_STRUCTS.indexOf(name)];
      if (id === null || id === undefined) throw new BtfError(`no struct ${name}`);
      return id;
    };
    const offset = (id: number, path: string[]) => byteOffset(btf.memberPath(id, path), path.join("."));
    const pointer = (id: number, path: string[]) => {
      const location = btf.memberPath(id, path);
      if (btf.kindOf(btf.resolve(location.type)) !== BtfKind.BTF_KIND_PTR) {
        throw new BtfError(`${path.join(".")} is not a pointer`);
      }
      return byteOffset(location, path.join("."));
    };
    const load = (id: number, path: string[]): FieldLoad => {
      const location = btf.memberPath(id, path);
      const bytes = btf.sizeOf(location.type);
      const size = LOAD_SIZE[bytes];
      if (size === undefined) throw new BtfError(`${path.join(".")} is ${bytes} bytes: not a load width`);
      return { offset: byteOffset(location, path.join(".")), size };
    };
    const params = btf.params(func);
    const argument = (name: string) => {
      const index = params.findIndex((p) => p.name === name);
      if (index === -1) throw new BtfError(`${ITER_FUNC} has no parameter ${name}`);
      return index * CTX_ARG_SIZE;
    };
    const dmaBuf = struct("dma_buf");
    const file = struct("file");
    const hasRef = btf.hasMember(file, "f_ref");
    return {
      attachBtfId: func,
      ctx: { meta: argument("meta"), dmabuf: argument("dmabuf") },
      metaSeq: pointer(struct("bpf_iter_meta"), ["seq"]),
      dmabuf: {
        size: load(dmaBuf, ["size"]),
        file: pointer(dmaBuf, ["file"]),
        expName: pointer(dmaBuf, ["exp_name"]),
        name: pointer(dmaBuf, ["name"]),
        attachments: offset(dmaBuf, ["attachments"]),
      },
      file: {
        inode: pointer(file, ["f_inode"]),
        flags: load(file, ["f_flags"]),
        mode: load(file, ["f_mode"]),
        ref: hasRef ? load(file, ["f_ref", "refcnt", "counter"]) : load(file, ["f_count", "counter"]),
      },
      refKind: hasRef ? "f_ref" : "f_count",
      inodeIno: load(struct("inode"), ["i_ino"]),
      listNext: pointer(struct("list_head"), ["next"]),
      attachment: {
        node: offset(struct("dma_buf_attachment"), ["node"]),
        dev: pointer(struct("dma_buf_attachment"), ["dev"]),
      },
      device: {
        initName: pointer(struct("device"), ["init_name"]),
        kobjName: pointer(struct("device"), ["kobj", "name"]),
      },
    };
  } catch (error) {
    if (!(error instanceof BtfError)) throw error;
    throw new BpfUnavailable(
      "btf-layout",
      `this kernel's BTF does not fit dmabuf's iterator: ${error.message}`,
      {
        cause: error,
      },
    );
  }
}

/** Frame offsets (negative, from r10) of the records the program builds on its 512-byte stack. */
const STACK = {
  buffer: -BufferRecord.SIZE,
  attachment: -BufferRecord.SIZE - AttachmentRecord.SIZE,
  scratch: -BufferRecord.SIZE - AttachmentRecord.SIZE - 8,
} as const;

/** The second word of a record header: version, kind and length. */
function headerWord(kind: number, length: number): number {
  return RECORD_VERSION | (kind << 8) | (length << 16);
}

/**
 * The program: per buffer, a buffer record, then its attachments. r6 = `seq`, r7 = `dmabuf` (then the
 * current device), r8 = the current list node, r9 = the list head's address.
 */
export function assembleProgram(layout: DmabufIterLayout): Uint8Array<ArrayBuffer> {
  const a = new Assembler();
  const { R0, R1, R2, R3, R6, R7, R8, R9 } = Reg;
  const buf = STACK.buffer;
  const att = STACK.attachment;
  const zero = (base: number, bytes: number) => {
    for (let at = 0; at < bytes; at += 8) a.stMem("BPF_DW", FP, base + at, 0);
  };
  /** r1 = fp + `slot`, r2 = `size` (r3 is the source): the first two arguments of a read helper. */
  const readInto = (slot: number, size: number) =>
    a.mov64Reg(R1, FP).alu64Imm("BPF_ADD", R1, slot).mov64Imm(R2, size);
  /** *scratch = *(u64 *)(r3); stops the walk at `unreadable` on a fault. r3 is set by the caller. */
  const probe = () => {
    readInto(STACK.scratch, POINTER_SIZE).call(BpfFunc.BPF_FUNC_probe_read_kernel);
    a.jmpImm("BPF_JNE", R0, 0, "unreadable");
  };
  const writeRecord = (base: number, size: number) =>
    a.mov64Reg(R1, R6).mov64Reg(R2, FP).alu64Imm("BPF_ADD", R2, base).mov64Imm(R3, size)
      .call(BpfFunc.BPF_FUNC_seq_write);

  // The buffer, or the end of the iteration (a last call with ctx->dmabuf == NULL).
  a.ldxMem("BPF_DW", R7, R1, layout.ctx.dmabuf);
  a.jmpImm("BPF_JEQ", R7, 0, "out");
  a.ldxMem("BPF_DW", R6, R1, layout.ctx.meta);
  a.ldxMem("BPF_DW", R6, R6, layout.metaSeq);

  zero(buf, BufferRecord.SIZE);
  a.stMem("BPF_W", FP, buf, RECORD_MAGIC);
  a.stMem("BPF_W", FP, buf + 4, headerWord(RecordKind.BUFFER, BufferRecord.SIZE));
  const { dmabuf, file } = layout;
  a.ldxMem(dmabuf.size.size, R1, R7, dmabuf.size.offset).stxMem(
    "BPF_DW",
    FP,
    R1,
    buf + BufferRecord.SIZE_FIELD,
  );
  a.ldxMem("BPF_DW", R8, R7, dmabuf.file);
  a.ldxMem(file.flags.size, R1, R8, file.flags.offset).stxMem("BPF_W", FP, R1, buf + BufferRecord.FLAGS);
  a.ldxMem(file.mode.size, R1, R8, file.mode.offset).stxMem("BPF_W", FP, R1, buf + BufferRecord.MODE);
  a.ldxMem(file.ref.size, R1, R8, file.ref.offset).stxMem("BPF_DW", FP, R1, buf + BufferRecord.FILE_REF);
  a.ldxMem("BPF_DW", R1, R8, file.inode);
  a.ldxMem(layout.inodeIno.size, R1, R1, layout.inodeIno.offset);
  a.stxMem("BPF_DW", FP, R1, buf + BufferRecord.INODE);

  a.ldxMem("BPF_DW", R3, R7, dmabuf.expName);
  readInto(buf + BufferRecord.EXP_NAME, EXP_NAME_CAPACITY).call(BpfFunc.BPF_FUNC_probe_read_kernel_str);
  a.stxMem("BPF_W", FP, R0, buf + BufferRecord.EXP_NAME_LEN);
  a.ldxMem("BPF_DW", R3, R7, dmabuf.name);
  a.jmpImm("BPF_JEQ", R3, 0, "unnamed");
  readInto(buf + BufferRecord.NAME, NAME_CAPACITY).call(BpfFunc.BPF_FUNC_probe_read_kernel_str);
  a.stxMem("BPF_W", FP, R0, buf + BufferRecord.NAME_LEN);
  a.label("unnamed");
  writeRecord(buf, BufferRecord.SIZE);

  // The attachments: r9 = &dmabuf->attachments, r8 = its first node.
  zero(att, AttachmentRecord.SIZE);
  a.stMem("BPF_W", FP, att, RECORD_MAGIC);
  a.stMem("BPF_W", FP, att + 4, headerWord(RecordKind.ATTACHMENT, AttachmentRecord.SIZE));
  a.mov64Reg(R9, R7).alu64Imm("BPF_ADD", R9, dmabuf.attachments);
  a.mov64Reg(R3, R9).alu64Imm("BPF_ADD", R3, layout.listNext);
  probe();
  a.ldxMem("BPF_DW", R8, FP, STACK.scratch);
  const { attachment, device } = layout;
  for (let i = 0; i < MAX_ATTACHMENTS; i++) {
    a.jmpReg("BPF_JEQ", R8, R9, "out");
    // r7 = container_of(node, struct dma_buf_attachment, node)->dev
    a.mov64Reg(R3, R8).alu64Imm("BPF_ADD", R3, attachment.dev - attachment.node);
    probe();
    a.ldxMem("BPF_DW", R7, FP, STACK.scratch);
    // dev_name(): init_name until device_add() clears it, then kobj.name.
    a.mov64Reg(R3, R7).alu64Imm("BPF_ADD", R3, device.initName);
    probe();
    a.ldxMem("BPF_DW", R3, FP, STACK.scratch);
    a.jmpImm("BPF_JNE", R3, 0, `named${i}`);
    a.mov64Reg(R3, R7).alu64Imm("BPF_ADD", R3, device.kobjName);
    probe();
    a.ldxMem("BPF_DW", R3, FP, STACK.scratch);
    a.label(`named${i}`);
    zero(att + AttachmentRecord.NAME, DEVICE_NAME_CAPACITY);
    readInto(att + AttachmentRecord.NAME, DEVICE_NAME_CAPACITY).call(BpfFunc.BPF_FUNC_probe_read_kernel_str);
    a.stxMem("BPF_W", FP, R0, att + AttachmentRecord.NAME_LEN);
    a.stMem("BPF_W", FP, att + AttachmentRecord.STATUS, AttachmentStatus.DEVICE);
    writeRecord(att, AttachmentRecord.SIZE);
    a.mov64Reg(R3, R8).alu64Imm("BPF_ADD", R3, layout.listNext);
    probe();
    a.ldxMem("BPF_DW", R8, FP, STACK.scratch);
  }
  a.jmpReg("BPF_JEQ", R8, R9, "out");
  const endOfList = (status: number) => {
    zero(att + AttachmentRecord.NAME, DEVICE_NAME_CAPACITY);
    a.stMem("BPF_W", FP, att + AttachmentRecord.NAME_LEN, 0);
    a.stMem("BPF_W", FP, att + AttachmentRecord.STATUS, status);
    writeRecord(att, AttachmentRecord.SIZE);
  };
  endOfList(AttachmentStatus.LIST_TRUNCATED);
  a.ja("out");
  a.label("unreadable");
  endOfList(AttachmentStatus.LIST_UNREADABLE);
  a.label("out");
  a.mov64Imm(R0, 0).exit();
  return a.assemble();
}

/** One dma-buf from the iterator, in the units bufinfo uses. */
export interface BpfDmabuf {
  /** Inode number. */
  inode: number;
  /** Size in bytes. */
  size: number;
  /** Exporter name; null when it could not be read. */
  exporter: string | null;
  /** Name; null when unnamed, or when it could not be read (see `nameUnreadable`). */
  name: string | null;
  /** Whether the name could not be read (freed by a rename in that instant). */
  nameUnreadable: boolean;
  /** References to the buffer's file as bufinfo counts them (`file_count()`); null when out of range. */
  count: number | null;
  /** `f_flags`. */
  flags: number;
  /** `f_mode`. */
  mode: number;
  /** Attached devices; null when the walk could not finish (more than {@link MAX_ATTACHMENTS}, or a fault). */
  attachments: string[] | null;
}

/** bufinfo's `file_count()` from the raw counter the program read (the iterator's own reference in it). */
export function bufinfoCount(raw: bigint, refKind: DmabufIterLayout["refKind"]): number | null {
  // file_ref_t holds references - 1 (file_ref_read() adds one); atomic_long_t f_count holds references. Either
  // way the iterator's own reference is one of them.
  const count = refKind === "f_ref" ? raw : raw - 1n;
  return count < 0n || count > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(count);
}

function toDmabuf(record: IteratedBuffer, layout: DmabufIterLayout): BpfDmabuf {
  return {
    inode: record.inode,
    size: record.size,
    exporter: record.exporter,
    name: record.name,
    nameUnreadable: record.nameUnreadable,
    count: bufinfoCount(record.fileRef, layout.refKind),
    flags: record.flags,
    mode: record.mode,
    attachments: record.attachmentsComplete ? record.attachments : null,
  };
}

/** What reading the BTF costs and finds, kept for the process (BTF does not change while the kernel runs). */
let cached: { layout: DmabufIterLayout; program: Uint8Array<ArrayBuffer> } | null = null;

/**
 * The kernel's BTF: mapped where the kernel allows it (6.16+ maps `/sys/kernel/btf/vmlinux` read-only and
 * private) and copied once, else read; sysfs hands it out 4 KiB per read(2), which costs more than the
 * copy (1,343 reads for 5.4 MB).
 * @throws {SyscallError} ENOENT without BTF
 */
function readVmlinuxBtf(): Uint8Array {
  using file = openPath(VMLINUX_BTF_PATH);
  const size = Number(fstat(file.fd, VMLINUX_BTF_PATH).size);
  try {
    using mapping = Mapping.map(file, size, { private: true });
    return mapping.read();
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    return readToEnd(file, size);
  }
}

/**
 * The layout and program for this kernel, from its BTF.
 * @throws {BpfUnavailable} `bpf-syscall` / `btf` naming every missing piece with the version clause,
 * `iterator`, `btf-layout`
 */
function prepare(): { layout: DmabufIterLayout; program: Uint8Array<ArrayBuffer> } {
  if (cached !== null) return cached;
  const missing: string[] = [];
  if (unprivilegedBpf() === null) missing.push("no bpf() syscall (CONFIG_BPF_SYSCALL)");
  let bytes: Uint8Array | null = null;
  try {
    bytes = readVmlinuxBtf();
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    if (!error.is("ENOENT")) {
      throw new BpfUnavailable("btf", `cannot read ${VMLINUX_BTF_PATH}: ${error.message}`, { cause: error });
    }
    missing.push(`no BTF (${VMLINUX_BTF_PATH}; CONFIG_DEBUG_INFO_BTF)`);
  }
  if (missing.length > 0 || bytes === null) {
    throw new BpfUnavailable(
      missing[0]!.startsWith("no bpf") ? "bpf-syscall" : "btf",
      `this kernel has ${missing.join(" and ")} (${versionClause()})`,
    );
  }
  let btf: Btf;
  try {
    btf = Btf.parse(bytes);
  } catch (error) {
    if (!(error instanceof BtfError)) throw error;
    throw new BpfUnavailable("btf", `${VMLINUX_BTF_PATH} cannot be read as BTF: ${error.message}`, {
      cause: error,
    });
  }
  const layout = resolveLayout(btf);
  cached = { layout, program: assembleProgram(layout) };
  return cached;
}

/** The lockdown level when it forbids BPF reads of kernel memory, else null. */
function confidentialityLockdown(): string | null {
  try {
    return /\[confidentiality\]/.test(readProcSysFile(LOCKDOWN_PATH)) ? "confidentiality" : null;
  } catch {
    return null;
  }
}

/** `kernel.unprivileged_bpf_disabled`; null when the sysctl does not exist (no bpf() syscall). */
function unprivilegedBpf(): string | null {
  try {
    return readProcSysFile(UNPRIVILEGED_BPF_SYSCTL).trim();
  } catch {
    return null;
  }
}

/**
 * The one-line refusal for a failed load, link or iterator creation (`step` says which), with the piece it
 * shows missing; errors that are not the kernel's answer are returned unchanged.
 */
export function unavailableFrom(error: unknown, step: string): unknown {
  if (error instanceof VerifierError) {
    const lockdown = confidentialityLockdown();
    const why = lockdown !== null
      ? `; the kernel is locked down (${lockdown}), which forbids BPF reads of kernel memory`
      : "";
    return new BpfUnavailable(
      "verifier",
      `the BPF verifier rejected dmabuf's iterator program (${error.code}): ${
        error.reason || "no log"
      }${why}`,
      { log: error.log, cause: error },
    );
  }
  if (!(error instanceof SyscallError)) return error;
  if (error.is("EPERM") || error.is("EACCES")) {
    return new BpfUnavailable(
      "privilege",
      `${step} needs CAP_BPF and CAP_PERFMON (${error.code}; kernel.unprivileged_bpf_disabled=${
        unprivilegedBpf() ?? "?"
      })`,
      { cause: error },
    );
  }
  if (error.is("ENOSYS")) {
    return new BpfUnavailable(
      "bpf-syscall",
      `this kernel has no bpf() syscall (ENOSYS; ${versionClause()})`,
      {
        cause: error,
      },
    );
  }
  return new BpfUnavailable("failed", `${step} failed: ${error.message}`, { cause: error });
}

/**
 * The loaded program and its iterator link. Each {@link DmabufIterator.read} runs the program over the
 * buffers that exist at that moment; dispose closes the link and the program (idempotent).
 */
export class DmabufIterator implements Disposable {
  readonly #program: Fd;
  readonly #link: Fd;
  /** What the program reads, from this kernel's BTF. */
  readonly layout: DmabufIterLayout;
  /** Instructions in the program. */
  readonly instructions: number;

  private constructor(program: Fd, link: Fd, layout: DmabufIterLayout, instructions: number) {
    this.#program = program;
    this.#link = link;
    this.layout = layout;
    this.instructions = instructions;
  }

  /**
   * Prepares (BTF, once per process), loads and links the program.
   * @throws {BpfUnavailable} naming what is missing
   */
  static open(): DmabufIterator {
    const { layout, program } = prepare();
    let prog: Fd;
    try {
      prog = loadProgram({
        progType: BpfProgType.BPF_PROG_TYPE_TRACING,
        expectedAttachType: BpfAttachType.BPF_TRACE_ITER,
        attachBtfId: layout.attachBtfId,
        insns: program,
        license: PROGRAM_LICENSE,
        name: PROGRAM_NAME,
      });
    } catch (error) {
      throw unavailableFrom(error, "loading a BPF program");
    }
    try {
      let link: Fd;
      try {
        link = createLink(prog, BpfAttachType.BPF_TRACE_ITER);
      } catch (error) {
        throw unavailableFrom(error, `attaching to ${ITER_FUNC} (BPF_LINK_CREATE)`);
      }
      return new DmabufIterator(prog, link, layout, program.length / 8);
    } catch (error) {
      prog[Symbol.dispose]();
      throw error;
    }
  }

  /**
   * Runs the iterator once: every dma-buf that exists now, in the kernel's list order (bufinfo's).
   * @throws {BpfUnavailable} when the iterator cannot be created or read; {@link RecordError} on a malformed
   * record (a bug)
   */
  read(): BpfDmabuf[] {
    let iterator: Fd;
    try {
      iterator = createIterator(this.#link);
    } catch (error) {
      throw unavailableFrom(error, "creating the iterator (BPF_ITER_CREATE)");
    }
    let bytes: Uint8Array;
    try {
      bytes = readToEnd(iterator);
    } catch (error) {
      throw unavailableFrom(error, "reading the iterator");
    } finally {
      iterator[Symbol.dispose]();
    }
    return parseRecords(bytes).map((record) => toDmabuf(record, this.layout));
  }

  /** Closes the link and the program; closing again does nothing. */
  [Symbol.dispose](): void {
    this.#link[Symbol.dispose]();
    this.#program[Symbol.dispose]();
  }
}

/**
 * Every dma-buf of the system through `iter/dmabuf`: prepare, load, link, read once, close.
 * @throws {BpfUnavailable} naming what is missing
 */
export function readDmabufsWithBpf(): BpfDmabuf[] {
  using iterator = DmabufIterator.open();
  return iterator.read();
}

/** Whether `iter/dmabuf` works here, for a report (`dmabuf doctor`): never throws. */
export type BpfIteratorStatus =
  | {
    /** It loads and reads. */
    available: true;
    /** `uname -r`. */
    kernel: string;
    /** Buffers it listed just now. */
    buffers: number;
    /** Instructions in dmabuf's program. */
    instructions: number;
  }
  | {
    /** It does not. */
    available: false;
    /** `uname -r`. */
    kernel: string;
    /** Which piece is missing. */
    missing: BpfMissing;
    /** One line naming it (with the version where the kernel is the reason). */
    reason: string;
    /** The verifier's log when it refused the program, else null. */
    log: string | null;
  };

/**
 * Probes `iter/dmabuf` as `stat --source bpf` would use it: loads the program, reads the buffers once, closes
 * everything. Never throws for a missing piece; says which.
 */
export function bpfIteratorStatus(): BpfIteratorStatus {
  const kernel = kernelRelease();
  try {
    using iterator = DmabufIterator.open();
    const buffers = iterator.read().length;
    return { available: true, kernel, buffers, instructions: iterator.instructions };
  } catch (error) {
    if (error instanceof BpfUnavailable) {
      return { available: false, kernel, missing: error.missing, reason: error.message, log: error.log };
    }
    return { available: false, kernel, missing: "failed", reason: (error as Error).message, log: null };
  }
}
