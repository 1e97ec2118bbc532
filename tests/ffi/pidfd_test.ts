import { spawn } from "node:child_process";
import { assertEquals, assertOk, assertThrows } from "../assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { memfdCreate, readLink } from "../../ffi/fd.ts";
import { getFdOf, pidfdOpen, ptraceScope } from "../../ffi/pidfd.ts";

Deno.test("pidfd_getfd of our own pid duplicates the same open file", () => {
  using memfd = memfdCreate("pidfd-self", 4096n);
  using copy = getFdOf({ pid: Deno.pid, fd: memfd.fd });
  assertOk(copy.fd !== memfd.fd);
  assertEquals(readLink(`/proc/self/fd/${copy.fd}`), readLink(`/proc/self/fd/${memfd.fd}`));
  assertEquals(copy.label, `fd ${memfd.fd} of pid ${Deno.pid}`);
});

Deno.test("pidfd_getfd takes a child's inherited memfd (fd 3 in the child)", async () => {
  using memfd = memfdCreate("pidfd-child", 4096n);
  const child = spawn("sleep", ["30"], { stdio: ["ignore", "ignore", "ignore", memfd.fd] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    assertOk(child.pid !== undefined);
    using copy = getFdOf({ pid: child.pid, fd: 3 });
    assertEquals(readLink(`/proc/self/fd/${copy.fd}`), "/memfd:pidfd-child (deleted)");
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
});

Deno.test("pidfd_getfd of an fd the process does not have fails with EBADF", () => {
  const error = assertThrows(() => getFdOf({ pid: Deno.pid, fd: 1_000_000 }), SyscallError);
  assertOk(error.is("EBADF"), error.message);
  assertEquals(error.syscall, "pidfd_getfd");
});

Deno.test("pidfd_open of a pid that does not exist fails with ESRCH", () => {
  const error = assertThrows(() => pidfdOpen(0x3fffffff), SyscallError);
  assertOk(error.is("ESRCH") || error.is("EINVAL"), error.message);
});

Deno.test("ptrace_scope is a small integer or null without Yama", () => {
  const scope = ptraceScope();
  assertOk(scope === null || (scope >= 0 && scope <= 3), String(scope));
  assertEquals(ptraceScope("/nonexistent/ptrace_scope"), null);
});
