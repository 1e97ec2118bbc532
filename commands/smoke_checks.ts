/**
 * The board bring-up battery of `dmabuf smoke`: per heap (and udmabuf) allocation at several sizes, zeroed
 * buffers, mmap write/verify inside `DMA_BUF_IOCTL_SYNC` brackets, `DMA_BUF_SET_NAME` in fdinfo and bufinfo,
 * `lseek(SEEK_END)`, `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` of an idle buffer, the kernel's documented EINVAL cases,
 * and no fd leaked over the run. Each check passes, fails with the errno it saw, or is skipped with the reason
 * (a feature the kernel lacks) — never passed for want of something to test.
 * @module
 */

import { formatBytes } from "./toolkit/output.ts";
import type { DmaBuf } from "../ffi/dma_buf.ts";
import {
  CMA_ALIAS,
  CMA_HEAP_NAMES,
  DmaHeap,
  HEAP_DIR,
  listHeaps,
  resolveHeapName,
  UDMABUF_HEAP,
  UDMABUF_PATH,
} from "../ffi/dma_heap.ts";
import { SyscallError } from "../ffi/errno.ts";
import { FileType, memfdCreate, OpenFlags, openPath, readLink, readTextFile, stat } from "../ffi/fd.ts";
import { DmaBufSyncFlags } from "../ffi/ioctl.ts";
import type { Pattern } from "../ffi/pattern.ts";
import { SyncFile } from "../ffi/sync_file.ts";
import { parseBufinfo } from "../ffi/text/bufinfo.ts";
import { bufinfoPath, DEFAULT_DEBUGFS } from "../ffi/text/mounts.ts";
import { readMounts } from "../ffi/procfs.ts";
import { allocUdmabuf, createUdmabuf, PAGE_SIZE, sealedMemfd, udmabufLimit } from "../ffi/udmabuf.ts";
import { readCmaInfo } from "./heaps.ts";
import type { CheckResult, Detail } from "./report_format.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** The allocation sizes every heap is tried with (the largest capped by what the heap can give). */
export const SMOKE_SIZES = [4 * KiB, 1 * MiB, 16 * MiB] as const;

/** Group name of the checks that cover the whole run rather than one heap. */
export const BATTERY_GROUP = "battery";

/** The name smoke gives its buffers, before the pid and a counter are appended (fits `DMA_BUF_NAME_LEN`). */
const NAME_PREFIX = "dmabuf-smoke";

/** A check gives up as "skipped" by throwing this with the reason. */
export class Skip extends Error {
  /** Makes the skip with `reason`. */
  constructor(reason: string) {
    super(reason);
    this.name = "Skip";
  }
}

/** A check fails with a one-line reason and details (errno names, offsets) by throwing this. */
export class CheckFailure extends Error {
  /** Values that explain the failure. */
  readonly details: Record<string, Detail>;
  /** Makes the failure. */
  constructor(reason: string, details: Record<string, Detail> = {}) {
    super(reason);
    this.name = "CheckFailure";
    this.details = details;
  }
}

/** One check of the battery. */
export interface Check {
  /** Stable identifier, e.g. `system/alloc-4KiB`. */
  id: string;
  /** The heap it runs on, or {@link BATTERY_GROUP}. */
  group: string;
  /** What it does, in words. */
  name: string;
  /** Runs the check: returns details on success, throws {@link Skip} or {@link CheckFailure} (or anything). */
  run: () => Record<string, Detail> | void;
}

/** What the battery runs on: a dma-heap device or udmabuf. */
export interface SmokeTarget {
  /** Heap name (the directory entry), or `udmabuf`. */
  name: string;
  /** `heap` for a dma-heap device, `udmabuf` for /dev/udmabuf. */
  kind: "heap" | "udmabuf";
  /** The device path. */
  path: string;
  /** The directory the heap is in (for {@link DmaHeap.open}). */
  dir: string;
  /** The largest buffer the battery asks this heap for, or null for no limit. */
  maxBytes: number | null;
  /** Why {@link maxBytes} is what it is (`CmaFree 60 MiB`, `udmabuf size_limit_mb`), or null. */
  capReason: string | null;
}

