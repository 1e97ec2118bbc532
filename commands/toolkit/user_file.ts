/**
 * The one way commands read and write a file the user names (`stat --input/--compare`, `map --write/--out
 * /--image`, `smoke --output`, `trace --output`, `--heap-dir`), as opposed to the kernel's own files under
 * /proc and /sys (`ffi/fd.ts`'s `readProcSysFile`):
 *
 * - the file is looked at before anything else is done: a directory, a device where a saved file is meant,
 *   a file larger than the command can use, an output path that cannot be written, all fail at once;
 * - only what is needed is read: up to a size cap (a pipe is read up to it too), or up to a count of bytes
 *   (`map --write` reads at most what fits in the buffer, from /dev/zero as from a file);
 * - an output is opened before the work and written after it; an output file this run created and never
 *   wrote is removed again, and an existing one is truncated only when the new contents are written;
 * - every failure is one line with the errno's name, `Cannot read /x: ENOENT (No such file or directory)`,
 *   never the runtime's own wording.
 * @module
 */

import { CliError, errorText, shown } from "./errors.ts";
import { formatBytes } from "./units.ts";

/** How much is read at a time. */
const READ_CHUNK = 64 * 1024;

/** What a path is, by `stat(2)`, in words for messages. */
function kindOf(info: Deno.FileInfo): string {
  if (info.isFile) return "a regular file";
  if (info.isDirectory) return "a directory";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isFifo) return "a pipe";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/** A failure of the runtime's file calls on `path` as one line. */
function fileError(verb: "read" | "write", path: string, error: unknown): CliError {
  if (error instanceof CliError) return error;
  const why = errorText(error);
  return new CliError(`Cannot ${verb} ${shown(path)}: ${why}`, { cause: error });
}

/** `call()`, its runtime errors as {@link fileError}s. */
function attempt<T>(verb: "read" | "write", path: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw fileError(verb, path, error);
  }
}

/** The `EISDIR` line, as the kernel words it for a write. */
function isADirectory(verb: "read" | "write", path: string): CliError {
  return new CliError(`Cannot ${verb} ${shown(path)}: EISDIR (Is a directory)`);
}

/** Something to read from: a file, or stdin. */
interface Source {
  readSync(buffer: Uint8Array): number | null;
}

/**
 * Reads `source` until it ends or `limit` bytes are read, into one array sized by `expected` (a file's size
 * from stat, plus the byte that shows its end) and doubled as it fills; `onFirst` sees the first read (at
 * most {@link READ_CHUNK}), before more is read.
 */
function readUpTo(
  source: Source,
  limit: number,
  options: { expected?: number; onFirst?: (bytes: Uint8Array) => void } = {},
): Uint8Array {
  let buffer = new Uint8Array(Math.max(1, Math.min(limit, options.expected ?? READ_CHUNK)));
  let total = 0;
  while (total < limit) {
    if (total === buffer.length) {
      const grown = new Uint8Array(Math.min(limit, buffer.length * 2));
      grown.set(buffer);
      buffer = grown;
    }
    const n = source.readSync(buffer.subarray(total, total === 0 ? READ_CHUNK : undefined));
    if (n === null) break;
    if (total === 0) options.onFirst?.(buffer.subarray(0, n));
    total += n;
  }
  return buffer.subarray(0, total);
}

/** Options of {@link readUserText}. */
export interface ReadTextOptions {
  /** The most bytes the command can use; a larger file is refused (by its size, before it is read). */
  readonly limit: number;
  /** What the file is read as, for messages: `a bufinfo or a dmabuf stat --json document`. */
  readonly readAs: string;
  /**
   * Looks at the start of the file (the bytes of the first read, at most 64 KiB) and returns why it cannot be
   * what is wanted, or undefined: so a large file of something else is given up at once.
   */
  readonly sniff?: (start: Uint8Array) => string | undefined;
}

/**
 * The text of a user's file (`-` = stdin): a regular file or a pipe (stdin, `<(...)`), not a directory or a
 * device; at most `limit` bytes.
 * @throws {CliError} one line: cannot be opened (errno), not a file, too large, refused by `sniff`
 */
