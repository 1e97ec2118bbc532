/**
 * pidfds (`pidfd_open(2)`, `pidfd_getfd(2)`, Linux 5.3/5.6): duplicating another process's fd into this one.
 * glibc 2.36 wraps neither, so both go through `syscall(2)`.
 * @module
 */

import { Fd, readProcSysFile } from "./fd.ts";
import { check, libc } from "./libc.ts";

/** `__NR_pidfd_open`: the same number on x86_64 and on the asm-generic table arm64 and riscv use. */
export const SYS_PIDFD_OPEN = 434;
/** `__NR_pidfd_getfd` (x86_64 and asm-generic alike). */
export const SYS_PIDFD_GETFD = 438;

/** Where the Yama LSM's ptrace restriction is read (`kernel.yama.ptrace_scope`). */
export const PTRACE_SCOPE_PATH = "/proc/sys/kernel/yama/ptrace_scope";

/**
 * `pidfd_open(pid, 0)`: a close-on-exec fd referring to process `pid`.
 * @throws {SyscallError} ESRCH when there is no such process, ENOSYS before Linux 5.3
 */
export function pidfdOpen(pid: number): Fd {
  const fd = check(libc().syscall(BigInt(SYS_PIDFD_OPEN), BigInt(pid), 0n, 0n), "pidfd_open", `pid ${pid}`);
  return new Fd(Number(fd), `pidfd of pid ${pid}`);
}

/** What {@link getFdOf} duplicates: fd `fd` of process `pid`. */
export interface RemoteFd {
  /** The process. */
  pid: number;
  /** The fd number in that process. */
  fd: number;
}

/**
 * `pidfd_getfd(pidfd, fd, 0)` for `pidfd_open(pid)`: a close-on-exec duplicate of another process's fd (same
 * open file description). Needs `PTRACE_MODE_ATTACH_REALCREDS` over the process.
 * @throws {SyscallError} ESRCH (no such process), EPERM (no ptrace permission), EBADF (fd not open there),
 * ENOSYS (kernel before 5.6)
 */
export function getFdOf(remote: RemoteFd): Fd {
  using pidfd = pidfdOpen(remote.pid);
  const label = `fd ${remote.fd} of pid ${remote.pid}`;
  const fd = check(
    libc().syscall(BigInt(SYS_PIDFD_GETFD), BigInt(pidfd.fd), BigInt(remote.fd), 0n),
    "pidfd_getfd",
    label,
  );
  return new Fd(Number(fd), label);
}

/**
 * `kernel.yama.ptrace_scope` (0 classic, 1 restricted to descendants, 2 admin only, 3 none), or null without Yama.
 */
export function ptraceScope(path = PTRACE_SCOPE_PATH): number | null {
  try {
    const value = Number(readProcSysFile(path).trim());
    return Number.isInteger(value) ? value : null;
  } catch {
    return null;
  }
}
