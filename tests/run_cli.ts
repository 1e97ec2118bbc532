/**
 * Runs the CLI for tests: in-process through `main()` with captured streams (cheap: no Deno start-up), or as a
 * real subprocess through `cli/dmabuf` where process boundaries are the point (exit codes of the real entry,
 * fd inheritance, signals).
 * @module
 */

import { fileURLToPath } from "node:url";
import { main } from "../cli/main.ts";
import { type Io, STDOUT_CLOSED } from "../commands/toolkit/streams.ts";

/** What a CLI run produced. */
export interface CliResult {
  /** Exit status. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Options of {@link runCli} and {@link spawnCli}. */
export interface RunOptions {
  /** Extra environment (in-process: visible to the CLI's env lookups only). */
  env?: Record<string, string>;
  /** Pretend stdout is a terminal (in-process only). */
  terminal?: boolean;
  /** Pretend stderr is a terminal (in-process only). */
  stderrTerminal?: boolean;
}

/** Streams captured in memory: an {@link Io} and what was written to each stream so far. */
export interface CapturedIo {
  /** The streams to hand to `main()` or a command's context. */
  io: Io;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Acts as stdout's reader going away (a closed pipe): later writes are dropped, `closed` aborts. */
  closeStdout(): void;
}

/** Options of {@link captureIo}. */
export interface CaptureOptions extends RunOptions {
  /** Called with each piece written to stdout (after it is captured). */
  onStdout?: (text: string) => void;
}

/** The one way tests capture the CLI's streams in process. */
export function captureIo(options: CaptureOptions = {}): CapturedIo {
  let stdout = "";
  let stderr = "";
  const closed = new AbortController();
  const io: Io = {
    stdout: {
      isTerminal: options.terminal ?? false,
      closed: closed.signal,
      watchClosed: () => ({ [Symbol.dispose]: () => {} }),
      write: (text) => {
        if (closed.signal.aborted) return;
        stdout += text;
        options.onStdout?.(text);
      },
    },
    stderr: { isTerminal: options.stderrTerminal ?? false, write: (text) => void (stderr += text) },
    env: (name) => options.env?.[name] ?? Deno.env.get(name),
  };
  const closeStdout = () => closed.abort(STDOUT_CLOSED);
  return { io, stdout: () => stdout, stderr: () => stderr, closeStdout };
}

/** Runs `dmabuf <args>` in this process with captured stdout and stderr. */
export async function runCli(args: readonly string[], options: CaptureOptions = {}): Promise<CliResult> {
  const captured = captureIo(options);
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** The path of the CLI's shell entry (`cli/dmabuf`). */
export const CLI_PATH = fileURLToPath(new URL("../cli/dmabuf", import.meta.url));

/** Runs `cli/dmabuf <args>` as a subprocess and collects its output. */
export async function spawnCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const command = new Deno.Command(CLI_PATH, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: options.env ?? {},
  });
  const { code, stdout, stderr } = await command.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** A process started by {@link startProcess}: watched while it runs, collected when it ends. */
export interface RunningProcess {
  /** Its pid (for signals and /proc). */
  readonly pid: number;
  /** Whether it has exited (without waiting). */
  exited(): boolean;
  /** Waits until its stdout so far contains `text`, and returns that stdout; throws if it ends first. */
  readUntil(text: string): Promise<string>;
  /** Its exit status, as soon as it exits (its stdout may stay open in a child it left behind). */
  readonly status: Promise<Deno.CommandStatus>;
  /** Its exit status and everything it wrote, once its stdout and stderr are closed. */
  readonly result: Promise<CliResult>;
}

/** The one way tests start a process whose output they read while it runs (stdin is /dev/null). */
export function startProcess(
  file: string,
  args: readonly string[],
  env?: Record<string, string>,
): RunningProcess {
  const child = new Deno.Command(file, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(env === undefined ? {} : { env }),
  }).spawn();
  let stdout = "";
  let ended = false;
  let done = false;
  const waiters = new Set<() => void>();
  const pump = (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += text;
      for (const wake of waiters) wake();
    }
    ended = true;
    for (const wake of waiters) wake();
  })();
  const result = Promise.all([child.status, new Response(child.stderr).text(), pump]).then(
    ([status, stderr]) => {
      done = true;
      return { code: status.code, stdout, stderr };
    },
  );
  const readUntil = async (text: string): Promise<string> => {
    while (!stdout.includes(text)) {
      if (ended) throw new Error(`stdout ended without "${text}": ${JSON.stringify(stdout)}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
      });
    }
    return stdout;
  };
  return { pid: child.pid, exited: () => done, readUntil, status: child.status, result };
}

/** Starts `cli/dmabuf <args>` as a subprocess to watch while it runs ({@link startProcess}). */
export function startCli(args: readonly string[], options: RunOptions = {}): RunningProcess {
  return startProcess(CLI_PATH, args, options.env);
}