export function readUserText(path: string, options: ReadTextOptions): string {
  const decoder = new TextDecoder();
  const sniffed = (bytes: Uint8Array) => {
    const why = options.sniff?.(bytes);
    if (why !== undefined) throw new CliError(`${shown(path)} is not ${options.readAs}: ${why}`);
  };
  const tooLarge = (size: string) =>
    new CliError(
      `Cannot read ${shown(path)}: ${size}, more than the ${
        formatBytes(options.limit)
      } read as ${options.readAs}`,
    );
  if (path === "-") {
    const bytes = attempt("read", path, () => readUpTo(Deno.stdin, options.limit + 1, { onFirst: sniffed }));
    if (bytes.length > options.limit) throw tooLarge("more");
    return decoder.decode(bytes);
  }
  using file = attempt("read", path, () => Deno.openSync(path, { read: true }));
  const info = attempt("read", path, () => file.statSync());
  if (info.isDirectory) throw isADirectory("read", path);
  if (!info.isFile && !info.isFifo) {
    throw new CliError(`Cannot read ${shown(path)}: it is ${kindOf(info)}, not a file`);
  }
  if (info.isFifo) {
    const bytes = attempt("read", path, () => readUpTo(file, options.limit + 1, { onFirst: sniffed }));
    if (bytes.length > options.limit) throw tooLarge("more");
    return decoder.decode(bytes);
  }
  if (info.size > options.limit) throw tooLarge(`it is ${formatBytes(info.size)}`);
  if (options.sniff !== undefined) {
    const start = new Uint8Array(Math.min(READ_CHUNK, Math.max(info.size, 1)));
    const n = attempt("read", path, () => file.readSync(start));
    if (n !== null) sniffed(start.subarray(0, n));
  }
  // A regular file within the cap is read and decoded by the runtime, without a copy of its bytes here: for
  // a 1.4 MB bufinfo, about 3 MiB less peak memory than reading it into an array first (stat's cold path).
  // A file the kernel makes up as it is read (size 0 in stat, e.g. a live debugfs bufinfo) is finite.
  return attempt("read", path, () => Deno.readTextFileSync(path));
}

/**
 * A user's file opened to read from, checked at once (it exists, may be read, is not a directory) and read
 * later, only as far as needed. Any kind of file: `map --write /dev/urandom` is a way to fill a buffer.
 */
export class UserInput implements Disposable {
  readonly #file: Deno.FsFile;
  /** The path as given. */
  readonly path: string;
  /** Its size when it is a regular file; null for a device or a pipe, whose length is known only by reading. */
  readonly size: number | null;

  private constructor(path: string, file: Deno.FsFile, size: number | null) {
    this.path = path;
    this.#file = file;
    this.size = size;
  }

  /** Opens `path` for reading. @throws {CliError} it cannot be opened, or is a directory */
  static open(path: string): UserInput {
    const file = attempt("read", path, () => Deno.openSync(path, { read: true }));
    try {
      const info = attempt("read", path, () => file.statSync());
      if (info.isDirectory) throw isADirectory("read", path);
      return new UserInput(path, file, info.isFile ? info.size : null);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Reads until the file ends or `count` bytes are read. @throws {CliError} a read fails */
  readAtMost(count: number): Uint8Array {
    return attempt("read", this.path, () => readUpTo(this.#file, count, { expected: count }));
  }

  /** Closes the file. */
  [Symbol.dispose](): void {
    this.#file.close();
  }
}

/**
 * A user's file opened to write to before the work that fills it (so a path that cannot be written fails
 * first), written once after it. A regular file is truncated only then, so a run that fails leaves what was
 * there; a file this run created and never wrote is removed when the output is disposed.
 */
export class UserOutput implements Disposable {
  readonly #file: Deno.FsFile;
  readonly #created: boolean;
  readonly #regular: boolean;
  #written = false;
  #closed = false;
  /** The path as given. */
  readonly path: string;

  private constructor(path: string, file: Deno.FsFile, created: boolean, regular: boolean) {
    this.path = path;
    this.#file = file;
    this.#created = created;
    this.#regular = regular;
  }

  /** Opens (or creates) `path` for writing. @throws {CliError} it cannot be, e.g. EISDIR, EACCES, ENOENT */
  static open(path: string): UserOutput {
    let created = true;
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { write: true, createNew: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw fileError("write", path, error);
      created = false;
      file = attempt("write", path, () => Deno.openSync(path, { write: true }));
    }
    try {
      const info = attempt("write", path, () => file.statSync());
      if (info.isDirectory) throw isADirectory("write", path);
      return new UserOutput(path, file, created, info.isFile);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Replaces the file's contents with `data` (text as UTF-8). @throws {CliError} e.g. ENOSPC */
  write(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    attempt("write", this.path, () => {
      if (this.#regular) this.#file.truncateSync(0);
      let rest = bytes;
      while (rest.length > 0) rest = rest.subarray(this.#file.writeSync(rest));
    });
    this.#written = true;
  }

  /** Closes the file; removes it when this run created it and wrote nothing. */
  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
    if (this.#created && !this.#written) {
      try {
        Deno.removeSync(this.path);
      } catch {
        // Gone already, or its directory changed: nothing of ours is left to remove.
      }
    }
  }
}

/**
 * Checks that `path` is a directory that can be listed, for a flag that names one (`--heap-dir`).
 * @throws {CliError} one line naming the flag: ENOENT, ENOTDIR, EACCES
 */
export function checkDirectory(path: string, flag: string): void {
  const where = `the directory ${shown(path)} (${flag})`;
  try {
    const info = Deno.statSync(path);
    if (!info.isDirectory) throw new CliError(`Cannot read ${where}: ENOTDIR (Not a directory)`);
    Deno.readDirSync(path)[Symbol.iterator]().next();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const why = errorText(error);
    throw new CliError(`Cannot read ${where}: ${why}`, { cause: error });
  }
}
