/**
 * dma-heaps (`/dev/dma_heap/<name>`, `include/uapi/linux/dma-heap.h`): discovery, the `cma` alias, allocation.
 * @module
 */

import { DmaBuf } from "./dma_buf.ts";
import { Fd, listDir, OpenFlags, openPath, readLink, stat } from "./fd.ts";
import { SyscallError } from "./errno.ts";
import { DmaHeapAllocationData } from "./structs.ts";

/** Where devtmpfs creates heap device nodes (`dma_heap_devnode`: `dma_heap/%s`). */
export const HEAP_DIR = "/dev/dma_heap";

/** The misc device that turns memfds into dma-bufs. */
export const UDMABUF_PATH = "/dev/udmabuf";

/** The pseudo-heap name under which udmabuf is offered. */
export const UDMABUF_HEAP = "udmabuf";

/**
 * Names the default CMA area's heap has had, in the order the `cma` alias tries them: the stable 6.17 name,
 * the DT `reserved-memory` node name, the name from `cma=` / `CONFIG_CMA_SIZE_*`, and the kernel docs' name.
 */
export const CMA_HEAP_NAMES = ["default_cma_region", "linux,cma", "reserved", "default-pool"] as const;

/** The alias accepted wherever a heap name is. */
export const CMA_ALIAS = "cma";

/** The heap of the default CMA area under its own name (6.17+), beside the heap named after the area. */
export const DEFAULT_CMA_HEAP = "default_cma_region";

/** Where CMA areas are listed by name: sysfs (`CONFIG_CMA_SYSFS`, 5.14+) and debugfs (`CONFIG_CMA_DEBUGFS`). */
export const CMA_AREA_DIRS = ["/sys/kernel/mm/cma", "/sys/kernel/debug/cma"] as const;

/** The names of the CMA areas, from the first of {@link CMA_AREA_DIRS} that lists them; null when none does. */
export function cmaAreaNames(dirs: readonly string[] = CMA_AREA_DIRS): string[] | null {
  for (const dir of dirs) {
    try {
      return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    } catch {
      // Not this kernel's option, or not mounted: try the next.
    }
  }
  return null;
}

/**
 * The heap that is the same memory as {@link DEFAULT_CMA_HEAP}, or null. From 6.17 the kernel adds a heap for
 * the default CMA area under the name `default_cma_region` and also (7.x: one heap per CMA area; 6.17-6.19:
 * CONFIG_DMABUF_HEAPS_CMA_LEGACY) a heap named after the area itself — `reserved` for `cma=`, the node name
 * of a devicetree region. The area's heap is the one named after the only CMA area, or else the one whose
 * name is a legacy default-area name that is also an area's.
 */
export function sameCmaArea(heapNames: readonly string[], areas: readonly string[] | null): string | null {
  if (!heapNames.includes(DEFAULT_CMA_HEAP)) return null;
  const others = heapNames.filter((name) => name !== DEFAULT_CMA_HEAP);
  if (areas !== null && areas.length === 1) return others.includes(areas[0]!) ? areas[0]! : null;
  const legacy = CMA_HEAP_NAMES.filter((name) =>
    name !== DEFAULT_CMA_HEAP && others.includes(name) && (areas === null || areas.includes(name))
  );
  return legacy.length === 1 ? legacy[0]! : null;
}

/** A heap found under {@link HEAP_DIR} (or udmabuf as a pseudo-heap). */
export interface HeapEntry {
  /** Directory entry name, e.g. `system`, `linux,cma`, or `udmabuf`. */
  name: string;
  /** Device path. */
  path: string;
  /** What the entry links to when it is a symlink (e.g. `vidbuf_cached` → `/dev/dma_heap/system`), else null. */
  target: string | null;
  /** Whether this process can open the device read-only (what allocation needs). */
  accessible: boolean;
  /** The errno name when it cannot, e.g. `EACCES`; null when accessible. */
  error: string | null;
  /** Owner uid of the device node. */
  uid: number | null;
  /** Owner gid of the device node. */
  gid: number | null;
  /** Permission bits of the device node, e.g. 0o600. */
  mode: number | null;
  /** True for the udmabuf pseudo-heap. */
  pseudo: boolean;
}

/** The longest file name (`NAME_MAX`, `include/uapi/linux/limits.h`): no heap has a longer one. */
const NAME_MAX = 255;

/**
 * The one rule for heap names (the CLI's parser and {@link checkHeapName} both use it): a heap name is a single
 * entry of the heap directory, so it is not empty, has no `/` or NUL, and is not `.`; `..` is refused anywhere
 * in it (no kernel names a heap so, and a name that looks like a path step is more likely a mistake), and it
 * is not longer than a file name can be.
 * Returns why `name` is not one, or undefined when it is.
 */
export function heapNameProblem(name: string): string | undefined {
  if (name === "") return "empty";
  if (name.includes("/")) return "contains /";
  if (name.includes("\0")) return "contains a NUL byte";
  if (name.includes("..")) return "contains ..";
  if (name === ".") return ". is a directory, not a heap";
  if (new TextEncoder().encode(name).length > NAME_MAX) {
    return `longer than a file name can be (${NAME_MAX} bytes)`;
  }
  return undefined;
}

