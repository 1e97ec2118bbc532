/**
 * Text written in pieces of about 64 KiB: large output (a 10,000-row table, a JSON document) goes out in a few
 * tens of writes, never as one string nor as one write per line.
 * @module
 */

import type { Stream } from "./streams.ts";

/** About how many characters {@link ChunkedWriter} collects before it writes. */
export const CHUNK = 64 * 1024;

/**
 * Collects text and writes it to a stream in pieces of about {@link CHUNK} characters: a 10,000-row table is
 * about 20 writes, not 10,000, and never one string of all of it.
 */
export class ChunkedWriter {
  readonly #stream: Stream;
  #parts: string[] = [];
  #length = 0;

  /** Writes to `stream`. */
  constructor(stream: Stream) {
    this.#stream = stream;
  }

  /** Adds text; writes what was collected once it reaches a chunk. */
  write(text: string): void {
    this.#parts.push(text);
    this.#length += text.length;
    if (this.#length >= CHUNK) this.flush();
  }

  /** Writes what was collected. */
  flush(): void {
    if (this.#parts.length === 0) return;
    const text = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join("");
    this.#parts = [];
    this.#length = 0;
    this.#stream.write(text);
  }
}
