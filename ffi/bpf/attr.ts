/**
 * The `bpf(2)` interface the iterator source uses: command, program-type, attach-type and helper numbers, and
 * codecs for the `union bpf_attr` members of `BPF_PROG_LOAD`, `BPF_LINK_CREATE` and `BPF_ITER_CREATE`
 * (`include/uapi/linux/bpf.h`; little-endian LP64). The values are stable ABI; a host test compares them
 * with the running kernel's own BTF (`enum bpf_cmd`, `union bpf_attr`, ...).
 * @module
 */

/** `enum bpf_cmd` values used here. */
export const BpfCmd = {
  BPF_PROG_LOAD: 5,
  BPF_LINK_CREATE: 28,
  BPF_ITER_CREATE: 33,
} as const;

/** A command name of {@link BpfCmd}. */
export type BpfCmdName = keyof typeof BpfCmd;

/** `enum bpf_prog_type` values used here. */
export const BpfProgType = {
  BPF_PROG_TYPE_TRACING: 26,
} as const;

/** `enum bpf_attach_type` values used here. */
export const BpfAttachType = {
  BPF_TRACE_ITER: 28,
} as const;

/** `enum bpf_func_id` (helper numbers) used here. */
export const BpfFunc = {
  BPF_FUNC_probe_read_kernel: 113,
  BPF_FUNC_probe_read_kernel_str: 115,
  BPF_FUNC_seq_write: 127,
} as const;

/** `BPF_OBJ_NAME_LEN`: a program name with its NUL. */
export const BPF_OBJ_NAME_LEN = 16;

/** Verifier log levels (`BPF_LOG_LEVEL1`: the instructions it walked and why it stopped). */
export const BPF_LOG_LEVEL1 = 1;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** What {@link BpfProgLoadAttr} encodes. */
export interface ProgLoad {
  /** `prog_type`. */
  progType: number;
  /** `insn_cnt`: instructions (8 bytes each). */
  insnCnt: number;
  /** `insns`: address of the instructions. */
  insns: bigint;
  /** `license`: address of a NUL-terminated license string. */
  license: bigint;
  /** `log_level` (0 = no log). */
  logLevel: number;
  /** `log_size`: bytes at `logBuf`. */
  logSize: number;
  /** `log_buf`: address of the verifier log buffer (0 = none). */
  logBuf: bigint;
  /** `prog_name` (at most 15 bytes of `[A-Za-z0-9_.]`). */
  progName: string;
  /** `expected_attach_type`. */
  expectedAttachType: number;
  /** `attach_btf_id`: the BTF id of the function a tracing program attaches to. */
  attachBtfId: number;
  /** `attach_btf_obj_fd`: a module's BTF fd, or 0 for vmlinux. */
  attachBtfObjFd: number;
}

/**
 * The `BPF_PROG_LOAD` member of `union bpf_attr` through `log_true_size`: `prog_type` @0, `insn_cnt` @4,
 * `insns` @8, `license` @16, `log_level` @24, `log_size` @28, `log_buf` @32, `kern_version` @40,
 * `prog_flags` @44, `prog_name[16]` @48, `prog_ifindex` @64, `expected_attach_type` @68, `prog_btf_fd` @72,
 * `func_info_rec_size` @76, `func_info` @80, `func_info_cnt` @88, `line_info_rec_size` @92, `line_info` @96,
 * `line_info_cnt` @104, `attach_btf_id` @108, `attach_btf_obj_fd` @112, `core_relo_cnt` @116, `fd_array` @120,
 * `core_relos` @128, `core_relo_rec_size` @136, `log_true_size` @140 (out, 6.4+). A kernel with a shorter
 * `bpf_attr` accepts the extra bytes because they are zero.
 */
