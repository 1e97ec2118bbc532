/**
 * Handing fds on after a command made them: `--hold [DURATION]` keeps them alive in this process (so other
 * processes can reach them with `--pid P --fd N`), `--exec -- CMD ARGS...` runs a command that inherits them.
 * Used by `alloc`, `fence export` and `fence sw-sync`.
 *
 * ```ts
 * import { checkHandOff, handOff } from "./hand_off.ts";
 * // route:   flags: { ...commonFlags, ...handOffFlags }, positional: handOffPositional
 * // command: checkHandOff(flags, command);   // before making anything: usage errors exit 2
 * //          ... make fds, print own output unless wantsHold/wantsExec ...
 * //          await handOff(this, { flags, command, fds, ready: { buffers } });
 * ```
 *
 * `--exec`: the child gets the fds as 3, 4, ... in the order given (and no other copies), their numbers in
 * `DMABUF_FDS=3,4`, this process's stdin/stdout/stderr, and its exit status becomes ours (death by signal N:
 * 128 + N). SIGTERM sent to this process is passed on to the child; SIGINT from a terminal reaches both.
 *
 * `--hold`: prints the ready document (`--json`: `{ "pid", "fds", ...ready }`) or the line
 * `ready pid=<pid> fds=<fd,fd>` on stdout, then waits for DURATION or SIGINT/SIGTERM, and returns so the
 * caller's `using` releases everything; the exit status is 0.
 * @module
 */

import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { CliError, Exit, UsageError } from "./toolkit/errors.ts";
import { formatDuration } from "./toolkit/output.ts";
import { sleep } from "./toolkit/timer.ts";
import { type HandOffFlags, HOLD_FOREVER } from "./toolkit/flags.ts";

/** The environment variable that lists the inherited fd numbers, comma separated. */
export const FDS_ENV = "DMABUF_FDS";

/** The first fd number the child receives (after stdin, stdout, stderr). */
export const FIRST_CHILD_FD = 3;

/** Exit status for death by signal N is this + N, as shells report it. */
const SIGNAL_EXIT_BASE = 128;

/** Exit status when the command cannot be started (not found, not executable), as shells use. */
export const EXIT_CANNOT_RUN = 127;

/** Whether the flags ask to hold. */
export function wantsHold(flags: HandOffFlags): boolean {
  return flags.hold !== undefined;
}

/** Whether the flags ask to exec. */
export function wantsExec(flags: HandOffFlags): boolean {
  return flags.exec;
}

/**
 * Checks `--hold`/`--exec` and the command after `--` before anything is made.
 * @throws {UsageError} `--exec` without a command, a command without `--exec`, `--hold` with `--exec`
 */
export function checkHandOff(flags: HandOffFlags, command: readonly string[]): void {
  if (flags.exec && wantsHold(flags)) throw new UsageError("--hold and --exec cannot be combined");
  if (flags.exec && command.length === 0) {
    throw new UsageError("--exec needs a command after --, e.g. --exec -- dmabuf map --fd 3 --read");
  }
  if (!flags.exec && command.length > 0) {
    throw new UsageError(`Unexpected argument "${command[0]}": a command to run needs --exec before --`);
  }
}

/** What to hand off. */
export interface HandOffRequest {
  /** The command's flags (common flags for `--json`, hand-off flags for what to do). */
  flags: HandOffFlags & CommonFlags;
  /** The command after `--` (for `--exec`). */
  command: readonly string[];
  /** The fds to hand on, in order. */
  fds: readonly number[];
  /** Extra fields of the `--hold --json` ready document, e.g. `{ buffers: [...] }`. */
  ready?: Record<string, unknown>;
}

/**
 * Holds or execs as the flags say; does nothing when they ask for neither. Call {@link checkHandOff} first.
 * @throws {Exit} with the child's status after `--exec` when it is not 0
 * @throws {CliError} when the command cannot be started (exit 127)
 */
export async function handOff(context: DmabufContext, request: HandOffRequest): Promise<void> {
  if (wantsExec(request.flags)) await execWith(context, request);
  else if (wantsHold(request.flags)) await hold(context, request);
}

/** The `--hold` ready line: `ready pid=123 fds=3,4`. */
export function readyLine(pid: number, fds: readonly number[]): string {
  return `ready pid=${pid} fds=${fds.join(",")}`;
}

async function hold(context: DmabufContext, request: HandOffRequest): Promise<void> {
  const out = context.output(request.flags);
  // Installing the handlers before the ready line means a signal sent as soon as it is read is caught.
  const signal = context.interrupt();
  const duration = request.flags.hold ?? HOLD_FOREVER;
  if (out.json) out.data({ pid: Deno.pid, fds: request.fds, ...request.ready });
  else out.line(readyLine(Deno.pid, request.fds));
  if (out.verbose) {
    out.note(
      `dmabuf: holding ${
        duration === HOLD_FOREVER ? "until SIGINT/SIGTERM" : `for ${formatDuration(duration)}`
      }`,
    );
  }
  // A pending timer keeps the event loop alive while holding, also "forever".
  await sleep(duration, { signal });
  if (out.verbose) {
    out.note(`dmabuf: released ${request.fds.length} fd(s)${signal.aborted ? ` on ${signal.reason}` : ""}`);
  }
}

async function execWith(context: DmabufContext, request: HandOffRequest): Promise<void> {
  const [file, ...args] = request.command;
  const childFds = request.fds.map((_fd, i) => FIRST_CHILD_FD + i);
  const env = { ...Deno.env.toObject(), [FDS_ENV]: childFds.join(",") };
  // node:child_process places extra stdio entries at 3, 4, ... in the child (dup2 after fork), which
  // Deno.Command cannot; the originals stay close-on-exec, so the child holds no other copies.
  const child = spawn(file!, args, { stdio: ["inherit", "inherit", "inherit", ...request.fds], env });
  const signal = context.interrupt();
  const forward = () => {
    if (signal.reason === "SIGTERM") child.kill("SIGTERM");
  };
  signal.addEventListener("abort", forward);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      child.once("error", (error: NodeJS.ErrnoException) => {
        const why = error.code === "ENOENT" ? "command not found" : error.message;
        reject(new CliError(`Cannot run "${file}": ${why}`, { exitCode: EXIT_CANNOT_RUN, cause: error }));
      });
      child.once("exit", (code: number | null, name: NodeJS.Signals | null) => {
        if (name !== null) resolve(SIGNAL_EXIT_BASE + (constants.signals[name] ?? 0));
        else resolve(code ?? 0);
      });
    });
    if (status !== 0) throw new Exit(status);
  } finally {
    signal.removeEventListener("abort", forward);
  }
}
