/**
 * `dmabuf stat` data: one snapshot of the system's dma-bufs from a source (debugfs bufinfo, sysfs stats, a
 * /proc scan, or a saved file), in one buffer shape whatever the source; fields a source cannot know are null.
 * @module
 */

import { CliError } from "../toolkit/errors.ts";
import { readUserText } from "../toolkit/user_file.ts";
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

/**
 * A snapshot from text read from `path`: a bufinfo (any generation) or a saved `dmabuf stat --json`.
 * @throws {CliError} when it is neither
 */
export async function snapshotFromText(text: string, path: string): Promise<Snapshot> {
  // A bufinfo never starts with "{": such a file is a saved document or nothing, and says which field is wrong.
  // The schema is loaded only then: a bufinfo's cold path does without it.
  if (text.trimStart().startsWith("{")) {
    const { readSavedBuffers } = await import("./document.ts");
    return listSnapshot("file", path, readSavedBuffers(text, path), null);
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

/**
 * The most a saved bufinfo or `stat --json` may be: a bufinfo of 10,000 buffers is about 1.4 MB, so 64 MiB
 * holds about 450,000; a larger file (or `/dev/zero`) is refused before it is read.
 */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** How much of the start of a file shows whether it is a bufinfo at all. */
export const SNIFF_BYTES = 4096;

/** What `--input`/`--compare` read a file as, in messages. */
const READ_AS = "a bufinfo or a dmabuf stat --json document";

/** The bytes JSON and text may start with before their first character: space, tab, CR, LF. */
const LEADING_SPACE = new Set([0x20, 0x09, 0x0d, 0x0a]);

/**
 * Why the start of a file shows it is neither a bufinfo nor a saved document, or undefined: binary data, or
 * {@link SNIFF_BYTES} of text without a `Dma-buf Objects:` line, the header or a buffer row. Only those first
 * bytes are decoded (this runs on the cold path of every `stat --input`).
 */
export function notASnapshot(start: Uint8Array): string | undefined {
  let first = 0;
  while (first < start.length && LEADING_SPACE.has(start[first]!)) first++;
  if (start[first] === 0x7b /* "{" */) return undefined;
  const head = start.subarray(0, SNIFF_BYTES);
  if (head.includes(0)) return "it holds binary data (NUL bytes)";
  if (head.length < SNIFF_BYTES) return undefined;
  const lines = new TextDecoder().decode(head.subarray(0, head.lastIndexOf(0x0a) + 1));
  if (parseBufinfo(lines).recognized) return undefined;
  return `its first ${SNIFF_BYTES} bytes have no 'Dma-buf Objects:' line, header or buffer row`;
}

/** Reads `path` (`-` = stdin) as a snapshot. @throws {CliError} when it cannot be read or is not bufinfo */
export function readSnapshotFile(path: string): Promise<Snapshot> {
  const text = readUserText(path, { limit: MAX_INPUT_BYTES, readAs: READ_AS, sniff: notASnapshot });
  return snapshotFromText(text, path);
}
