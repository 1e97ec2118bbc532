/**
 * `dmabuf heaps`: the dma-heaps of this kernel, udmabuf, who may use them, and the CMA pool.
 * @module
 */

import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { formatBytes } from "./toolkit/units.ts";
import {
  CMA_ALIAS,
  cmaAreaNames,
  HEAP_DIR,
  type HeapEntry,
  listHeaps,
  resolveHeapName,
  sameCmaArea,
} from "../ffi/dma_heap.ts";
import { readProcSysFile } from "../ffi/fd.ts";
import { parseMeminfo } from "../ffi/text/meminfo.ts";

/** Flags of `dmabuf heaps`. */
export type HeapsFlags = CommonFlags;

/** CMA pool size and free memory from /proc/meminfo, when the kernel has CMA. */
export interface CmaInfo {
  /** `CmaTotal` in bytes. */
  totalBytes: number;
  /** `CmaFree` in bytes. */
  freeBytes: number;
}

/** Reads CmaTotal/CmaFree from /proc/meminfo; null when the kernel has no CMA or meminfo is unreadable. */
export function readCmaInfo(path = "/proc/meminfo"): CmaInfo | null {
  let fields: Map<string, number>;
  try {
    fields = parseMeminfo(readProcSysFile(path));
  } catch {
    return null;
  }
  const total = fields.get("CmaTotal");
  const free = fields.get("CmaFree");
  return total === undefined || free === undefined ? null : { totalBytes: total, freeBytes: free };
}

/** The kernel options a machine without heaps lacks. */
export const HEAP_KERNEL_OPTIONS =
  "CONFIG_DMABUF_HEAPS=y with CONFIG_DMABUF_HEAPS_SYSTEM=y and/or CONFIG_DMABUF_HEAPS_CMA=y (plus a CMA area, " +
  "e.g. cma=64M), or CONFIG_UDMABUF=y for /dev/udmabuf";

function ownerText(heap: HeapEntry): string {
  if (heap.mode === null) return "?";
  return `${heap.mode.toString(8).padStart(4, "0")} ${heap.uid}:${heap.gid}`;
}

/** Lists the heaps. */
export function heaps(this: DmabufContext, flags: HeapsFlags): void {
  const out = this.output(flags);
  const found = listHeaps();
  const cma = readCmaInfo();
  const cmaName = resolveHeapName(CMA_ALIAS);
  // 6.17+: default_cma_region and the heap named after the default CMA area are one memory.
  const twin = sameCmaArea((found ?? []).filter((h) => !h.pseudo).map((h) => h.name), cmaAreaNames());
  const sameMemoryAs = (heap: HeapEntry): string | null =>
    twin === null ? null : heap.name === twin ? cmaName : heap.name === cmaName ? twin : null;
  if (out.json) {
    out.data(
      (found ?? []).map((heap) => ({
        name: heap.name,
        path: heap.path,
        target: heap.target,
        accessible: heap.accessible,
        error: heap.error,
        mode: heap.mode,
        uid: heap.uid,
        gid: heap.gid,
        pseudo: heap.pseudo,
        cmaAlias: !heap.pseudo && cmaName === heap.name,
        sameMemoryAs: sameMemoryAs(heap),
      })),
    );
    return;
  }
  if (found === null || found.length === 0) {
    out.line(`No dma-heaps: ${HEAP_DIR} does not exist and there is no /dev/udmabuf on this kernel.`);
    out.line(`They need ${HEAP_KERNEL_OPTIONS}.`);
    out.line(
      "To try dmabuf on a kernel that has them, run it in the project's test VM: deno task vm -- dmabuf heaps",
    );
    return;
  }
  out.table([
    {
      header: "NAME",
      cell: (h: HeapEntry) =>
        h.name + (h.name === cmaName && h.name !== CMA_ALIAS ? " (cma)" : "") +
        (h.name === twin ? ` (= ${cmaName})` : ""),
    },
    { header: "ACCESS", cell: (h) => h.accessible ? "yes" : `no (${h.error})` },
    { header: "MODE", cell: ownerText },
    { header: "PATH", cell: (h) => h.path + (h.target === null ? "" : ` -> ${h.target}`) },
  ], found);
  if (cma !== null) {
    const one = twin === null ? "" : ` (${cmaName} and ${twin} are one area, counted once)`;
    out.line(`\nCMA: ${formatBytes(cma.freeBytes)} free of ${formatBytes(cma.totalBytes)}${one}`);
  }
  const denied = found.filter((h) => !h.accessible && h.error === "EACCES");
  if (denied.length > 0) {
    out.note(
      `dmabuf: ${
        denied.map((h) => h.name).join(", ")
      } not accessible to uid ${Deno.uid()}: run as root, or give ` +
        `a group access with a udev rule such as SUBSYSTEM=="dma_heap", GROUP="video", MODE="0660"`,
    );
  }
}
