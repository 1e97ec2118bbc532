/**
 * The process's streams and environment as commands see them (replaceable in tests), and what a write to a
 * stream does when its reader has gone.
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
