/**
 * The `dmabuf stat --json` documents: their types, which the writer (`render.ts`) produces, and the schema of a
 * buffer, which the reader of a saved document (`--input`, `--compare`) checks against. The schema and the
 * buffer type are one shape: a compile-time check below fails when one changes without the other.
 * @module
 */

import { CliError, shown } from "../toolkit/errors.ts";
import {
  array,
  boolean,
  type Infer,
  nonNegativeInteger,
  nullable,
  object,
  parseExactJson,
  SchemaError,
  string,
  u64,
} from "../toolkit/schema.ts";
import type { SkippedProcess } from "../../ffi/procfs.ts";
import type { BufinfoFence, BufinfoGeneration, UnparsedLine } from "../../ffi/text/bufinfo.ts";
import type { AmbiguousRefs, Holder, ProcessUsage, Totals } from "./model.ts";
import type { SourceName, StatBuffer } from "./snapshot.ts";

/** A fence as JSON: bufinfo's fields. */
export const FENCE_SCHEMA = object({
  usage: string,
  driver: nullable(string),
  timeline: nullable(string),
  context: nullable(u64),
  seq: nullable(u64),
  signalled: boolean,
});

/** A buffer as JSON, in the documented field order. */
export const BUFFER_SCHEMA = object({
  inode: nonNegativeInteger,
  size: nonNegativeInteger,
  exporter: nullable(string),
  name: nullable(string),
  count: nullable(nonNegativeInteger),
  flags: nullable(nonNegativeInteger),
  mode: nullable(nonNegativeInteger),
  attachments: nullable(array(string)),
  fences: nullable(array(FENCE_SCHEMA)),
});

/** What a saved document must have to be read back: its buffers. */
const SAVED_SCHEMA = object({ buffers: array(BUFFER_SCHEMA) });

/** A buffer as JSON. */
export type StatBufferJson = Infer<typeof BUFFER_SCHEMA>;

/** Whether two types are the same shape (each assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// The schema is the writer's shape: a buffer as the sources make it (less the internal nameKnown), a fence as
// bufinfo's parser makes it. A field added, dropped or retyped on either side fails the type check here.
const _buffersAgree: Same<StatBufferJson, Omit<StatBuffer, "nameKnown">> = true;
const _fencesAgree: Same<Infer<typeof FENCE_SCHEMA>, BufinfoFence> = true;

/** A buffer in a document, with its holders under `--procs`. */
export type StatBufferDocument = StatBufferJson & { holders?: Holder[] };

/** The document of `dmabuf stat --json`. */
export interface StatDocument {
  source: SourceName;
  sourcePath: string;
  generation: BufinfoGeneration | null;
  buffers: StatBufferDocument[];
  totals: Totals;
  unparsed: UnparsedLine[];
  /** With `--procs`. */
  processes?: ProcessUsage[];
  /** With `--procs`. */
  skippedProcesses?: SkippedProcess[];
  /** With `--procs`: references to an inode number several buffers share that nothing told apart. */
  ambiguousRefs?: AmbiguousRefs[];
}

/** One document of `dmabuf stat --watch --json`. */
export interface StatWatchDocument extends StatDocument {
  /** ISO 8601 time of the refresh. */
  time: string;
  /** Inodes that appeared since the previous refresh. */
  added: number[];
  /** Inodes that disappeared since the previous refresh. */
  freed: number[];
}

/** The document of `dmabuf stat --compare FILE --json`. */
export interface StatCompareDocument {
  source: SourceName;
  sourcePath: string;
  compareWith: string;
  added: StatBufferJson[];
  freed: StatBufferJson[];
  bytesDelta: number;
}

/**
 * The buffers of a saved `stat --json` document (any of the documents above that has `buffers`).
 * @throws {CliError} text that is not JSON (with the parser's position), or the first field that is not what
 * the schema says (`buffers[0].size must be a non-negative integer (it is number -5)`)
 */
export function readSavedBuffers(text: string, path: string): StatBufferJson[] {
  let value: unknown;
  try {
    value = parseExactJson(text);
  } catch (error) {
    throw new CliError(`${shown(path)} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  try {
    return SAVED_SCHEMA.check(value, "").buffers;
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    throw new CliError(`${shown(path)} is not a dmabuf stat --json document: ${error.message}`, {
      cause: error,
    });
  }
}
