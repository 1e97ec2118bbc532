/**
 * `dmabuf stat` data: one snapshot of the system's dma-bufs from a source (debugfs bufinfo, sysfs stats, a
 * /proc scan, or a saved file), in one buffer shape whatever the source; fields a source cannot know are null.
 * @module
 */

import { CliError } from "../toolkit/errors.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { readTextFile } from "../../ffi/fd.ts";
import { type ProcessScan, readMounts, scanAllProcesses } from "../../ffi/procfs.ts";
import { readSysfsStats, SYSFS_BUFFERS_DIR } from "../../ffi/sysfs_stats.ts";
import {
  type BufinfoFence,
  type BufinfoGeneration,
  type BufinfoTotals,
  parseBufinfo,
  type UnparsedLine,
} from "../../ffi/text/bufinfo.ts";
import { bufinfoPath, DEFAULT_DEBUGFS } from "../../ffi/text/mounts.ts";

/** Where a snapshot came from: `file` is `--input`/`--compare`. */
export type SourceName = "debugfs" | "sysfs" | "proc" | "file";

/** `--source` values. */
export type SourceChoice = "auto" | "debugfs" | "sysfs" | "proc";

/** One dma-buf in the common shape. */
export interface StatBuffer {
  /** Inode number: the buffer's identity. */
  inode: number;
  /** Size in bytes (a /proc scan that only sees a partial mapping reports the mapped length). */
  size: number;
  /** Exporter name; null when unknown (a /proc scan that only sees a mapping, without sysfs). */
  exporter: string | null;
  /** Name; null when unnamed or, with `nameKnown` false, unknown. */
  name: string | null;
  /** References to the buffer's file (bufinfo `count`, or fdinfo `count` which is the same quantity); null when unknown. */
  count: number | null;
  /** `f_flags`; null when unknown. */
  flags: number | null;
  /** `f_mode`; null when unknown (only bufinfo has it). */
  mode: number | null;
  /** Attached devices; null when the source cannot know (only bufinfo has them). */
  attachments: string[] | null;
  /** Fences; null when the source cannot know (only bufinfo has them). */
  fences: BufinfoFence[] | null;
  /** Whether `name: null` means "unnamed" (true) or "not known from this source" (false). Not in JSON. */
  nameKnown: boolean;
}

/** A snapshot of the system's (or a file's) dma-bufs. */
export interface Snapshot {
  /** Which source was used. */
  source: SourceName;
  /** The file or directory read (`-` for stdin). */
  sourcePath: string;
  /** The bufinfo format generation; null when not from bufinfo. */
  generation: BufinfoGeneration | null;
  /** The buffers, in source order. */
  buffers: StatBuffer[];
  /** bufinfo's own `Total` line; null when absent or not from bufinfo. */
  reportedTotals: BufinfoTotals | null;
  /** bufinfo lines not understood. */
  unparsed: UnparsedLine[];
  /** Why better sources were not used (auto), in order. */
  fallbacks: string[];
  /** The /proc scan, when one was made (sysfs joins names from it; proc is built from it; --procs uses it). */
  scan: ProcessScan | null;
}

/** A source that cannot be used here: why, and what the user can do. */
export class SourceUnavailable extends Error {
  /** What the user can do about it. */
  readonly hint: string;
  /** Makes the error. */
  constructor(message: string, hint: string) {
    super(message);
    this.name = "SourceUnavailable";
    this.hint = hint;
  }
}

const SYSFS_KERNEL = "CONFIG_DMABUF_SYSFS_STATS (v5.13 to v6.18)";

function fromBufinfoText(text: string, source: SourceName, sourcePath: string): Snapshot | null {
  const parsed = parseBufinfo(text);
  if (!parsed.recognized) return null;
  return {
    source,
    sourcePath,
    generation: parsed.generation,
    buffers: parsed.buffers.map((b) => ({ ...b, nameKnown: true })),
    reportedTotals: parsed.totals,
    unparsed: parsed.unparsed,
    fallbacks: [],
    scan: null,
  };
}

