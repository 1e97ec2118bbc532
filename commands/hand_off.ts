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
 * 128 + N). SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to this process are passed on to the
 * child ({@link FORWARDED_SIGNALS}); a second SIGINT stops waiting for it and exits 130.
 *
 * `--hold`: prints the ready document (`--json`: `{ "pid", "fds", ...ready }`) or the line
 * `ready pid=<pid> fds=<fd,fd>` on stdout, then waits for DURATION or SIGINT/SIGTERM, and returns so the
 * caller's `using` releases everything; the exit status is 0.
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { CliError, Exit, ExitCode, UsageError } from "./toolkit/errors.ts";
import { formatDuration } from "./toolkit/units.ts";
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

/**
 * The signals `--exec` passes on to the child, as they reach a shell's foreground job: a terminal's Ctrl-C
 * (SIGINT), Ctrl-\\ (SIGQUIT), a hang-up, and kill(1)'s usual ones.
 */
export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/**
 * Sends `name` to the child. Deno.kill, not ChildProcess.kill: Deno's node:child_process then reports the
 * child as killed by that signal even when it handled it and exited with a status of its own.
 */
function pass(child: ChildProcess, name: (typeof FORWARDED_SIGNALS)[number]): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    Deno.kill(child.pid, name);
  } catch (error) {
    // Gone between the check and the kill: its exit is about to be reported.
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

async function execWith(_context: DmabufContext, request: HandOffRequest): Promise<void> {
  const [file, ...args] = request.command;
  const childFds = request.fds.map((_fd, i) => FIRST_CHILD_FD + i);
  const env = { ...Deno.env.toObject(), [FDS_ENV]: childFds.join(",") };
  let child: ChildProcess | undefined;
  const early: (typeof FORWARDED_SIGNALS)[number][] = [];
  let interrupts = 0;
  const forced = Promise.withResolvers<never>();
  // The handlers go in before the spawn: a signal between the spawn and their installation would end this
  // process by the default action, release the fds under the child and leave it running unwatched. One that
  // comes before the child exists is passed on as soon as it does.
  const listeners = FORWARDED_SIGNALS.map((name) => {
    const listener = (): void => {
      // A second Ctrl-C forces the exit, as the user asked twice; the child has had both.
      if (name === "SIGINT" && ++interrupts === 2) {
        forced.reject(
          new CliError(`Interrupted twice: not waiting for "${file}" (pid ${child?.pid ?? "not started"})`, {
            exitCode: ExitCode.INTERRUPTED,
          }),
        );
      }
      if (child === undefined) early.push(name);
      else pass(child, name);
    };
    Deno.addSignalListener(name, listener);
    return [name, listener] as const;
  });
  try {
    // node:child_process places extra stdio entries at 3, 4, ... in the child (dup2 after fork), which
    // Deno.Command cannot; the originals stay close-on-exec, so the child holds no other copies.
    const started = spawn(file!, args, { stdio: ["inherit", "inherit", "inherit", ...request.fds], env });
    child = started;
    for (const name of early) pass(started, name);
    const exited = new Promise<number>((resolve, reject) => {
      started.once("error", (error: NodeJS.ErrnoException) => {
        const why = error.code === "ENOENT" ? "command not found" : error.message;
        reject(new CliError(`Cannot run "${file}": ${why}`, { exitCode: EXIT_CANNOT_RUN, cause: error }));
      });
      started.once("exit", (code: number | null, name: NodeJS.Signals | null) => {
        if (name !== null) resolve(SIGNAL_EXIT_BASE + (constants.signals[name] ?? 0));
        else resolve(code ?? 0);
      });
    });
    const status = await Promise.race([exited, forced.promise]);
    if (status !== 0) throw new Exit(status);
  } finally {
    for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
  }
}
