/**
 * The one formatter all output goes through: JSON documents, aligned tables, human sizes, and colour that
 * appears only on a terminal, never with `NO_COLOR`, and as `--color` says.
 * @module
 */

/** A place text is written to. */
export interface Stream {
  /** Writes text as it is. */
  write(text: string): void;
  /** Whether the stream is a terminal. */
  readonly isTerminal: boolean;
}

/** The process's streams and environment, replaceable in tests. */
export interface Io {
  /** Standard output: data. */
  readonly stdout: Stream;
  /** Standard error: messages. */
  readonly stderr: Stream;
  /** An environment variable, or undefined. */
  env(name: string): string | undefined;
}

/** `--color` values. */
export type ColorMode = "auto" | "always" | "never";

/** The colour decision: `always`/`never` as said; `auto` means a terminal and no `NO_COLOR` (any value). */
export function useColor(
  mode: ColorMode,
  stream: Stream,
  env: (name: string) => string | undefined,
): boolean {
  if (mode === "always") return true;
  if (mode === "never") return false;
  const noColor = env("NO_COLOR");
  return stream.isTerminal && (noColor === undefined || noColor === "") && env("TERM") !== "dumb";
}

function stream(file: typeof Deno.stdout | typeof Deno.stderr): Stream {
  const encoder = new TextEncoder();
  let broken = false;
  return {
    isTerminal: file.isTerminal(),
    write(text: string): void {
      if (broken) return;
      let bytes = encoder.encode(text);
      try {
        while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
      } catch (error) {
        // A closed pipe (`dmabuf stat | head`) is the reader's choice, not an error of ours.
        if (error instanceof Deno.errors.BrokenPipe) broken = true;
        else throw error;
      }
    },
  };
}

/** The real process streams and environment. */
export function processIo(): Io {
  return { stdout: stream(Deno.stdout), stderr: stream(Deno.stderr), env: (name) => Deno.env.get(name) };
}

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

/** `JSON.stringify`'s replacer for every document: BigInts (ioctl fields) become numbers. */
function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? Number(value) : value;
}

/**
 * `JSON.stringify(value, jsonValue, 2)`, but without calling the replacer for every member of a value that
 * has no BigInt: JSON.stringify refuses a BigInt with a TypeError, and only then is the replacer needed.
 */
function stringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, null, 2);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(value, jsonValue, 2);
  }
}

/** Whether `value` is an array or a plain object that {@link writeJson} may take apart. */
function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (typeof value !== "object" || value === null) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  const proto = Object.getPrototypeOf(value);
  return Array.isArray(value) || proto === Object.prototype || proto === null;
}

/** How deep {@link writeJson} takes containers apart; below that, values are stringified whole. */
const SPLIT_DEPTH = 2;

/** How many members of an array {@link writeJson} stringifies in one call (a few tens of KiB of text). */
const JSON_BATCH = 128;

/**
 * Writes `value` as `JSON.stringify(value, bigints as numbers, 2)` would, to `out`, in pieces: the top levels
 * (a document, its arrays) are written member by member, each member stringified on its own and indented to
 * its place (JSON text has no raw newline inside a string, so prefixing every newline is exact). Tested
 * against JSON.stringify.
 */
export function writeJson(out: ChunkedWriter, value: unknown, indent = "", depth = 0): void {
  const v = jsonValue("", value);
  if (depth >= SPLIT_DEPTH || !isContainer(v)) {
    const text = stringify(v);
    // Where JSON.stringify leaves a value out of an object it is handled by the caller; in an array, null.
    const whole = text === undefined ? "null" : text;
    out.write(indent === "" ? whole : whole.replaceAll("\n", `\n${indent}`));
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) {
      out.write("[]");
      return;
    }
    out.write("[");
    if (depth + 1 >= SPLIT_DEPTH) {
      // Members stringified whole: a batch at a time in one native call. JSON.stringify(batch, null, 2) is
      // "[\n" + the members at two spaces + "\n]", so the middle, moved to this array's indent, is exact.
      for (let start = 0; start < v.length; start += JSON_BATCH) {
        const text = stringify(v.slice(start, start + JSON_BATCH))!;
        const body = text.slice(2, -2);
        out.write(start === 0 ? "\n" : ",\n");
        out.write(indent === "" ? body : indent + body.replaceAll("\n", `\n${indent}`));
      }
    } else {
      for (let i = 0; i < v.length; i++) {
        out.write(i === 0 ? `\n${inner}` : `,\n${inner}`);
        writeJson(out, v[i], inner, depth + 1);
      }
    }
    out.write(`\n${indent}]`);
    return;
  }
  let first = true;
  for (const name of Object.keys(v)) {
    const member = v[name];
    // What JSON.stringify leaves out of an object (a BigInt is none of these: it becomes a number).
    if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
    out.write(`${first ? "{" : ","}\n${inner}${JSON.stringify(name)}: `);
    first = false;
    writeJson(out, member, inner, depth + 1);
  }
  out.write(first ? "{}" : `\n${indent}}`);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** A byte count for people: `512 B`, `4 KiB`, `1.5 MiB` (binary units, at most one decimal). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  let text: string;
  if (unit === 0 || Number.isInteger(value)) text = String(value);
  else {
    text = value.toFixed(1);
    if (text.endsWith(".0")) text = text.slice(0, -2);
  }
  return `${text} ${UNITS[unit]}`;
}

