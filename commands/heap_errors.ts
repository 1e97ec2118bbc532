/**
 * What to tell the user when a heap (or udmabuf) cannot be opened or cannot allocate: which heaps exist, who
 * may open the device and how to get access, and how much memory was left.
 * @module
 */

import { CliError } from "./toolkit/errors.ts";
import { formatBytes } from "./toolkit/units.ts";
import { SyscallError } from "../ffi/errno.ts";
import { geteuid, readProcSysFile, stat } from "../ffi/fd.ts";
import { HEAP_DIR, listHeaps, UDMABUF_HEAP, UDMABUF_PATH } from "../ffi/dma_heap.ts";
import { parseMeminfo } from "../ffi/text/meminfo.ts";
import { HEAP_KERNEL_OPTIONS } from "./heaps.ts";

/** Memory figures from /proc/meminfo that explain an ENOMEM, in bytes (null when the kernel has none). */
export interface MemoryLeft {
  /** `MemAvailable`. */
  memAvailable: number | null;
  /** `CmaFree`. */
  cmaFree: number | null;
  /** `CmaTotal`. */
  cmaTotal: number | null;
}

/** Reads MemAvailable, CmaFree and CmaTotal; all null when /proc/meminfo is unreadable. */
export function memoryLeft(path = "/proc/meminfo"): MemoryLeft {
  try {
    const fields = parseMeminfo(readProcSysFile(path));
    return {
      memAvailable: fields.get("MemAvailable") ?? null,
      cmaFree: fields.get("CmaFree") ?? null,
      cmaTotal: fields.get("CmaTotal") ?? null,
    };
  } catch {
    return { memAvailable: null, cmaFree: null, cmaTotal: null };
  }
}

/** `CmaFree 12 MiB of 64 MiB, MemAvailable 1.5 GiB`, leaving out what the kernel does not report. */
export function formatMemoryLeft(memory: MemoryLeft): string {
  const parts: string[] = [];
  if (memory.cmaFree !== null) {
    parts.push(
      `CmaFree ${formatBytes(memory.cmaFree)}` +
        (memory.cmaTotal === null ? "" : ` of ${formatBytes(memory.cmaTotal)}`),
    );
  }
  if (memory.memAvailable !== null) parts.push(`MemAvailable ${formatBytes(memory.memAvailable)}`);
  return parts.length === 0 ? "/proc/meminfo is not readable" : parts.join(", ");
}

/** The heap names that exist here (udmabuf included), for "unknown heap" messages. */
export function existingHeapNames(): string[] {
  try {
    return (listHeaps() ?? []).map((heap) => heap.name);
  } catch {
    return [];
  }
}

/** `mode 0600, owner 0:0` of a device node, or null when it cannot be stat'ed. */
function ownership(path: string): string | null {
  try {
    const info = stat(path);
    return `mode ${(info.mode & 0o7777).toString(8).padStart(4, "0")}, owner ${info.uid}:${info.gid}`;
  } catch {
    return null;
  }
}

/** How to get access to a heap device node the user cannot open. */
export function accessHint(path: string): string {
  const owner = ownership(path);
  return `${path}${
    owner === null ? "" : ` is ${owner};`
  } uid ${geteuid()} may not open it: run as root, or ` +
    `give a group access with a udev rule such as ` +
    (path === UDMABUF_PATH
      ? `KERNEL=="udmabuf", GROUP="video", MODE="0660"`
      : `SUBSYSTEM=="dma_heap", GROUP="video", MODE="0660"`) +
    ` and add the user to that group`;
}

/** What a heap request allocates from. */
export interface HeapRequest {
  /** The heap name as the user gave it (`cma` unresolved). */
  heap: string;
  /** The resolved heap name, when known. */
  resolved?: string;
  /** Bytes asked for. */
  size: number;
}

/**
 * Turns a failure to open or allocate from a heap into a one-line {@link CliError} with a hint; other errors
 * are returned as they are.
 */
export function explainHeapError(error: unknown, request: HeapRequest): unknown {
  if (!(error instanceof SyscallError)) return error;
  const udmabuf = request.heap === UDMABUF_HEAP;
  const name = request.resolved ?? request.heap;
  const path = udmabuf ? UDMABUF_PATH : `${HEAP_DIR}/${name}`;
  if (error.syscall === "open" && error.is("ENOENT")) {
    const names = existingHeapNames();
    const hint = names.length === 0
      ? `this kernel has no dma-heaps and no /dev/udmabuf: they need ${HEAP_KERNEL_OPTIONS}`
      : `heaps here: ${names.join(", ")}`;
    return new CliError(`No heap "${request.heap}": ${path} does not exist`, { hint, cause: error });
  }
  if (error.syscall === "open" && (error.is("EACCES") || error.is("EPERM"))) {
    return new CliError(`Permission denied opening ${path}`, { hint: accessHint(path), cause: error });
  }
  if (error.is("ENOMEM")) {
    return new CliError(
      `Cannot allocate ${formatBytes(request.size)} from ${
        udmabuf ? "udmabuf" : `heap ${name}`
      }: ${error.message}`,
      { hint: formatMemoryLeft(memoryLeft()), cause: error },
    );
  }
  return error;
}
