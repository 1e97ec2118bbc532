import { assertEquals, assertIncludes, assertMatch, assertOk, assertThrows } from "../assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import {
  Fcntl,
  fdFlags,
  fstat,
  memfdCreate,
  openPath,
  poll,
  PollEvents,
  readLink,
  readProcSysFile,
} from "../../ffi/fd.ts";
import { Mapping } from "../../ffi/mapping.ts";
import { openFdCount } from "../fds.ts";
import { describeFd, DmaBuf, NotADmaBufError } from "../../ffi/dma_buf.ts";
import { DmaBufSync } from "../../ffi/structs.ts";

Deno.test("memfd + mmap: a pattern written through one mapping reads back through another", () => {
  using memfd = memfdCreate("roundtrip", 65536n);
  {
    using writer = Mapping.map(memfd, 65536, { write: true });
    writer.fill({ kind: "counter" });
    writer.write(10, Uint8Array.from([1, 2, 3]));
  }
  using reader = Mapping.map(memfd, 65536);
  assertEquals(reader.read(10, 3), Uint8Array.from([1, 2, 3]));
  const mismatch = reader.verify({ kind: "counter" });
  assertEquals(mismatch?.offset, 10);
  assertEquals(reader.verify({ kind: "counter" }, 16), null);
  assertEquals(fstat(memfd.fd).size, 65536n);
});

Deno.test("one-byte fill and verify (memset/memcmp) honour ranges and find the first differing byte", () => {
  const size = 3 * 65536 + 4096;
  using memfd = memfdCreate("bytes", BigInt(size));
  using mapping = Mapping.map(memfd, size, { write: true });
  mapping.fill({ kind: "byte", value: 0xa5 });
  assertEquals(mapping.verify({ kind: "byte", value: 0xa5 }), null);
  mapping.write(150_000, Uint8Array.from([0x5a]));
  const mismatch = mapping.verify({ kind: "byte", value: 0xa5 });
  assertEquals(mismatch?.offset, 150_000);
  assertEquals(mismatch?.actual, Uint8Array.from([0x5a, ...new Array(15).fill(0xa5)]));
  assertEquals(mismatch?.expected, new Uint8Array(16).fill(0xa5));
  mapping.fill({ kind: "zero" }, 4096, 100);
  assertEquals(mapping.verify({ kind: "zero" }, 4096, 100), null);
  assertEquals(mapping.verify({ kind: "byte", value: 0xa5 }, 0, 8192)?.offset, 4096);
  assertEquals(mapping.read(4095, 3), Uint8Array.from([0xa5, 0, 0]));
  assertEquals(mapping.verify({ kind: "byte", value: 0xa5 }, size - 10), null);
  assertThrows(() => mapping.fill({ kind: "zero" }, size - 10, 11), RangeError, "outside");
  mapping.unmap();
  assertThrows(() => mapping.fill({ kind: "byte", value: 1 }), Error, "unmapped");
});

Deno.test("ioctl(DMA_BUF_IOCTL_SYNC) on a memfd fails with ENOTTY naming the ioctl and the fd", () => {
  using memfd = memfdCreate("notabuf", 4096n);
  const error = assertThrows(
    () => memfd.ioctl("DMA_BUF_IOCTL_SYNC", DmaBufSync.encode({ flags: 1 })),
    SyscallError,
  );
  assertEquals(error.code, "ENOTTY");
  assertEquals(
    error.message,
    "ioctl(DMA_BUF_IOCTL_SYNC) on memfd:notabuf failed: ENOTTY (Inappropriate ioctl for device)",
  );
});

Deno.test("open of a missing path fails with ENOENT and the path in the message", () => {
  const error = assertThrows(() => openPath("/nonexistent/dma_heap/system"), SyscallError);
  assertEquals(error.code, "ENOENT");
  assertEquals(error.target, "/nonexistent/dma_heap/system");
  assertIncludes(
    error.message,
    "open on /nonexistent/dma_heap/system failed: ENOENT (No such file or directory)",
  );
});

Deno.test("Fd.close is idempotent and a closed Fd refuses use instead of reaching a reused number", () => {
  const memfd = memfdCreate("close", 4096n);
  const number = memfd.fd;
  memfd.close();
  memfd.close();
  assertEquals(fdFlags(number), null);
  assertThrows(() => memfd.fd, Error, "is closed");
});

