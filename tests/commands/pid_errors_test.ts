import { assertEquals, assertMatch } from "../assert.ts";
import { explainPidError, type PidAccess, type PidTarget } from "../../commands/pid_errors.ts";
import { CliError } from "../../commands/toolkit/errors.ts";
import { SyscallError } from "../../ffi/errno.ts";

const ESRCH = 3;
const EPERM = 1;
const ENOENT = 2;
const EBADF = 9;
const EACCES = 13;
const ENOSYS = 38;

function explained(error: unknown, access: PidAccess, target: PidTarget): CliError {
  const result = explainPidError(error, access, target);
  if (!(result instanceof CliError)) throw new Error(`not explained: ${result}`);
  return result;
}

Deno.test("explainPidError: one wording for no such process, by pidfd_getfd or by /proc", () => {
  const target = { pid: 4242, fd: 5 };
  assertEquals(
    explained(new SyscallError("pidfd_open", ESRCH), "getfd", target).message,
    "No process with pid 4242",
  );
  assertEquals(
    explained(new SyscallError("readlink", ENOENT), "procfs", target).message,
    "No process with pid 4242",
  );
  assertEquals(
    explained(new SyscallError("pidfd_getfd", EBADF), "getfd", target).message,
    "fd 5 is not open in pid 4242",
  );
  assertMatch(
    explained(new SyscallError("pidfd_getfd", ENOSYS), "getfd", target).message,
    /^pidfd_getfd is not available: --pid needs Linux 5.6 or later$/,
  );
});

Deno.test("explainPidError: no permission says what was refused and what grants it", () => {
  const taken = explained(new SyscallError("pidfd_getfd", EPERM), "getfd", { pid: 7, fd: 3 });
  assertEquals(
    taken.message,
    "Not allowed to take fd 3 of pid 7 (EPERM): pidfd_getfd needs ptrace permission over the process",
  );
  assertMatch(taken.hint ?? "", /^run as the same uid.*, or as root \/ with CAP_SYS_PTRACE$/);
  const read = explained(new SyscallError("open", EACCES, { target: "/proc/7/fdinfo/3" }), "procfs", {
    pid: 7,
  });
  assertEquals(
    read.message,
    "Not allowed to read /proc/7/fdinfo/3 (EACCES): another process's fdinfo and maps need ptrace read permission",
  );
  assertEquals(read.hint, "run as the same uid, or as root / with CAP_SYS_PTRACE");
});

Deno.test("explainPidError: other errors pass through", () => {
  const other = new TypeError("bug");
  assertEquals(explainPidError(other, "getfd", { pid: 1 }), other);
});
