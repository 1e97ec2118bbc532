/**
 * The kernel's CMA areas (Contiguous Memory Allocator, `mm/cma.c`), as sysfs and debugfs show them:
 * - `/sys/kernel/mm/cma/<area>/` (`CONFIG_CMA_SYSFS`, 5.14+): `alloc_pages_success`, `alloc_pages_fail`,
 *   `release_pages_success` (6.3+), `total_pages` and `available_pages` (newer kernels); world-readable.
 * - `<debugfs>/cma/<area>/` (`CONFIG_CMA_DEBUGFS`; the directory is `cma-<area>` cut to 15 characters on
 *   5.10): `count` (pages in the area), `used` (pages allocated), `maxchunk` (the largest run of free pages),
 *   `order_per_bit` and `bitmap` (one bit per 2^order_per_bit pages, as 32-bit words); root-only like all of
 *   debugfs.
 * Every count is in pages of the kernel's page size.
 * @module
 */

import { SyscallError } from "./errno.ts";
import { listDir, readProcSysFile } from "./fd.ts";

/** Where the CMA areas are in sysfs. */
export const CMA_SYSFS_DIR = "/sys/kernel/mm/cma";
/** The CMA directory inside debugfs. */
export const CMA_IN_DEBUGFS = "cma";
/** The prefix 5.10's debugfs puts before an area's name (`cma_debugfs_add_one`: `"cma-%s"`). */
const LEGACY_DEBUGFS_PREFIX = "cma-";

/** An area's sysfs counters (each null where this kernel has no such file). */
export interface CmaSysfs {
  /** Pages allocated successfully since boot. */
  allocPagesSuccess: number | null;
  /** Pages that could not be allocated since boot. */
  allocPagesFail: number | null;
  /** Pages released since boot. */
  releasePagesSuccess: number | null;
  /** Pages in the area. */
  totalPages: number | null;
  /** Pages free in the area. */
  availablePages: number | null;
}

/** An area's debugfs values (each null where it could not be read). */
export interface CmaDebugfs {
  /** The directory read. */
  dir: string;
  /** Pages in the area. */
  count: number | null;
  /** Pages allocated. */
  used: number | null;
  /** The largest run of free pages (`maxchunk`, or computed from `bitmap` when that is missing). */
  maxchunk: number | null;
  /** Where {@link maxchunk} came from. */
  maxchunkFrom: "maxchunk" | "bitmap" | null;
  /** One bitmap bit stands for 2^order_per_bit pages. */
  orderPerBit: number | null;
}

/** One CMA area. */
export interface CmaArea {
  /** The area's name (`reserved` from `cma=`, a devicetree node name such as `linux,cma`). */
  name: string;
  /** Its sysfs counters, or null when sysfs does not list it. */
  sysfs: CmaSysfs | null;
  /** Its debugfs values, or null when debugfs does not list it. */
  debugfs: CmaDebugfs | null;
}

/** What {@link readCmaAreas} found. */
export interface CmaAreas {
  /** The areas, sorted by name. */
  areas: CmaArea[];
  /** Why sysfs could not be listed (`ENOENT`: no `CONFIG_CMA_SYSFS`), or null. */
  sysfsError: string | null;
  /** Why debugfs could not be listed (`EACCES`, `ENOENT`, `not mounted`), or null. */
  debugfsError: string | null;
}

/** The number in a one-number file, or null when it cannot be read. */
function readNumber(path: string): number | null {
  try {
    const value = Number(readProcSysFile(path).trim());
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

function errorCode(error: unknown): string {
  if (error instanceof SyscallError) return error.code;
  throw error;
}

/**
 * The largest run of clear bits among the first `bits` bits of a bitmap given as 32-bit words (bit i of
 * word w is bit 32·w + i, as a little-endian machine's `unsigned long` bitmap reads).
 */
export function largestClearRun(words: readonly number[], bits: number): number {
  let best = 0;
  let run = 0;
  for (let bit = 0; bit < bits; bit++) {
    const word = words[bit >>> 5] ?? 0;
    if ((word >>> (bit & 31)) & 1) {
      run = 0;
    } else if (++run > best) {
      best = run;
    }
  }
  return best;
}

/** Parses debugfs's `u32_array` text (`4294967295 15 0\n`). */
export function parseU32Array(text: string): number[] {
  return text.trim().split(/\s+/).filter((w) => w !== "").map(Number);
}

function readDebugfsArea(dir: string): CmaDebugfs {
  const count = readNumber(`${dir}/count`);
  const orderPerBit = readNumber(`${dir}/order_per_bit`);
  let maxchunk = readNumber(`${dir}/maxchunk`);
  let maxchunkFrom: CmaDebugfs["maxchunkFrom"] = maxchunk === null ? null : "maxchunk";
  if (maxchunk === null && count !== null && orderPerBit !== null) {
    try {
      const words = parseU32Array(readProcSysFile(`${dir}/bitmap`));
      maxchunk = largestClearRun(words, Math.floor(count / 2 ** orderPerBit)) * 2 ** orderPerBit;
      maxchunkFrom = "bitmap";
    } catch {
      // neither maxchunk nor bitmap: leave it unknown
    }
  }
  return { dir, count, used: readNumber(`${dir}/used`), maxchunk, maxchunkFrom, orderPerBit };
}

/** Options of {@link readCmaAreas}. */
export interface CmaPaths {
  /** The sysfs directory of the areas; default {@link CMA_SYSFS_DIR}. */
  sysfsDir?: string;
  /** The debugfs mount point, or null when debugfs is not mounted. */
  debugfs: string | null;
}

/** Reads every CMA area from sysfs and debugfs. Never throws for a missing or unreadable source. */
export function readCmaAreas(paths: CmaPaths): CmaAreas {
  const sysfsDir = paths.sysfsDir ?? CMA_SYSFS_DIR;
  const areas = new Map<string, CmaArea>();
  const area = (name: string) => {
    let found = areas.get(name);
    if (found === undefined) areas.set(name, found = { name, sysfs: null, debugfs: null });
    return found;
  };
  let sysfsError: string | null = null;
  try {
    for (const name of listDir(sysfsDir)) {
      const at = (file: string) => readNumber(`${sysfsDir}/${name}/${file}`);
      area(name).sysfs = {
        allocPagesSuccess: at("alloc_pages_success"),
        allocPagesFail: at("alloc_pages_fail"),
        releasePagesSuccess: at("release_pages_success"),
        totalPages: at("total_pages"),
        availablePages: at("available_pages"),
      };
    }
  } catch (error) {
    sysfsError = errorCode(error);
  }
  let debugfsError: string | null = null;
  if (paths.debugfs === null) {
    debugfsError = "debugfs not mounted";
  } else {
    const root = `${paths.debugfs}/${CMA_IN_DEBUGFS}`;
    try {
      for (const entry of listDir(root)) {
        const legacy = entry.startsWith(LEGACY_DEBUGFS_PREFIX) && !areas.has(entry);
        const name = legacy ? entry.slice(LEGACY_DEBUGFS_PREFIX.length) : entry;
        area(name).debugfs = readDebugfsArea(`${root}/${entry}`);
      }
    } catch (error) {
      debugfsError = errorCode(error);
    }
  }
  return {
    areas: [...areas.values()].sort((a, b) => a.name.localeCompare(b.name)),
    sysfsError,
    debugfsError,
  };
}
