/**
 * What to tell the user when another process's fd cannot be reached with `--pid P`: taken with
 * `pidfd_getfd` (map, sync, fence-wait, fence) or read through its /proc files (info). One wording for every
 * command: no such process, fd not open, no permission (and what grants it), kernel too old.
 * @module
 */

import { CliError } from "./toolkit/errors.ts";
import { SyscallError } from "../ffi/errno.ts";
import { ptraceScope } from "../ffi/pidfd.ts";

/**
 * How the fd was to be reached: `getfd` takes it with `pidfd_getfd` (ptrace attach permission, which Yama's
 * `ptrace_scope` restricts); `procfs` reads `/proc/P/fdinfo` and `/proc/P/maps` (ptrace read permission).
 */
export type PidAccess = "getfd" | "procfs";

/** Which fd of which process. */
export interface PidTarget {
  /** The process. */
  readonly pid: number;
  /** The fd in it, when one was named. */
  readonly fd?: number;
}

function yamaNote(): string {
  const scope = ptraceScope();
  if (scope === null) return "";
  return `, kernel.yama.ptrace_scope is ${scope}${scope === 0 ? "" : " (0 lets a same-uid process attach)"}`;
}

/**
 * A one-line {@link CliError} for a failure to reach `target` by `access`; other errors are returned as
 * they are.
 */
export function explainPidError(error: unknown, access: PidAccess, target: PidTarget): unknown {
  if (!(error instanceof SyscallError)) return error;
  const { pid, fd } = target;
  // /proc/P vanishing (ENOENT) is the procfs way of saying ESRCH.
  if (error.is("ESRCH") || (access === "procfs" && error.is("ENOENT"))) {
    return new CliError(`No process with pid ${pid}`, { cause: error });
  }
  if (error.is("EBADF") && fd !== undefined) {
    return new CliError(`fd ${fd} is not open in pid ${pid}`, { hint: `see /proc/${pid}/fd`, cause: error });
  }
  if (error.is("ENOSYS")) {
    return new CliError(`${error.syscall} is not available: --pid needs Linux 5.6 or later`, {
      cause: error,
    });
  }
  if (error.is("EPERM") || error.is("EACCES")) {
    const [what, needs] = access === "getfd"
      ? [`take fd ${fd} of pid ${pid}`, "pidfd_getfd needs ptrace permission over the process"]
      : [
        `read ${error.target ?? `/proc/${pid}`}`,
        "another process's fdinfo and maps need ptrace read permission",
      ];
    return new CliError(`Not allowed to ${what} (${error.code}): ${needs}`, {
      hint: `run as the same uid${access === "getfd" ? yamaNote() : ""}, or as root / with CAP_SYS_PTRACE`,
      cause: error,
    });
  }
  return error;
}
