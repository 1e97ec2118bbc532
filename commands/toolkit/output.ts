/**
 * The formatter a command writes through: JSON documents, lines, tables and notes, coloured only as the shared
 * decision says (`color.ts`). The pieces it uses each have their own module: streams (`streams.ts`), chunks
 * (`chunked.ts`), streamed JSON (`json_writer.ts`), tables (`table.ts`), numbers (`units.ts`).
 * @module
 */

import { ChunkedWriter } from "./chunked.ts";
import { type ColorMode, paint, type Style, useColor } from "./color.ts";
import { writeJson } from "./json_writer.ts";
import type { TextIo } from "./streams.ts";
import { type Column, writeTable } from "./table.ts";

/** Options of {@link Output}. */
export interface OutputOptions {
  /** `--json`: one JSON document on stdout instead of human text. */
  json: boolean;
  /** `--color`. */
  color: ColorMode;
  /** `--verbose`. */
  verbose: boolean;
}

/** Writes a command's results and messages. */
export class Output {
  readonly #io: TextIo;
  /** Whether `--json` was given. */
  readonly json: boolean;
  /** Whether `--verbose` was given. */
  readonly verbose: boolean;
  /** Whether stdout gets colour. */
  readonly color: boolean;

  /** Makes the output for `io` as the options say. */
  constructor(io: TextIo, options: OutputOptions) {
    this.#io = io;
    this.json = options.json;
    this.verbose = options.verbose;
    this.color = useColor(options.color, io.stdout, io.env);
  }

  /**
   * Writes one JSON document (2-space indented) on stdout. BigInts become exact JSON numbers. A large document goes out
   * in pieces of about 64 KiB (see {@link writeJson}), never as one string.
   */
  data(value: unknown): void {
    const out = new ChunkedWriter(this.#io.stdout);
    writeJson(out, value);
    out.write("\n");
    out.flush();
  }

  /** Writes a line of human text on stdout. */
  line(text = ""): void {
    this.#io.stdout.write(text + "\n");
  }

  /** Writes a note on stderr (progress, "ready", what was skipped), so stdout stays data. */
  note(text: string): void {
    this.#io.stderr.write(text + "\n");
  }

  /** Writes `dmabuf: warning: <text>` on stderr. */
  warn(text: string): void {
    this.#io.stderr.write(`dmabuf: warning: ${text}\n`);
  }

  /** Writes rows as an aligned table with a bold header on stdout, in pieces of about 64 KiB. */
  table<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): void {
    const out = new ChunkedWriter(this.#io.stdout);
    writeTable(out, columns, rows, (line) => this.paint(line, "bold"));
    out.flush();
  }

  /** `text` in `styles` when colour is on (the shared decision, `color.ts`), else as it is. */
  paint(text: string, ...styles: readonly Style[]): string {
    return paint(this.color, text, ...styles);
  }
}