/** Checks that `name` is a plain heap name, not a path ({@link heapNameProblem}). @throws {RangeError} */
export function checkHeapName(name: string): void {
  const problem = heapNameProblem(name);
  if (problem !== undefined) {
    throw new RangeError(
      `Invalid heap name "${name}": ${problem}; a heap name is a single entry of ${HEAP_DIR}`,
    );
  }
}

function probe(path: string): Pick<HeapEntry, "accessible" | "error" | "uid" | "gid" | "mode"> {
  let uid: number | null = null, gid: number | null = null, mode: number | null = null;
  try {
    const info = stat(path);
    uid = info.uid;
    gid = info.gid;
    mode = info.mode & 0o7777;
  } catch {
    // a dangling symlink: reported through open below
  }
  try {
    openPath(path, { flags: OpenFlags.O_RDONLY }).close();
    return { accessible: true, error: null, uid, gid, mode };
  } catch (error) {
    return {
      accessible: false,
      error: error instanceof SyscallError ? error.code : String(error),
      uid,
      gid,
      mode,
    };
  }
}

function entry(name: string, path: string, pseudo: boolean): HeapEntry {
  let target: string | null = null;
  try {
    target = readLink(path);
    if (!target.startsWith("/")) target = `${path.slice(0, path.lastIndexOf("/"))}/${target}`;
  } catch {
    // EINVAL: not a symlink
  }
  return { name, path, target, pseudo, ...probe(path) };
}

/**
 * The heaps under {@link HEAP_DIR}, sorted by name, plus udmabuf when `/dev/udmabuf` exists.
 * Returns null when the heap directory does not exist (a kernel without `CONFIG_DMABUF_HEAPS`).
 */
export function listHeaps(dir = HEAP_DIR, udmabufPath: string | null = UDMABUF_PATH): HeapEntry[] | null {
  let names: string[];
  try {
    names = listDir(dir).sort();
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOENT")) names = [];
    else throw error;
    if (udmabufPath === null || !exists(udmabufPath)) return null;
  }
  const heaps = names.map((name) => entry(name, `${dir}/${name}`, false));
  if (udmabufPath !== null && exists(udmabufPath)) heaps.push(entry(UDMABUF_HEAP, udmabufPath, true));
  return heaps;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The heap a user-given name means: `cma` becomes the first of {@link CMA_HEAP_NAMES} that exists (a real heap
 * called `cma`, as on Rockchip BSPs, wins); other names are taken as they are.
 * @throws {RangeError} for names that are paths
 */
export function resolveHeapName(name: string, dir = HEAP_DIR): string {
  checkHeapName(name);
  if (name !== CMA_ALIAS || exists(`${dir}/${CMA_ALIAS}`)) return name;
  return CMA_HEAP_NAMES.find((candidate) => exists(`${dir}/${candidate}`)) ?? name;
}

/** Options of {@link DmaHeap.alloc}. */
export interface AllocOptions {
  /** Flags of the new fd, `O_RDWR` by default; `O_CLOEXEC` is always added. */
  fdFlags?: number;
  /** `heap_flags`; none are defined, so anything but 0 is an error test. */
  heapFlags?: bigint;
}

/** An open dma-heap device. */
export class DmaHeap implements Disposable {
  /** The heap's name. */
  readonly name: string;
  /** The heap device fd. */
  readonly file: Fd;
  /** Reused ioctl argument: allocating it per call costs more than a small allocation's ioctl. */
  readonly #allocArg = new Uint8Array(DmaHeapAllocationData.SIZE);

  private constructor(name: string, file: Fd) {
    this.name = name;
    this.file = file;
  }

  /**
   * Opens `/dev/dma_heap/<name>` read-only (allocation needs no more; libdmabufheap does the same).
   * `cma` is resolved as by {@link resolveHeapName}.
   * @throws {RangeError} for names that are paths
   * @throws {SyscallError} ENOENT (no such heap) or EACCES
   */
  static open(name: string, dir = HEAP_DIR): DmaHeap {
    const resolved = resolveHeapName(name, dir);
    return new DmaHeap(resolved, openPath(`${dir}/${resolved}`, { flags: OpenFlags.O_RDONLY }));
  }

  /**
   * `DMA_HEAP_IOCTL_ALLOC` of `length` bytes (the kernel rounds up to whole pages).
   * @throws {SyscallError} ENOMEM on exhaustion, EINVAL for length 0 or bad flags
   */
  alloc(length: number | bigint, options: AllocOptions = {}): DmaBuf {
    const fdFlags = (options.fdFlags ?? OpenFlags.O_RDWR) | OpenFlags.O_CLOEXEC;
    const arg = this.#allocArg;
    DmaHeapAllocationData.encodeInto(arg, {
      len: BigInt(length),
      fd: 0,
      fdFlags,
      heapFlags: options.heapFlags ?? 0n,
    });
    this.file.ioctl("DMA_HEAP_IOCTL_ALLOC", arg);
    const fd = DmaHeapAllocationData.decode(arg).fd;
    return new DmaBuf(new Fd(fd, `dma-buf from ${this.name}`));
  }

  /** Closes the heap fd (buffers allocated from it stay valid). */
  close(): void {
    this.file.close();
  }

  /** Closes the heap fd, swallowing errors. */
  [Symbol.dispose](): void {
    this.file[Symbol.dispose]();
  }
}
