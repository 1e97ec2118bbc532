/**
 * The board bring-up battery of `dmabuf smoke`: per heap (and udmabuf) allocation at several sizes, zeroed
 * buffers, mmap write/verify inside `DMA_BUF_IOCTL_SYNC` brackets, `DMA_BUF_SET_NAME` in fdinfo and bufinfo,
 * `lseek(SEEK_END)`, `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` of an idle buffer, the kernel's documented EINVAL cases,
 * and no fd leaked over the run. Each check passes, fails with the errno it saw, or is skipped with the reason
 * (a feature the kernel lacks) — never passed for want of something to test.
 * @module
 */

import { formatBytes } from "../toolkit/units.ts";
import type { DmaBuf } from "../../ffi/dma_buf.ts";
import { DmaHeap, HEAP_DIR, UDMABUF_PATH } from "../../ffi/dma_heap.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { addedTaint, describeTaint, readTaint, TAINTED_PATH } from "../../ffi/taint.ts";
import { FileType, memfdCreate, OpenFlags, openPath, readLink, readProcSysFile, stat } from "../../ffi/fd.ts";
import { DmaBufSyncFlags } from "../../ffi/ioctl.ts";
import type { Pattern } from "../../ffi/pattern.ts";
import { SyncFile } from "../../ffi/sync_file.ts";
import { parseBufinfo } from "../../ffi/text/bufinfo.ts";
import { bufinfoPath, DEFAULT_DEBUGFS } from "../../ffi/text/mounts.ts";
import { readMounts } from "../../ffi/procfs.ts";
import { allocUdmabuf, createUdmabuf, sealedMemfd } from "../../ffi/udmabuf.ts";
import { pageAlign, pageSize } from "../../ffi/page_size.ts";
import type { Detail } from "../lab/report.ts";
import { sizeLabel } from "../lab/names.ts";
import { type Check, CheckFailure, Skip } from "./runner.ts";
import type { SmokeTarget } from "./targets.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** The allocation sizes every heap is tried with (the largest capped by what the heap can give). */
export const SMOKE_SIZES = [4 * KiB, 1 * MiB, 16 * MiB] as const;

/** Group name of the checks that cover the whole run rather than one heap. */
export const BATTERY_GROUP = "battery";

/** The name smoke gives its buffers, before the pid and a counter are appended (fits `DMA_BUF_NAME_LEN`). */
const NAME_PREFIX = "dmabuf-smoke";

/** Asserts that `call` fails with `expected`; closes whatever it returned if it did not. */
function expectErrno(
  expected: "EINVAL",
  what: string,
  call: () => Disposable | void,
): Record<string, Detail> {
  let result: Disposable | void;
  try {
    result = call();
  } catch (error) {
    if (error instanceof SyscallError) {
      if (error.is(expected)) return { expected, actual: error.code };
      throw new CheckFailure(
        `${what} failed with ${error.code}, the kernel documents ${expected}: ${error.message}`,
        {
          expected,
          actual: error.code,
        },
      );
    }
    throw error;
  }
  result?.[Symbol.dispose]();
  throw new CheckFailure(`${what} succeeded; the kernel documents ${expected}`, {
    expected,
    actual: "success",
  });
}

/** Hands out buffer names unique over the run. */
interface BatteryState {
  /** Buffers named so far. */
  named: number;
  /** The kernel's page size: buffers are whole pages. */
  pageSize: number;
}

/** A fresh buffer of `length` bytes from `target`. */
function allocate(target: SmokeTarget, length: number): DmaBuf {
  if (target.kind === "udmabuf") return allocUdmabuf(length, NAME_PREFIX);
  using heap = DmaHeap.open(target.name, target.dir);
  return heap.alloc(length);
}

