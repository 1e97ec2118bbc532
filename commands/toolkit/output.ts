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

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** A byte count for people: `512 B`, `4 KiB`, `1.5 MiB` (binary units, at most one decimal). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, "");
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

  /** Writes one JSON document (2-space indented) on stdout. BigInts become numbers. */
  data(value: unknown): void {
    this.#io.stdout.write(
      JSON.stringify(value, (_key, v) => typeof v === "bigint" ? Number(v) : v, 2) + "\n",
    );
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

  /** Writes rows as an aligned table with a header on stdout, in one write. */
  table<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): void {
    const cells = rows.map((row) => columns.map((column) => column.cell(row)));
    const widths = columns.map((column) => column.header.length);
    for (const row of cells) {
      for (let i = 0; i < row.length; i++) if (row[i]!.length > widths[i]!) widths[i] = row[i]!.length;
    }
    const last = columns.length - 1;
    const render = (texts: readonly string[]): string => {
      let line = "";
      for (let i = 0; i < texts.length; i++) {
        const text = texts[i]!;
        if (i > 0) line += "  ";
        if (columns[i]!.right) line += text.padStart(widths[i]!);
        else line += i === last ? text : text.padEnd(widths[i]!);
      }
      return line;
    };
    const lines = [this.bold(render(columns.map((c) => c.header)))];
    for (const row of cells) lines.push(render(row));
    this.#io.stdout.write(lines.join("\n") + "\n");
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
