import { assertEquals } from "../assert.ts";
import { exitCodeOf, formatError } from "../../cli/errors.ts";
import { ExitCode, UsageError } from "../../commands/toolkit/errors.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { NotADmaBufError } from "../../ffi/dma_buf.ts";

// cli/errors.ts knows the ffi errors by name only (so --help loads no FFI code); these keep the names true.
Deno.test("formatError: a SyscallError is the user's, one line without 'internal error'", () => {
  const error = new SyscallError("ioctl(DMA_HEAP_IOCTL_ALLOC)", 12, { target: "/dev/dma_heap/system" });
  assertEquals(formatError(error, false), `dmabuf: ${error.message}`);
  assertEquals(exitCodeOf(error), ExitCode.FAILURE);
});

Deno.test("formatError: a NotADmaBufError is the user's, one line without 'internal error'", () => {
  const error = new NotADmaBufError("fd 3", "/dev/null");
  assertEquals(formatError(error, false), "dmabuf: fd 3 is not a dma-buf: it is /dev/null");
  assertEquals(exitCodeOf(error), ExitCode.FAILURE);
});

Deno.test("formatError: anything else is internal and points at --verbose", () => {
  assertEquals(
    formatError(new TypeError("x is undefined"), false),
    "dmabuf: internal error: x is undefined (run with --verbose for the stack)",
  );
  assertEquals(exitCodeOf(new UsageError("bad")), ExitCode.USAGE);
});

Deno.test("exitCodeOf: a RangeError from inside the tool is internal (exit 1), not a usage error", () => {
  const error = new RangeError("Cannot decode struct sync_file_info: 8 bytes, need 56");
  assertEquals(exitCodeOf(error), ExitCode.FAILURE);
  assertEquals(
    formatError(error, false),
    "dmabuf: internal error: Cannot decode struct sync_file_info: 8 bytes, need 56 (run with --verbose for the stack)",
  );
});

Deno.test("formatError: a runtime error is internal by origin, whatever its class (NotFound included)", () => {
  const error = new Deno.errors.NotFound("No such file or directory (os error 2): readfile '/x'");
  assertEquals(
    formatError(error, false),
    "dmabuf: internal error: No such file or directory (os error 2): readfile '/x' (run with --verbose for the stack)",
  );
});
