/**
 * The process's streams and environment as commands see them (replaceable in tests), and the policy for
 * writing to them:
 *
 * - stdout whose reader has gone (`dmabuf stat | head`: EPIPE) is the reader's choice, not an error: the
 *   write is dropped and {@link OutputStream.closed} aborts, which every long-running loop is stopped by (the
 *   context's `interrupt()` signal includes it), as `vmstat | head` ends. A loop that writes nothing for a
 *   while learns of it from {@link OutputStream.watchClosed} (a poll of the fd, {@link WATCH_INTERVAL_MS}).
 * - stdout that fails otherwise (`> /dev/full`: ENOSPC, EIO) is the user's world, not a bug: one line,
 *   `Cannot write to stdout: ENOSPC (No space left on device)`, exit 1; later writes are dropped.
 * - stderr that cannot be written has nowhere to report to: its writes are dropped, the exit status stays.
 * @module
 */

import { CliError, errorText } from "./errors.ts";

/** A place text is written to. */
export interface Stream {
  /** Writes text as it is. */
  write(text: string): void;
  /** Whether the stream is a terminal. */
  readonly isTerminal: boolean;
}

/** Standard output: a {@link Stream} that says when its reader has gone. */
export interface OutputStream extends Stream {
  /** Aborted (reason {@link STDOUT_CLOSED}) once a write met a broken pipe or the watch saw the reader go. */
  readonly closed: AbortSignal;
  /** Starts noticing a reader that goes away while nothing is written; disposing stops it. */
  watchClosed(): Disposable;
}

/** Streams and an environment to write text for people or programs to (what a formatter needs). */
export interface TextIo {
  /** Standard output: data. */
  readonly stdout: Stream;
  /** Standard error: messages. */
  readonly stderr: Stream;
  /** An environment variable, or undefined. */
  env(name: string): string | undefined;
}

/** The process's streams and environment, replaceable in tests. */
export interface Io extends TextIo {
  /** Standard output: data, and whether its reader has gone. */
  readonly stdout: OutputStream;
}

/** The abort reason of {@link OutputStream.closed}: the errno a write to the closed pipe gets. */
export const STDOUT_CLOSED = "EPIPE";

/** The fd of standard output. */
const STDOUT_FD = 1;

/** How often a watched stdout is looked at while nothing is written to it, in ms. */
export const WATCH_INTERVAL_MS = 250;

type StdFile = typeof Deno.stdout | typeof Deno.stderr;

/** Writes all of `bytes` to `file`. */
function writeAll(file: StdFile, text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** The process's stdout under the policy above. */
function stdoutStream(): OutputStream {
  const closed = new AbortController();
  let failed = false;
  return {
    isTerminal: Deno.stdout.isTerminal(),
    closed: closed.signal,
    write(text: string): void {
      if (closed.signal.aborted || failed) return;
      try {
        writeAll(Deno.stdout, text);
      } catch (error) {
        if (error instanceof Deno.errors.BrokenPipe) return closed.abort(STDOUT_CLOSED);
        failed = true;
        const why = errorText(error);
        throw new CliError(`Cannot write to stdout: ${why}`, { cause: error });
      }
    },
    watchClosed(): Disposable {
      let stop: (() => void) | undefined;
      let disposed = false;
      // Loaded only by the commands that wait (the poll is FFI, which `--help` and `stat --input` never load).
      import("./closed_watch.ts").then(({ watchReader }) => {
        if (!disposed && !closed.signal.aborted) {
          stop = watchReader(STDOUT_FD, () => closed.abort(STDOUT_CLOSED), WATCH_INTERVAL_MS);
        }
      });
      return {
        [Symbol.dispose]: () => {
          disposed = true;
          stop?.();
        },
      };
    },
  };
}

/** The process's stderr under the policy above. */
function stderrStream(): Stream {
  let failed = false;
  return {
    isTerminal: Deno.stderr.isTerminal(),
    write(text: string): void {
      if (failed) return;
      try {
        writeAll(Deno.stderr, text);
      } catch {
        failed = true;
      }
    },
  };
}

/** The real process streams and environment. */
export function processIo(): Io {
  return { stdout: stdoutStream(), stderr: stderrStream(), env: (name) => Deno.env.get(name) };
}