/** Reads debugfs bufinfo. @throws {SourceUnavailable} */
function readDebugfs(): Snapshot {
  const path = bufinfoPath(readMounts());
  if (path === null) {
    throw new SourceUnavailable(
      "debugfs is not mounted",
      `mount it as root: mount -t debugfs debugfs ${DEFAULT_DEBUGFS}`,
    );
  }
  let text: string;
  try {
    text = readTextFile(path);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    if (error.is("EACCES") || error.is("EPERM")) {
      throw new SourceUnavailable(
        `reading ${path} needs root (${error.code}; debugfs is usually mode 0700)`,
        "run as root, or use --source sysfs or --source proc",
      );
    }
    if (error.is("ENOENT")) {
      throw new SourceUnavailable(
        `${path} does not exist`,
        "the kernel has no dma-buf debugfs (CONFIG_DEBUG_FS with CONFIG_DMA_SHARED_BUFFER)",
      );
    }
    throw new SourceUnavailable(
      `cannot read ${path}: ${error.message}`,
      "try --source sysfs or --source proc",
    );
  }
  const snapshot = fromBufinfoText(text, "debugfs", path);
  if (snapshot === null) {
    throw new SourceUnavailable(`${path} is not in a bufinfo format dmabuf knows`, "please report it");
  }
  return snapshot;
}

function scanOrNull(): ProcessScan | null {
  try {
    return scanAllProcesses();
  } catch {
    return null;
  }
}

/** Names, counts and flags per inode from a /proc scan (the first fd that names the buffer wins). */
function procIndex(scan: ProcessScan): Map<number, Omit<StatBuffer, "inode">> {
  const index = new Map<number, Omit<StatBuffer, "inode">>();
  for (const process of scan.processes) {
    for (const ref of process.fds) {
      if (index.has(ref.inode) && index.get(ref.inode)!.exporter !== null) continue;
      index.set(ref.inode, {
        size: ref.size,
        exporter: ref.exporter,
        name: ref.name,
        count: ref.count,
        flags: ref.flags,
        mode: null,
        attachments: null,
        fences: null,
        nameKnown: true,
      });
    }
  }
  for (const process of scan.processes) {
    for (const map of process.maps) {
      const known = index.get(map.inode);
      if (known === undefined) {
        index.set(map.inode, {
          size: map.vmaSize,
          exporter: null,
          name: map.name,
          count: null,
          flags: null,
          mode: null,
          attachments: null,
          fences: null,
          nameKnown: true,
        });
      } else if (known.exporter === null && map.vmaSize > known.size) {
        known.size = map.vmaSize;
      }
    }
  }
  return index;
}

/** Reads sysfs stats and joins names from a /proc scan. @throws {SourceUnavailable} */
function readSysfs(): Snapshot {
  let stats;
  try {
    stats = readSysfsStats();
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOENT")) {
      throw new SourceUnavailable(`${SYSFS_BUFFERS_DIR} does not exist`, `the kernel has no ${SYSFS_KERNEL}`);
    }
    if (error instanceof SyscallError) {
      throw new SourceUnavailable(`cannot read ${SYSFS_BUFFERS_DIR}: ${error.message}`, "try --source proc");
    }
    throw error;
  }
  const scan = scanOrNull();
  const index = scan === null ? new Map() : procIndex(scan);
  const buffers = stats.map((s): StatBuffer => {
    const held = index.get(s.inode);
    return {
      inode: s.inode,
      size: s.size,
      exporter: s.exporter,
      name: held?.name ?? null,
      count: held?.count ?? null,
      flags: held?.flags ?? null,
      mode: null,
      attachments: null,
      fences: null,
      nameKnown: held !== undefined,
    };
  });
  return {
    source: "sysfs",
    sourcePath: SYSFS_BUFFERS_DIR,
    generation: null,
    buffers,
    reportedTotals: null,
    unparsed: [],
    fallbacks: [],
    scan,
  };
}