/** Options of {@link smokeTargets}. */
export interface TargetOptions {
  /** Directory of heap device nodes; default {@link HEAP_DIR}. */
  heapDir?: string;
  /** Only these heaps (`udmabuf` selects udmabuf; `cma` is the CMA alias); empty or absent for all. */
  heaps?: readonly string[];
  /** The udmabuf device; default {@link UDMABUF_PATH}. */
  udmabufPath?: string;
}

function isCmaHeap(name: string): boolean {
  return name === CMA_ALIAS || (CMA_HEAP_NAMES as readonly string[]).includes(name);
}

/** The largest power of two not above `bytes` (at least a page), so CMA's `get_order` alignment can be met. */
function powerOfTwoBelow(bytes: number): number {
  let size = PAGE_SIZE;
  while (size * 2 <= bytes) size *= 2;
  return size;
}

function cmaCap(): { maxBytes: number | null; capReason: string | null } {
  const cma = readCmaInfo();
  if (cma === null) return { maxBytes: null, capReason: null };
  // Half of what is free, so fragmentation and other users of the area do not fail the check spuriously.
  return {
    maxBytes: powerOfTwoBelow(cma.freeBytes / 2),
    capReason: `half of CmaFree ${formatBytes(cma.freeBytes)}`,
  };
}

/**
 * The heaps (and udmabuf) the battery runs on. A name given in `heaps` that does not exist is still
 * returned, so that its open check fails with ENOENT instead of the heap silently going untested.
 */
export function smokeTargets(options: TargetOptions = {}): SmokeTarget[] {
  const dir = options.heapDir ?? HEAP_DIR;
  const udmabufPath = options.udmabufPath ?? UDMABUF_PATH;
  const heapTarget = (name: string): SmokeTarget => ({
    name,
    kind: "heap",
    path: `${dir}/${name}`,
    dir,
    ...(isCmaHeap(name) ? cmaCap() : { maxBytes: null, capReason: null }),
  });
  const udmabufTarget = (): SmokeTarget => ({
    name: UDMABUF_HEAP,
    kind: "udmabuf",
    path: udmabufPath,
    dir,
    maxBytes: udmabufLimit(),
    capReason: "udmabuf size_limit_mb",
  });
  const wanted = options.heaps ?? [];
  if (wanted.length > 0) {
    const resolved = wanted.map((name) => name === UDMABUF_HEAP ? name : resolveHeapName(name, dir));
    return [...new Set(resolved)].map((name) => name === UDMABUF_HEAP ? udmabufTarget() : heapTarget(name));
  }
  const found = listHeaps(dir, udmabufPath) ?? [];
  return found.map((heap) => heap.pseudo ? udmabufTarget() : heapTarget(heap.name));
}

/** `4KiB`, `16MiB`: a size for check ids. */
function sizeId(bytes: number): string {
  return formatBytes(bytes).replace(" ", "");
}

/** The errno name of a failed call, for details. */
function errnoOf(error: unknown): string | null {
  return error instanceof SyscallError ? error.code : null;
}

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

/** Counts checks and hands out buffer names. */
interface BatteryState {
  /** Buffers named so far, for unique names. */
  named: number;
}

/**
 * The checks for one target. Checks that need an earlier one (the device opening, an allocation of the
 * same size) are skipped with that reason when it failed, so one fault is reported once.
 */
