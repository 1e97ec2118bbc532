/**
 * The `bpf(2)` system call (glibc does not wrap it, so it goes through `syscall(2)`) and the three commands
 * an iterator needs: `BPF_PROG_LOAD` (with the verifier's log when it refuses), `BPF_LINK_CREATE` and
 * `BPF_ITER_CREATE`. Every fd they return is an {@link Fd}: closed once, by `using`.
 * @module
 */

import { SyscallError } from "../errno.ts";
import { Fd } from "../fd.ts";
import { check, cString, libc, strerror } from "../libc.ts";
import { NativeMemory } from "../native_memory.ts";
import {
  BPF_LOG_LEVEL1,
  BpfCmd,
  type BpfCmdName,
  BpfIterCreateAttr,
  BpfLinkCreateAttr,
  BpfProgLoadAttr,
} from "./attr.ts";
import { INSN_SIZE } from "./insn.ts";

/** `__NR_bpf` per `Deno.build.arch`: x86_64's own table, and the asm-generic table arm64 uses. */
const SYS_BPF: Readonly<Record<string, number>> = { x86_64: 321, aarch64: 280 };

/** The verifier log buffer: ample for the tool's program (a few hundred instructions at level 1). */
const LOG_SIZE = 4 << 20;

/** `bpf(2)`'s number on this architecture. @throws {Error} on an architecture the tool does not know */
export function sysBpf(arch: string = Deno.build.arch): number {
  const number = SYS_BPF[arch];
  if (number === undefined) throw new Error(`No bpf(2) syscall number known for ${arch}`);
  return number;
}

/**
 * `bpf(cmd, attr, sizeof(attr))`; returns its non-negative result (an fd for the commands used here).
 * @throws {SyscallError} named `bpf(CMD)`, e.g. ENOSYS without CONFIG_BPF_SYSCALL, EPERM without CAP_BPF
 */
export function bpf(cmd: BpfCmdName, attr: Uint8Array<ArrayBuffer>, target?: string): number {
  const result = libc().syscall_ptr(BigInt(sysBpf()), BigInt(BpfCmd[cmd]), attr, BigInt(attr.length));
  return Number(check(result, `bpf(${cmd})`, target));
}

/**
 * `BPF_PROG_LOAD` refused by the verifier (or by a check before it): the errno and the log it wrote.
 */
export class VerifierError extends SyscallError {
  /** The verifier's log at `BPF_LOG_LEVEL1` (may be empty when the refusal came before the verifier). */
  readonly log: string;

  /** Makes the error from the failed load and its log. */
  constructor(error: SyscallError, log: string) {
    super(error.syscall, error.errno, {
      description: strerror(error.errno),
      ...(error.target === undefined ? {} : { target: error.target }),
    });
    this.name = "VerifierError";
    this.log = log;
  }

  /**
   * The log's last line before its statistics (`processed N insns ...`, `verification time ...`): the
   * reason, e.g. `R2 !read_ok`. Empty when there is no log.
   */
  get reason(): string {
    const lines = this.log.split("\n").filter((line) =>
      line.trim() !== "" && !/^processed \d+ insns/.test(line) && !/^verification time/.test(line)
    );
    return lines.at(-1) ?? "";
  }
}

/** What {@link loadProgram} loads. */
export interface ProgramSpec {
  /** `BPF_PROG_TYPE_*`. */
  progType: number;
  /** `expected_attach_type`. */
  expectedAttachType: number;
  /** `attach_btf_id`: the vmlinux BTF id of the function attached to. */
  attachBtfId: number;
  /** Encoded instructions (a multiple of 8 bytes). */
  insns: Uint8Array;
  /** The license string (GPL-compatible for GPL-only helpers). */
  license: string;
  /** The program's name (at most 15 bytes). */
  name: string;
}

function progLoad(spec: ProgramSpec, log: NativeMemory | null): Fd {
  using insns = new NativeMemory(spec.insns.length);
  insns.write(spec.insns);
  const licenseBytes = cString(spec.license);
  using license = new NativeMemory(licenseBytes.length);
  license.write(licenseBytes);
  const attr = BpfProgLoadAttr.encode({
    progType: spec.progType,
    insnCnt: spec.insns.length / INSN_SIZE,
    insns: insns.address,
    license: license.address,
    logLevel: log === null ? 0 : BPF_LOG_LEVEL1,
    logSize: log === null ? 0 : log.length,
    logBuf: log === null ? 0n : log.address,
    progName: spec.name,
    expectedAttachType: spec.expectedAttachType,
    attachBtfId: spec.attachBtfId,
    attachBtfObjFd: 0,
  });
  return new Fd(bpf("BPF_PROG_LOAD", attr, spec.name), `BPF program ${spec.name}`);
}

/**
 * Loads a program: first without a log (the verifier is faster so), and when that fails with anything but
 * EPERM or ENOSYS, again with a `BPF_LOG_LEVEL1` log, so the refusal carries the verifier's reasons.
 * @throws {VerifierError} when the verifier refuses it; {@link SyscallError} EPERM (no CAP_BPF/CAP_PERFMON),
 * ENOSYS (no bpf syscall)
 */
export function loadProgram(spec: ProgramSpec): Fd {
  if (spec.insns.length % INSN_SIZE !== 0 || spec.insns.length === 0) {
    throw new RangeError(`BPF program of ${spec.insns.length} bytes is not whole instructions`);
  }
  try {
    return progLoad(spec, null);
  } catch (error) {
    if (!(error instanceof SyscallError) || error.is("EPERM") || error.is("ENOSYS")) throw error;
  }
  using log = new NativeMemory(LOG_SIZE);
  try {
    return progLoad(spec, log);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    const bytes = log.bytes();
    const end = bytes.indexOf(0);
    throw new VerifierError(error, new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end)));
  }
}

/**
 * `BPF_LINK_CREATE` of `program` with `attachType` (an iterator: no target, no parameters).
 * @throws {SyscallError}
 */
export function createLink(program: Fd, attachType: number): Fd {
  const attr = BpfLinkCreateAttr.encode({ progFd: program.fd, targetFd: 0, attachType, flags: 0 });
  return new Fd(bpf("BPF_LINK_CREATE", attr, program.label), `BPF link of ${program.label}`);
}

/**
 * `BPF_ITER_CREATE` of an iterator link: an fd whose read() runs the program over the objects.
 * @throws {SyscallError}
 */
export function createIterator(link: Fd): Fd {
  const attr = BpfIterCreateAttr.encode({ linkFd: link.fd, flags: 0 });
  return new Fd(bpf("BPF_ITER_CREATE", attr, link.label), `BPF iterator of ${link.label}`);
}