/** Builds the buffer list from a /proc scan (sizes and exporters of map-only buffers from sysfs when present). */
function readProc(): Snapshot {
  const scan = scanAllProcesses();
  const index = procIndex(scan);
  let sysfs = new Map<number, { size: number; exporter: string }>();
  if ([...index.values()].some((b) => b.exporter === null)) {
    try {
      sysfs = new Map(readSysfsStats().map((s) => [s.inode, s]));
    } catch {
      // No sysfs stats: map-only buffers keep their mapped length and an unknown exporter.
    }
  }
  const buffers = [...index.entries()].map(([inode, b]): StatBuffer => {
    const stats = b.exporter === null ? sysfs.get(inode) : undefined;
    return stats === undefined
      ? { inode, ...b }
      : { inode, ...b, size: stats.size, exporter: stats.exporter };
  });
  return {
    source: "proc",
    sourcePath: "/proc/*/fdinfo + /proc/*/maps of the processes this user may read",
    generation: null,
    buffers,
    reportedTotals: null,
    unparsed: [],
    fallbacks: [],
    scan,
  };
}

/**
 * A snapshot from the chosen source; `auto` tries debugfs bufinfo, then sysfs stats, then the /proc scan, and
 * records why each better one was not used.
 * @throws {CliError} when an explicitly chosen source is unavailable (with the reason and a hint)
 */
export function takeSnapshot(choice: SourceChoice): Snapshot {
  const readers: [SourceName, () => Snapshot][] = [["debugfs", readDebugfs], ["sysfs", readSysfs], [
    "proc",
    readProc,
  ]];
  if (choice !== "auto") {
    const reader = readers.find(([name]) => name === choice)![1];
    try {
      return reader();
    } catch (error) {
      if (error instanceof SourceUnavailable) throw new CliError(error.message, { hint: error.hint });
      throw error;
    }
  }
  const fallbacks: string[] = [];
  for (const [name, reader] of readers) {
    try {
      return { ...reader(), fallbacks };
    } catch (error) {
      if (!(error instanceof SourceUnavailable) || name === "proc") throw error;
      fallbacks.push(`${name}: ${error.message} (${error.hint})`);
    }
  }
  throw new Error("unreachable: the proc source always answers");
}

/** Makes sure a snapshot has a /proc scan (for `--procs`). */
export function withScan(snapshot: Snapshot): Snapshot {
  return snapshot.scan === null ? { ...snapshot, scan: scanAllProcesses() } : snapshot;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function numOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function strOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** Reads the buffers of a saved `dmabuf stat --json` document; null when the value is not one. */
function fromStatJson(value: unknown, path: string): Snapshot | null {
  if (!isRecord(value) || !Array.isArray(value.buffers)) return null;
  const buffers: StatBuffer[] = [];
  for (const item of value.buffers) {
    if (!isRecord(item) || typeof item.inode !== "number" || typeof item.size !== "number") return null;
    buffers.push({
      inode: item.inode,
      size: item.size,
      exporter: strOrNull(item.exporter),
      name: strOrNull(item.name),
      count: numOrNull(item.count),
      flags: numOrNull(item.flags),
      mode: numOrNull(item.mode),
      attachments: Array.isArray(item.attachments) ? item.attachments.map(String) : null,
      fences: Array.isArray(item.fences) ? item.fences as BufinfoFence[] : null,
      nameKnown: true,
    });
  }
  return {
    source: "file",
    sourcePath: path,
    generation: null,
    buffers,
    reportedTotals: null,
    unparsed: [],
    fallbacks: [],
    scan: null,
  };
}

/**
 * A snapshot from text read from `path`: a bufinfo (any generation) or a saved `dmabuf stat --json`.
 * @throws {CliError} when it is neither
 */
export function snapshotFromText(text: string, path: string): Snapshot {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      value = undefined;
    }
    const saved = fromStatJson(value, path);
    if (saved !== null) return saved;
  }
  const snapshot = fromBufinfoText(text, "file", path);
  if (snapshot === null) {
    const what = text.trim() === ""
      ? "it is empty"
      : "no 'Dma-buf Objects:' line, header or buffer row found";
    throw new CliError(`${path} is not a bufinfo or a dmabuf stat --json document: ${what}`);
  }
  return snapshot;
}

/** Reads `path` (`-` = stdin) as a snapshot. @throws {CliError} when it cannot be read or is not bufinfo */
export async function readSnapshotFile(path: string): Promise<Snapshot> {
  let text: string;
  try {
    text = path === "-" ? await new Response(Deno.stdin.readable).text() : await Deno.readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error).message;
    throw new CliError(`Cannot read ${path}: ${why}`, { cause: error });
  }
  return snapshotFromText(text, path);
}
