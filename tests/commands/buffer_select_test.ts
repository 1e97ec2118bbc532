import { assertEquals, assertIncludes, assertThrows } from "../assert.ts";
import { CliError, UsageError } from "../../commands/toolkit/errors.ts";
import { memfdCreate } from "../../ffi/fd.ts";
import { bufferSource, selectBuffer } from "../../commands/buffer_select.ts";

Deno.test("bufferSource: --fd, --pid --fd, --heap --size, --size alone (system heap)", () => {
  assertEquals(bufferSource({ fd: 3 }), { kind: "fd", fd: 3 });
  assertEquals(bufferSource({ pid: 10, fd: 3 }), { kind: "pid", pid: 10, fd: 3 });
  assertEquals(bufferSource({ heap: "cma", size: 4096 }), { kind: "heap", heap: "cma", size: 4096 });
  assertEquals(bufferSource({ size: 4096 }), { kind: "heap", heap: "system", size: 4096 });
});

Deno.test("bufferSource: no selection, --pid alone, --heap alone, mixed are usage errors", () => {
  assertThrows(() => bufferSource({}), UsageError, "Select a buffer");
  assertThrows(() => bufferSource({ pid: 10 }), UsageError, "--pid needs --fd");
  assertThrows(() => bufferSource({ heap: "system" }), UsageError, "--heap needs --size");
  assertThrows(() => bufferSource({ fd: 3, size: 4096 }), UsageError, "cannot be combined");
  assertThrows(() => bufferSource({ pid: 1, fd: 3, heap: "system" }), UsageError, "cannot be combined");
});

Deno.test("selectBuffer: an fd that is not a dma-buf says what it is and stays open", () => {
  using memfd = memfdCreate("not-a-dmabuf", 4096n);
  const error = assertThrows(() => selectBuffer({ fd: memfd.fd }), CliError);
  assertIncludes(error.message, `fd ${memfd.fd} is not a dma-buf: it is /memfd:not-a-dmabuf`);
  assertEquals(memfd.open, true);
});

Deno.test("selectBuffer: an fd that is not open", () => {
  assertThrows(() => selectBuffer({ fd: 999_999 }), CliError, "fd 999999 is not open in this process");
});

Deno.test("selectBuffer: --pid --fd of a memfd in our own process is not a dma-buf either", () => {
  using memfd = memfdCreate("remote", 4096n);
  assertThrows(
    () => selectBuffer({ pid: Deno.pid, fd: memfd.fd }),
    CliError,
    `fd ${memfd.fd} of pid ${Deno.pid} is not a dma-buf: it is /memfd:remote`,
  );
  assertThrows(() => selectBuffer({ pid: Deno.pid, fd: 999_999 }), CliError, "fd 999999 is not open in pid");
  assertThrows(() => selectBuffer({ pid: 0x3ffffff0, fd: 3 }), CliError, "No process with pid");
});
