/**
 * What `dmabuf smoke` and `dmabuf bench` run on: each dma-heap (or the ones asked for) and udmabuf, with the
 * largest buffer each may be asked for.
 * @module
 */

import { formatBytes } from "../toolkit/units.ts";
import {
  CMA_ALIAS,
  CMA_HEAP_NAMES,
  HEAP_DIR,
  listHeaps,
  resolveHeapName,
  UDMABUF_HEAP,
  UDMABUF_PATH,
} from "../../ffi/dma_heap.ts";
import { udmabufLimit } from "../../ffi/udmabuf.ts";
import { pageSize } from "../../ffi/page_size.ts";
import { readCmaInfo } from "../heaps.ts";

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
  let size = pageSize();
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