/** A duration in milliseconds for people: `850 us`, `12.3 ms`, `2.50 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} us`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A column of {@link Output.table}. */
export interface Column<Row> {
  /** Header text. */
  header: string;
  /** The cell text of a row. */
  cell: (row: Row) => string;
  /** Right-align (numbers). */
  right?: boolean;
}

const ANSI = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;

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
  readonly #io: Io;
  /** Whether `--json` was given. */
  readonly json: boolean;
  /** Whether `--verbose` was given. */
  readonly verbose: boolean;
  /** Whether stdout gets colour. */
  readonly color: boolean;

  /** Makes the output for `io` as the options say. */
  constructor(io: Io, options: OutputOptions) {
    this.#io = io;
    this.json = options.json;
    this.verbose = options.verbose;
    this.color = useColor(options.color, io.stdout, io.env);
  }

  /**
   * Writes one JSON document (2-space indented) on stdout. BigInts become numbers. A large document goes out
   * in pieces of about {@link CHUNK} characters (see {@link writeJson}), never as one string.
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

  /**
   * Writes rows as an aligned table with a header on stdout, in pieces of about {@link CHUNK} characters.
   * Plain loops and one padding string: a 10,000-row table is on the cold path of `stat`.
   */
  table<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): void {
    const width = columns.length;
    const cells: string[] = new Array(rows.length * width);
    const widths = columns.map((column) => column.header.length);
    for (let c = 0; c < width; c++) {
      const cell = columns[c]!.cell;
      let max = widths[c]!;
      for (let r = 0, at = c; r < rows.length; r++, at += width) {
        const text = cell(rows[r]!);
        cells[at] = text;
        if (text.length > max) max = text.length;
      }
      widths[c] = max;
    }
    const spaces = " ".repeat(Math.max(0, ...widths));
    const right = columns.map((column) => column.right === true);
    const last = width - 1;
    const render = (texts: readonly string[], offset: number): string => {
      let line = "";
      for (let c = 0; c < width; c++) {
        const text = texts[offset + c]!;
        const pad = spaces.slice(0, widths[c]! - text.length);
        if (c > 0) line += "  ";
        if (right[c]) line += pad + text;
        else line += c === last ? text : text + pad;
      }
      return line;
    };
    const out = new ChunkedWriter(this.#io.stdout);
    out.write(this.bold(render(columns.map((c) => c.header), 0)) + "\n");
    for (let at = 0; at < cells.length; at += width) out.write(render(cells, at) + "\n");
    out.flush();
  }

  #style(code: number, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  /** Bold when colour is on. */
  bold(text: string): string {
    return this.#style(ANSI.bold, text);
  }

  /** Dim when colour is on. */
  dim(text: string): string {
    return this.#style(ANSI.dim, text);
  }

  /** Red when colour is on. */
  red(text: string): string {
    return this.#style(ANSI.red, text);
  }

  /** Green when colour is on. */
  green(text: string): string {
    return this.#style(ANSI.green, text);
  }

  /** Yellow when colour is on. */
  yellow(text: string): string {
    return this.#style(ANSI.yellow, text);
  }

  /** Cyan when colour is on. */
  cyan(text: string): string {
    return this.#style(ANSI.cyan, text);
  }
}