export const BpfProgLoadAttr = {
  SIZE: 144,
  /** Offsets, checked against the running kernel's BTF by a host test. */
  OFFSETS: {
    prog_type: 0,
    insn_cnt: 4,
    insns: 8,
    license: 16,
    log_level: 24,
    log_size: 28,
    log_buf: 32,
    prog_name: 48,
    expected_attach_type: 68,
    attach_btf_id: 108,
    attach_btf_obj_fd: 112,
    log_true_size: 140,
  },
  /** Encodes the attribute. @throws {RangeError} when the name does not fit */
  encode(value: ProgLoad): Uint8Array<ArrayBuffer> {
    const o = BpfProgLoadAttr.OFFSETS;
    const bytes = new Uint8Array(BpfProgLoadAttr.SIZE);
    const v = view(bytes);
    v.setUint32(o.prog_type, value.progType, true);
    v.setUint32(o.insn_cnt, value.insnCnt, true);
    v.setBigUint64(o.insns, value.insns, true);
    v.setBigUint64(o.license, value.license, true);
    v.setUint32(o.log_level, value.logLevel, true);
    v.setUint32(o.log_size, value.logSize, true);
    v.setBigUint64(o.log_buf, value.logBuf, true);
    const name = new TextEncoder().encode(value.progName);
    if (name.length >= BPF_OBJ_NAME_LEN) {
      throw new RangeError(`BPF program name "${value.progName}" is ${name.length} bytes: at most 15 fit`);
    }
    bytes.set(name, o.prog_name);
    v.setUint32(o.expected_attach_type, value.expectedAttachType, true);
    v.setUint32(o.attach_btf_id, value.attachBtfId, true);
    v.setUint32(o.attach_btf_obj_fd, value.attachBtfObjFd, true);
    return bytes;
  },
  /** `log_true_size` as the kernel wrote it back (the log's whole length with its NUL; 0 before 6.4). */
  logTrueSize(bytes: Uint8Array): number {
    return view(bytes).getUint32(BpfProgLoadAttr.OFFSETS.log_true_size, true);
  },
} as const;

/** What {@link BpfLinkCreateAttr} encodes. */
export interface LinkCreate {
  /** `prog_fd`. */
  progFd: number;
  /** `target_fd` (0 for an iterator). */
  targetFd: number;
  /** `attach_type`. */
  attachType: number;
  /** `flags`. */
  flags: number;
}

/**
 * The `BPF_LINK_CREATE` member: `prog_fd` @0, `target_fd` @4, `attach_type` @8, `flags` @12, then the
 * per-type union; for an iterator `iter_info` @16 and `iter_info_len` @24, both 0 for `iter/dmabuf`, which
 * takes no parameters. 32 bytes, the tail zero.
 */
export const BpfLinkCreateAttr = {
  SIZE: 32,
  /** Offsets, checked against the running kernel's BTF by a host test. */
  OFFSETS: { prog_fd: 0, target_fd: 4, attach_type: 8, flags: 12, iter_info: 16, iter_info_len: 24 },
  /** Encodes the attribute. */
  encode(value: LinkCreate): Uint8Array<ArrayBuffer> {
    const o = BpfLinkCreateAttr.OFFSETS;
    const bytes = new Uint8Array(BpfLinkCreateAttr.SIZE);
    const v = view(bytes);
    v.setUint32(o.prog_fd, value.progFd, true);
    v.setUint32(o.target_fd, value.targetFd, true);
    v.setUint32(o.attach_type, value.attachType, true);
    v.setUint32(o.flags, value.flags, true);
    return bytes;
  },
} as const;

/** The `BPF_ITER_CREATE` member: `link_fd` @0, `flags` @4. */
export const BpfIterCreateAttr = {
  SIZE: 8,
  /** Offsets, checked against the running kernel's BTF by a host test. */
  OFFSETS: { link_fd: 0, flags: 4 },
  /** Encodes the attribute. */
  encode(value: { linkFd: number; flags: number }): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(BpfIterCreateAttr.SIZE);
    const v = view(bytes);
    v.setUint32(BpfIterCreateAttr.OFFSETS.link_fd, value.linkFd, true);
    v.setUint32(BpfIterCreateAttr.OFFSETS.flags, value.flags, true);
    return bytes;
  },
} as const;