function checkOpen(target: SmokeTarget): Record<string, Detail> {
  try {
    const info = stat(target.path);
    if ((info.mode & FileType.S_IFMT) !== FileType.S_IFCHR) {
      throw new CheckFailure(`${target.path} is not a character device, so it is not a dma-heap`, {
        path: target.path,
        mode: `0${info.mode.toString(8)}`,
      });
    }
    openPath(target.path, { flags: target.kind === "udmabuf" ? OpenFlags.O_RDWR : OpenFlags.O_RDONLY })
      .close();
    return { path: target.path };
  } catch (error) {
    if (error instanceof SyscallError) {
      const hint = error.is("EACCES") ? " (run as root, or grant access with a udev rule)" : "";
      throw new CheckFailure(`${error.message}${hint}`, { path: target.path, actual: error.code });
    }
    throw error;
  }
}

function checkAlloc(target: SmokeTarget, size: number): Record<string, Detail> {
  try {
    using buf = allocate(target, size);
    return { bytes: size, inode: buf.inode() };
  } catch (error) {
    if (error instanceof SyscallError) {
      throw new CheckFailure(error.message, { bytes: size, actual: error.code });
    }
    throw error;
  }
}

function checkSize(target: SmokeTarget, size: number, page: number): Record<string, Detail> {
  using buf = allocate(target, size);
  const seen = buf.size();
  // A heap (and udmabuf) hands out whole pages: a 4 KiB request is 16 KiB on a 16 KiB-page kernel.
  const expected = pageAlign(size, page);
  const rounded = expected === size ? {} : { requested: size, pageSize: page };
  if (seen !== expected) {
    throw new CheckFailure(`lseek(SEEK_END) returned ${seen}, expected ${expected}`, {
      expected,
      actual: seen,
      ...rounded,
    });
  }
  return { bytes: seen, ...rounded };
}

function checkZeroed(target: SmokeTarget, size: number): Record<string, Detail> {
  using buf = allocate(target, size);
  using map = buf.map();
  using _cpu = buf.beginCpuAccess("read");
  const mismatch = map.verify({ kind: "zero" });
  if (mismatch !== null) {
    throw new CheckFailure(
      `byte at offset ${mismatch.offset} is 0x${
        hex(mismatch.actual[0] ?? 0)
      }, not 0x00: the heap hands out ` +
        "memory it did not clear",
      { offset: mismatch.offset, actual: `0x${hex(mismatch.actual[0] ?? 0)}` },
    );
  }
  return { bytes: size };
}

function checkMmap(target: SmokeTarget, size: number): Record<string, Detail> {
  using buf = allocate(target, size);
  const pattern: Pattern = { kind: "random", seed: size >>> 0 };
  {
    using map = buf.map({ write: true });
    using _cpu = buf.beginCpuAccess("write");
    map.fill(pattern);
  }
  // A fresh mapping, so the check sees what the buffer holds, not what one mapping cached.
  using map = buf.map();
  using _cpu = buf.beginCpuAccess("read");
  const mismatch = map.verify(pattern);
  if (mismatch !== null) {
    throw new CheckFailure(
      `read back 0x${hex(mismatch.actual[0] ?? 0)} at offset ${mismatch.offset}, wrote ` +
        `0x${hex(mismatch.expected[0] ?? 0)}`,
      {
        offset: mismatch.offset,
        expected: `0x${hex(mismatch.expected[0] ?? 0)}`,
        actual: `0x${hex(mismatch.actual[0] ?? 0)}`,
      },
    );
  }
  return { bytes: size };
}

function checkNameInFdinfo(target: SmokeTarget, name: string): Record<string, Detail> {
  using buf = allocate(target, SMOKE_SIZES[0]);
  buf.setName(name);
  const seen = buf.fdinfo().name;
  if (seen !== name) {
    throw new CheckFailure(`fdinfo shows name ${JSON.stringify(seen)}, set ${JSON.stringify(name)}`, {
      expected: name,
      actual: seen,
    });
  }
  return { name };
}

function checkNameInBufinfo(target: SmokeTarget, name: string): Record<string, Detail> {
  using buf = allocate(target, SMOKE_SIZES[0]);
  const path = debugfsBufinfo();
  buf.setName(name);
  const inode = buf.inode();
  const text = readBufinfo(path);
  const entry = parseBufinfo(text).buffers.find((b) => b.inode === inode);
  if (entry === undefined) {
    throw new CheckFailure(`inode ${inode} is not listed in ${path}`, { inode, path });
  }
  if (entry.name !== name) {
    throw new CheckFailure(`${path} shows name ${JSON.stringify(entry.name)}, set ${JSON.stringify(name)}`, {
      inode,
      expected: name,
      actual: entry.name,
    });
  }
  return { inode, name, path };
}