Deno.test("a mapping cannot be reached after unmap, and a read-only mapping refuses writes", () => {
  using memfd = memfdCreate("unmap", 4096n);
  const mapping = Mapping.map(memfd, 4096);
  assertThrows(() => mapping.write(0, Uint8Array.from([1])), Error, "read-only");
  assertThrows(() => mapping.fill({ kind: "zero" }), Error, "read-only");
  assertThrows(() => mapping.read(4090, 10), RangeError, "outside");
  mapping.unmap();
  mapping.unmap();
  assertEquals(mapping.mapped, false);
  assertThrows(() => mapping.read(0, 1), Error, "unmapped");
  assertThrows(() => mapping.verify({ kind: "zero" }), Error, "unmapped");
});

Deno.test("mmap past the end of a memfd still maps (shmem), but mmap of a closed fd fails with EBADF", () => {
  const memfd = memfdCreate("badf", 4096n);
  const copy = new (memfd.constructor as typeof import("../../ffi/fd.ts").Fd)(memfd.fd, "copy");
  memfd.close();
  const error = assertThrows(() => Mapping.map(copy, 4096), SyscallError);
  assertEquals(error.code, "EBADF");
});

Deno.test("DmaBuf.duplicate of a memfd says what the fd is and leaves it open", () => {
  using memfd = memfdCreate("what", 4096n);
  const error = assertThrows(() => DmaBuf.duplicate(memfd.fd), NotADmaBufError);
  assertMatch(error.message, /^fd \d+ is not a dma-buf: it is \/memfd:what \(deleted\)$/);
  assertEquals(fdFlags(memfd.fd), Fcntl.FD_CLOEXEC);
});

Deno.test("DmaBuf.from takes ownership: an fd that is not a dma-buf is closed, never left with two owners", () => {
  const memfd = memfdCreate("owned", 4096n);
  const number = memfd.fd;
  assertThrows(() => DmaBuf.from(memfd), NotADmaBufError, "is not a dma-buf: it is /memfd:owned (deleted)");
  assertEquals(memfd.open, false);
  assertEquals(fdFlags(number), null);
});

Deno.test("DmaBuf.duplicate of a regular file and a pipe names them", () => {
  using file = openPath("/etc/hostname");
  assertThrows(
    () => DmaBuf.duplicate(file.fd, "--fd 9"),
    NotADmaBufError,
    "--fd 9 is not a dma-buf: it is /etc/hostname",
  );
  assertMatch(describeFd(0), /.+/);
});

Deno.test("readProcSysFile and readLink read /proc through libc", () => {
  using memfd = memfdCreate("fdinfo", 4096n);
  const text = readProcSysFile(`/proc/self/fdinfo/${memfd.fd}`);
  const flags = parseInt(/^pos:\t0\nflags:\t([0-7]+)\n/.exec(text)?.[1] ?? "", 8);
  // O_RDWR | O_CLOEXEC, as memfd_create(MFD_CLOEXEC) opens it (the kernel adds O_LARGEFILE too)
  assertEquals(flags & 0o2000003, 0o2000002);
  assertEquals(readLink(`/proc/self/fd/${memfd.fd}`), "/memfd:fdinfo (deleted)");
});

Deno.test("poll on a memfd reports it readable and writable at once", () => {
  using memfd = memfdCreate("poll", 4096n);
  const [result] = poll([{ fd: memfd.fd, events: PollEvents.POLLIN | PollEvents.POLLOUT, revents: 0 }], 0);
  assertEquals(
    result!.revents & (PollEvents.POLLIN | PollEvents.POLLOUT),
    PollEvents.POLLIN | PollEvents.POLLOUT,
  );
});

Deno.test("1,000 memfd/map/close loops leave the process's fd count unchanged", () => {
  const before = openFdCount();
  for (let i = 0; i < 1000; i++) {
    using memfd = memfdCreate("loop", 4096n);
    using mapping = Mapping.map(memfd, 4096, { write: true });
    mapping.fill({ kind: "byte", value: i & 0xff });
  }
  assertEquals(openFdCount(), before);
  assertOk(before > 0);
});
