/**
 * `dmabuf stat` data: one snapshot of the system's dma-bufs from a source (debugfs bufinfo, sysfs stats, a
 * /proc scan, or a saved file), in one buffer shape whatever the source; fields a source cannot know are null.
 * @module
 */

import { CliError } from "../toolkit/errors.ts";
import type { ProcessScan } from "../../ffi/procfs.ts";
import {
  type BufinfoFence,
  type BufinfoGeneration,
  type BufinfoTotals,
  parseBufinfo,
  type UnparsedLine,
} from "../../ffi/text/bufinfo.ts";

/** Where a snapshot came from: `file` is `--input`/`--compare`. */
export type SourceName = "debugfs" | "bpf" | "sysfs" | "proc" | "file";

/** `--source` values. */
export type SourceChoice = "auto" | "debugfs" | "bpf" | "sysfs" | "proc";

/** One dma-buf in the common shape. */
export interface StatBuffer {
  /** Inode number: the buffer's identity. */
  inode: number;
  /** Size in bytes (a /proc scan that only sees a partial mapping reports the mapped length). */
  size: number;
  /** Exporter name; null when unknown (a /proc scan that only sees a mapping, without sysfs). */
  exporter: string | null;
  /** Name; null when unnamed or, with `nameKnown: false`, unknown. */
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
  /**
   * `false` when `name: null` means "not known from this source" (sysfs without a /proc scan that saw it);
   * absent when the name is known. Absent rather than `true` so that a buffer is its own JSON, with no copy
   * per buffer to drop it. Not in JSON.
   */
  nameKnown?: false;
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

/**
 * A snapshot from bufinfo text; null when the text is not bufinfo. The parsed buffers are the snapshot's own,
 * not copies: 10,000 of them are made once.
 */
export function fromBufinfoText(text: string, source: SourceName, sourcePath: string): Snapshot | null {
  const parsed = parseBufinfo(text);
  if (!parsed.recognized) return null;
  const buffers: StatBuffer[] = parsed.buffers;
  return {
    source,
    sourcePath,
    generation: parsed.generation,
    buffers,
    reportedTotals: parsed.totals,
    unparsed: parsed.unparsed,
    fallbacks: [],
    scan: null,
  };
}

/** A snapshot of a buffer list from a source that is not bufinfo (BPF, sysfs, a /proc scan, a saved JSON). */
export function listSnapshot(
  source: SourceName,
  sourcePath: string,
  buffers: StatBuffer[],
  scan: ProcessScan | null,
): Snapshot {
  return {
    source,
    sourcePath,
    generation: null,
    buffers,
    reportedTotals: null,
    unparsed: [],
    fallbacks: [],
    scan,
  };
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
    });
  }
  return listSnapshot("file", path, buffers, null);
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