function checkExportSyncFile(target: SmokeTarget): Record<string, Detail> {
  using buf = allocate(target, SMOKE_SIZES[0]);
  let syncFile: SyncFile;
  try {
    syncFile = new SyncFile(buf.exportSyncFile("write"));
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOTTY")) {
      throw new Skip("kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux < 6.0)");
    }
    throw error;
  }
  using sync = syncFile;
  const status = sync.status();
  if (status !== 1) {
    throw new CheckFailure(
      `SYNC_IOC_FILE_INFO status is ${status}, expected 1 (signalled) for a buffer nothing uses`,
      { expected: 1, actual: status },
    );
  }
  return { status };
}

function checkSyncBadFlags(target: SmokeTarget): Record<string, Detail> {
  using buf = allocate(target, SMOKE_SIZES[0]);
  return expectErrno(
    "EINVAL",
    "DMA_BUF_IOCTL_SYNC with flags 0x8",
    () => buf.syncRaw(DmaBufSyncFlags.DMA_BUF_SYNC_VALID_FLAGS_MASK + 1),
  );
}

/** A heap ioctl that the kernel documents to fail with EINVAL. */
function checkHeapEinval(target: SmokeTarget, what: string, call: (heap: DmaHeap) => Disposable) {
  return (): Record<string, Detail> => {
    using heap = DmaHeap.open(target.name, target.dir);
    return expectErrno("EINVAL", what, () => call(heap));
  };
}

function checkUdmabufUnsealed(target: SmokeTarget, page: number): Record<string, Detail> {
  using memfd = memfdCreate(NAME_PREFIX, BigInt(page));
  return expectErrno(
    "EINVAL",
    "UDMABUF_CREATE of an unsealed memfd",
    () => createUdmabuf(memfd, page, 0, target.path),
  );
}

function checkUdmabufUnaligned(target: SmokeTarget, page: number): Record<string, Detail> {
  using memfd = sealedMemfd(NAME_PREFIX, 2 * page);
  return expectErrno(
    "EINVAL",
    `UDMABUF_CREATE of ${page + 1} bytes`,
    () => createUdmabuf(memfd, page + 1, 0, target.path),
  );
}

/** For a check's name: how a size that is not whole pages comes out, or "" when it is. */
function roundedTo(size: number, page: number): string {
  const rounded = pageAlign(size, page);
  return rounded === size ? "" : ` rounded up to whole ${formatBytes(page)} pages (${formatBytes(rounded)})`;
}

/**
 * The checks for one target, in order, each naming what it needs: the device opening, or the allocation of
 * its size. The runner skips a check whose prerequisite did not pass, so one fault is reported once.
 */
