/**
 * What the streamed JSON writers are tested against: `JSON.stringify` in one piece, BigInts as exact numbers,
 * and a stream that collects what it is given.
 * @module
 */
import type { Stream } from "../../../commands/toolkit/streams.ts";

/** A stream that keeps each write. */
export function collector(): Stream & { writes: string[] } {
  const writes: string[] = [];
  return { isTerminal: false, writes, write: (text) => void writes.push(text) };
}

/** JSON.stringify as Output.data did it in one piece (BigInts with every digit): the oracle. */
export function oracle(value: unknown): string {
  const raw = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
  return JSON.stringify(value, (_key, v) => typeof v === "bigint" ? raw(v.toString()) : v, 2);
}