function targetChecks(target: SmokeTarget, state: BatteryState): Check[] {
  const group = target.name;
  const checks: Check[] = [];
  const check = (id: string, name: string, run: () => Record<string, Detail> | void) =>
    checks.push({ id: `${group}/${id}`, group, name, run });
  let openFailure: string | null = null;
  const failedSizes = new Map<number, string>();

  const needOpen = () => {
    if (openFailure !== null) throw new Skip(`cannot use ${target.path}: ${openFailure}`);
  };
  const alloc = (length: number, label = "allocation"): DmaBuf => {
    needOpen();
    const failed = failedSizes.get(length);
    if (failed !== undefined) throw new Skip(`${label} of ${formatBytes(length)} failed earlier: ${failed}`);
    if (target.kind === "udmabuf") return allocUdmabuf(length, NAME_PREFIX);
    using heap = DmaHeap.open(target.name, target.dir);
    return heap.alloc(length);
  };

  check("open", `open ${target.path}`, () => {
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
      openFailure = error instanceof Error ? error.message : String(error);
      if (error instanceof SyscallError) {
        const hint = error.is("EACCES") ? " (run as root, or grant access with a udev rule)" : "";
        throw new CheckFailure(`${error.message}${hint}`, { path: target.path, actual: error.code });
      }
      throw error;
    }
  });

  for (const requested of SMOKE_SIZES) {
    const size = target.maxBytes === null ? requested : Math.min(requested, target.maxBytes);
    const capped = size === requested ? "" : ` (capped from ${formatBytes(requested)}: ${target.capReason})`;
    const label = `${formatBytes(size)}${capped}`;
    const id = sizeId(size);
    check(`alloc-${id}`, `allocate ${label}`, () => {
      try {
        using buf = alloc(size);
        return { bytes: size, inode: buf.inode() };
      } catch (error) {
        if (error instanceof SyscallError) {
          failedSizes.set(size, error.code);
          throw new CheckFailure(error.message, { bytes: size, actual: error.code });
        }
        throw error;
      }
    });
    check(`size-${id}`, `lseek(SEEK_END) of a ${formatBytes(size)} buffer equals its size`, () => {
      using buf = alloc(size);
      const seen = buf.size();
      const expected = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
      if (seen !== expected) {
        throw new CheckFailure(`lseek(SEEK_END) returned ${seen}, expected ${expected}`, {
          expected,
          actual: seen,
        });
      }
      return { bytes: seen };
    });
    check(`zeroed-${id}`, `a new ${formatBytes(size)} buffer reads as zeros`, () => {
      using buf = alloc(size);
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
    });
    check(
      `mmap-${id}`,
      `mmap write/verify of ${formatBytes(size)} inside DMA_BUF_IOCTL_SYNC brackets`,
      () => {
        using buf = alloc(size);
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
      },
    );
  }

  const smallest = SMOKE_SIZES[0];
  const bufferName = () => `${NAME_PREFIX}-${Deno.pid}-${++state.named}`;
  check("set-name-fdinfo", "DMA_BUF_SET_NAME is visible in fdinfo", () => {
    using buf = alloc(smallest);
    const name = bufferName();
    buf.setName(name);
    const seen = buf.fdinfo().name;
    if (seen !== name) {
      throw new CheckFailure(`fdinfo shows name ${JSON.stringify(seen)}, set ${JSON.stringify(name)}`, {
        expected: name,
        actual: seen,
      });
    }
    return { name };
  });
  check("set-name-bufinfo", "DMA_BUF_SET_NAME is visible in debugfs bufinfo", () => {
    using buf = alloc(smallest);
    const path = debugfsBufinfo();
    const name = bufferName();
    buf.setName(name);
    const inode = buf.inode();
    const text = readBufinfo(path);
    const entry = parseBufinfo(text).buffers.find((b) => b.inode === inode);
    if (entry === undefined) {
      throw new CheckFailure(`inode ${inode} is not listed in ${path}`, { inode, path });
    }
    if (entry.name !== name) {
      throw new CheckFailure(
        `${path} shows name ${JSON.stringify(entry.name)}, set ${JSON.stringify(name)}`,
        {
          inode,
          expected: name,
          actual: entry.name,
        },
      );
    }
    return { inode, name, path };
  });
  check("export-sync-file", "DMA_BUF_IOCTL_EXPORT_SYNC_FILE of an idle buffer is signalled", () => {
    using buf = alloc(smallest);
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
  });

  check("sync-bad-flags", "DMA_BUF_IOCTL_SYNC with undefined flags fails with EINVAL", () => {
    using buf = alloc(smallest);
    return expectErrno(
      "EINVAL",
      "DMA_BUF_IOCTL_SYNC with flags 0x8",
      () => buf.syncRaw(DmaBufSyncFlags.DMA_BUF_SYNC_VALID_FLAGS_MASK + 1),
    );
  });
  if (target.kind === "heap") {
    const heapCall = (what: string, call: (heap: DmaHeap) => Disposable) => () => {
      needOpen();
      using heap = DmaHeap.open(target.name, target.dir);
      return expectErrno("EINVAL", what, () => call(heap));
    };
    check(
      "alloc-len-0",
      "DMA_HEAP_IOCTL_ALLOC with len 0 fails with EINVAL",
      heapCall("DMA_HEAP_IOCTL_ALLOC with len 0", (heap) => heap.alloc(0)),
    );
    check(
      "alloc-bad-fd-flags",
      "DMA_HEAP_IOCTL_ALLOC with fd_flags outside O_CLOEXEC|O_ACCMODE fails with EINVAL",
      heapCall(
        "DMA_HEAP_IOCTL_ALLOC with fd_flags O_RDWR|O_NONBLOCK",
        (heap) => heap.alloc(PAGE_SIZE, { fdFlags: OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK }),
      ),
    );
    check(
      "alloc-heap-flags",
      "DMA_HEAP_IOCTL_ALLOC with heap_flags != 0 fails with EINVAL",
      heapCall("DMA_HEAP_IOCTL_ALLOC with heap_flags 1", (heap) => heap.alloc(PAGE_SIZE, { heapFlags: 1n })),
    );
  } else {
    check("create-unsealed", "UDMABUF_CREATE of a memfd without F_SEAL_SHRINK fails with EINVAL", () => {
      needOpen();
      using memfd = memfdCreate(NAME_PREFIX, BigInt(PAGE_SIZE));
      return expectErrno(
        "EINVAL",
        "UDMABUF_CREATE of an unsealed memfd",
        () => createUdmabuf(memfd, PAGE_SIZE, 0, target.path),
      );
    });
    check(
      "create-unaligned",
      "UDMABUF_CREATE with a size that is not a page multiple fails with EINVAL",
      () => {
        needOpen();
        using memfd = sealedMemfd(NAME_PREFIX, 2 * PAGE_SIZE);
        return expectErrno(
          "EINVAL",
          `UDMABUF_CREATE of ${PAGE_SIZE + 1} bytes`,
          () => createUdmabuf(memfd, PAGE_SIZE + 1, 0, target.path),
        );
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
    return readTextFile(path);
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

/** The check that there is anything to test at all. */
function presenceCheck(targets: readonly SmokeTarget[], heapDir: string): Check {
  return {
    id: `${BATTERY_GROUP}/heaps-present`,
    group: BATTERY_GROUP,
    name: "the kernel offers dma-heaps or udmabuf",
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
}

/**
 * The whole battery: presence, each target's checks, then the fd-leak check. The fds are counted now, so call
 * it right before running the checks.
 */
export function smokeBattery(options: BatteryOptions): Check[] {
  const before = openFds();
  const state: BatteryState = { named: 0 };
  return [
    presenceCheck(options.targets, options.heapDir ?? HEAP_DIR),
    ...options.targets.flatMap((target) => targetChecks(target, state)),
    leakCheck(before),
  ];
}

/** Runs one check and records its outcome and time; never throws. */
export function runCheck(check: Check): CheckResult {
  const start = performance.now();
  const done = (status: CheckResult["status"], reason: string | null, details: Record<string, Detail>) => ({
    id: check.id,
    group: check.group,
    name: check.name,
    status,
    reason,
    details,
    durationMs: performance.now() - start,
  });
  try {
    return done("pass", null, check.run() ?? {});
  } catch (error) {
    if (error instanceof Skip) return done("skip", error.message, {});
    if (error instanceof CheckFailure) return done("fail", error.message, error.details);
    const errno = errnoOf(error);
    const message = error instanceof Error ? error.message : String(error);
    return done("fail", message.split("\n", 1)[0] ?? message, errno === null ? {} : { actual: errno });
  }
}