function targetChecks(target: SmokeTarget, state: BatteryState): Check[] {
  const group = target.name;
  const at = (id: string) => `${group}/${id}`;
  const open = at("open");
  const checks: Check[] = [
    {
      id: open,
      group,
      name: `open ${target.path}`,
      subject: `opening ${target.path}`,
      requires: [],
      run: () => checkOpen(target),
    },
  ];
  const allocOf = new Map<number, string>();
  for (const requested of SMOKE_SIZES) {
    const size = target.maxBytes === null ? requested : Math.min(requested, target.maxBytes);
    const capped = size === requested ? "" : ` (capped from ${formatBytes(requested)}: ${target.capReason})`;
    const id = sizeLabel(size);
    const alloc = at(`alloc-${id}`);
    allocOf.set(requested, alloc);
    checks.push(
      {
        id: alloc,
        group,
        name: `allocate ${formatBytes(size)}${capped}`,
        subject: `allocation of ${formatBytes(size)}`,
        requires: [open],
        run: () => checkAlloc(target, size),
      },
      {
        id: at(`size-${id}`),
        group,
        name: `lseek(SEEK_END) of a ${formatBytes(size)} buffer equals its size${
          roundedTo(size, state.pageSize)
        }`,
        requires: [alloc],
        run: () => checkSize(target, size, state.pageSize),
      },
      {
        id: at(`zeroed-${id}`),
        group,
        name: `a new ${formatBytes(size)} buffer reads as zeros`,
        requires: [alloc],
        run: () => checkZeroed(target, size),
      },
      {
        id: at(`mmap-${id}`),
        group,
        name: `mmap write/verify of ${formatBytes(size)} inside DMA_BUF_IOCTL_SYNC brackets`,
        requires: [alloc],
        run: () => checkMmap(target, size),
      },
    );
  }
  const smallest = [allocOf.get(SMOKE_SIZES[0])!];
  const bufferName = () => `${NAME_PREFIX}-${Deno.pid}-${++state.named}`;
  checks.push(
    {
      id: at("set-name-fdinfo"),
      group,
      name: "DMA_BUF_SET_NAME is visible in fdinfo",
      requires: smallest,
      run: () => checkNameInFdinfo(target, bufferName()),
    },
    {
      id: at("set-name-bufinfo"),
      group,
      name: "DMA_BUF_SET_NAME is visible in debugfs bufinfo",
      requires: smallest,
      run: () => checkNameInBufinfo(target, bufferName()),
    },
    {
      id: at("export-sync-file"),
      group,
      name: "DMA_BUF_IOCTL_EXPORT_SYNC_FILE of an idle buffer is signalled",
      requires: smallest,
      run: () => checkExportSyncFile(target),
    },
    {
      id: at("sync-bad-flags"),
      group,
      name: "DMA_BUF_IOCTL_SYNC with undefined flags fails with EINVAL",
      requires: smallest,
      run: () => checkSyncBadFlags(target),
    },
  );
  if (target.kind === "heap") {
    checks.push(
      {
        id: at("alloc-len-0"),
        group,
        name: "DMA_HEAP_IOCTL_ALLOC with len 0 fails with EINVAL",
        requires: [open],
        run: checkHeapEinval(target, "DMA_HEAP_IOCTL_ALLOC with len 0", (heap) => heap.alloc(0)),
      },
      {
        id: at("alloc-bad-fd-flags"),
        group,
        name: "DMA_HEAP_IOCTL_ALLOC with fd_flags outside O_CLOEXEC|O_ACCMODE fails with EINVAL",
        requires: [open],
        run: checkHeapEinval(
          target,
          "DMA_HEAP_IOCTL_ALLOC with fd_flags O_RDWR|O_NONBLOCK",
          (heap) => heap.alloc(state.pageSize, { fdFlags: OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK }),
        ),
      },
      {
        id: at("alloc-heap-flags"),
        group,
        name: "DMA_HEAP_IOCTL_ALLOC with heap_flags != 0 fails with EINVAL",
        requires: [open],
        run: checkHeapEinval(
          target,
          "DMA_HEAP_IOCTL_ALLOC with heap_flags 1",
          (heap) => heap.alloc(state.pageSize, { heapFlags: 1n }),
        ),
      },
    );
  } else {
    checks.push(
      {
        id: at("create-unsealed"),
        group,
        name: "UDMABUF_CREATE of a memfd without F_SEAL_SHRINK fails with EINVAL",
        requires: [open],
        run: () => checkUdmabufUnsealed(target, state.pageSize),
      },
      {
        id: at("create-unaligned"),
        group,
        name: "UDMABUF_CREATE with a size that is not a page multiple fails with EINVAL",
        requires: [open],
        run: () => checkUdmabufUnaligned(target, state.pageSize),
      },
    );
  }
  return checks;
}

function hex(byte: number): string {
  return Uint8Array.of(byte).toHex();
}

/** Where bufinfo is (see {@link bufinfoPath}). @throws {Skip} when debugfs is not mounted */
function debugfsBufinfo(): string {
  const path = bufinfoPath(readMounts());
  if (path === null) {
    throw new Skip(
      `debugfs is not mounted (mount -t debugfs none ${DEFAULT_DEBUGFS}), so bufinfo cannot be read`,
    );
  }
  return path;
}

/** Reads bufinfo, turning "not there" and "not allowed" into skips with the reason. */
function readBufinfo(path: string): string {
  try {
    return readProcSysFile(path);
  } catch (error) {
    if (error instanceof SyscallError) {
      if (error.is("ENOENT")) {
        throw new Skip(`no ${path}: the kernel lacks CONFIG_DEBUG_FS or dma-buf debugfs`);
      }
      if (error.is("EACCES") || error.is("EPERM")) {
        throw new Skip(`${path} is not readable (${error.code}): debugfs is usually root-only`);
      }
    }
    throw error;
  }
}

/** The fds this process has open, each with what it links to. */
export function openFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(entry.name);
    let target: string;
    try {
      target = readLink(`/proc/self/fd/${fd}`);
    } catch {
      // The directory's own fd, closed by the time it is read.
      continue;
    }
    fds.set(fd, target);
  }
  return fds;
}

/** The check that compares the open fds with those before the battery. */
function leakCheck(before: Map<number, string>): Check {
  return {
    id: `${BATTERY_GROUP}/no-fd-leak`,
    group: BATTERY_GROUP,
    name: "no fd leaked over the run",
    requires: [],
    run: () => {
      const after = openFds();
      const leaked = [...after].filter(([fd, target]) => before.get(fd) !== target);
      if (leaked.length > 0) {
        const list = leaked.map(([fd, target]) => `${fd} -> ${target}`).join(", ");
        throw new CheckFailure(`${leaked.length} fd(s) left open: ${list}`, {
          before: before.size,
          after: after.size,
          leaked: list,
        });
      }
      return { fds: after.size };
    },
  };
}

/** The check that the run left the kernel's taint flags as it found them (a kernel warning, an oops). */
function taintCheck(before: number | null): Check {
  return {
    id: `${BATTERY_GROUP}/kernel-taint`,
    group: BATTERY_GROUP,
    name: "the kernel's taint flags did not change over the run",
    requires: [],
    run: () => {
      const after = readTaint();
      if (before === null || after === null) {
        throw new Skip(`${TAINTED_PATH} is not readable (the kernel needs CONFIG_PROC_SYSCTL and /proc)`);
      }
      const added = addedTaint(before, after);
      if (added !== 0) {
        throw new CheckFailure(`the kernel became tainted during the run: ${describeTaint(added)}`, {
          before,
          after,
          added: describeTaint(added),
        });
      }
      return after === 0 ? { tainted: 0 } : { tainted: after, alreadyTainted: describeTaint(after) };
    },
  };
}

/** The check that there is anything to test at all. */
function presenceCheck(targets: readonly SmokeTarget[], heapDir: string): Check {
  return {
    id: `${BATTERY_GROUP}/heaps-present`,
    group: BATTERY_GROUP,
    name: "the kernel offers dma-heaps or udmabuf",
    requires: [],
    run: () => {
      if (targets.length === 0) {
        throw new CheckFailure(`no heaps in ${heapDir} and no ${UDMABUF_PATH}`, { heapDir });
      }
      return { heaps: targets.map((t) => t.name).join(",") };
    },
  };
}

/** Options of {@link smokeBattery}. */
export interface BatteryOptions {
  /** The targets, from {@link smokeTargets}. */
  targets: readonly SmokeTarget[];
  /** The heap directory the targets came from (for messages). */
  heapDir?: string;
  /** The page size buffers are rounded to; the kernel's by default (tests pass another). */
  pageSize?: number;
}

/**
 * The whole battery: presence, each target's checks, then the fd-leak and kernel-taint checks. The fds and the
 * taint flags are read now, so call it right before running the checks.
 */
export function smokeBattery(options: BatteryOptions): Check[] {
  const before = openFds();
  const taint = readTaint();
  const state: BatteryState = { named: 0, pageSize: options.pageSize ?? pageSize() };
  return [
    presenceCheck(options.targets, options.heapDir ?? HEAP_DIR),
    ...options.targets.flatMap((target) => targetChecks(target, state)),
    leakCheck(before),
    taintCheck(taint),
  ];
}
