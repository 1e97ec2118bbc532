/**
 * `dmabuf fence sw-sync`: a test fence source for boards without a GPU. Creates a sw_sync timeline and
 * fences at the given seqnos, hands their sync_files on (`--exec`, `--hold`, or a ready line for
 * `--pid P --fd N`), and advances the timeline after a delay or on commands from stdin, keeping it open
 * meanwhile — closing it signals every pending fence with `-ENOENT`, which `close` / `--close-after` reach on
 * purpose.
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { CliError, shown, UsageError } from "../toolkit/errors.ts";
import { fenceStatusText, type SyncFile } from "../../ffi/sync_file.ts";
import { MAX_INC, SwSyncTimeline, SwSyncUnavailableError } from "../../ffi/sw_sync.ts";
import { checkHandOff, FIRST_CHILD_FD, handOff, readyLine, wantsExec, wantsHold } from "../hand_off.ts";
import type { HandOffFlags } from "../toolkit/flags.ts";
import { Timers } from "../toolkit/timer.ts";
import type { Output } from "../toolkit/output.ts";
import { addedTaint, describeTaint, readTaint, TAINT_SOFTLOCKUP_BIT, TAINTED_PATH } from "../../ffi/taint.ts";
import { kernelAtLeast } from "../../ffi/kernel_release.ts";

/**
 * The first kernel seen to taint itself when a sw_sync fence is created (`sw_sync_ioctl_create_fence`:
 * `add_taint(TAINT_SOFTLOCKUP)`, "SW sync fence are inherently unsafe"): 7.2 does, 6.12 does not; the
 * kernels between were not checked, so there only a change of the flag is reported.
 */
export const SW_SYNC_TAINTS_SINCE = "7.2";

/** The seqno used when none is given. */
export const DEFAULT_SEQNO = 1;

/** Flags of `dmabuf fence sw-sync`. */
export interface SwSyncFlags extends CommonFlags, HandOffFlags {
  /** A fence per seqno (default one at 1). */
  readonly seqno?: readonly number[];
  /** Advance the timeline to the highest seqno after this many ms. */
  readonly incAfter?: number;
  /** Close the timeline after this many ms (pending fences signal with -ENOENT). */
  readonly closeAfter?: number;
  /** Read commands from stdin: `inc [N]`, `close`, `status`, `quit`. */
  readonly stdin: boolean;
}

/** A fence as reported: its seqno and fd (the child's number with `--exec`). */
export interface SwSyncFenceJson {
  /** The seqno it signals at. */
  seqno: number;
  /** Its fd. */
  fd: number;
}

/** A command read from stdin. */
export type SwSyncCommand =
  | { readonly kind: "inc"; readonly step: number }
  | { readonly kind: "close" }
  | { readonly kind: "status" }
  | { readonly kind: "quit" };

/**
 * Parses one stdin line: `inc [N]` (default 1), `close`, `status`, `quit` (blank lines and `#` comments give
 * null).
 * @throws {UsageError} for anything else
 */
export function parseSwSyncCommand(line: string): SwSyncCommand | null {
  const words = line.trim().split(/\s+/).filter((word) => word !== "");
  if (words.length === 0 || words[0]!.startsWith("#")) return null;
  const [verb, argument, ...extra] = words;
  const bad = (why: string) => new UsageError(`Bad sw-sync command "${shown(line.trim())}": ${why}`);
  if (extra.length > 0) throw bad("too many words");
  switch (verb!.toLowerCase()) {
    case "inc": {
      if (argument === undefined) return { kind: "inc", step: 1 };
      const step = Number(argument);
      if (!/^\d+$/.test(argument) || step > MAX_INC) throw bad(`expected inc N with N from 0 to ${MAX_INC}`);
      return { kind: "inc", step };
    }
    case "close":
    case "status":
    case "quit":
      if (argument !== undefined) throw bad(`${verb} takes no argument`);
      return { kind: verb!.toLowerCase() as "close" | "status" | "quit" };
    default:
      throw bad("expected inc [N], close, status or quit");
  }
}

/**
 * Warns, once, that creating the fences tainted the kernel: when the taint mask gained a flag meanwhile, or
 * when it already had TAINT_SOFTLOCKUP on a kernel known to set it for every sw_sync fence.
 */
export function warnAboutTaint(
  out: Pick<Output, "warn">,
  before: number | null,
  after: number | null,
  release: string = Deno.osRelease(),
): void {
  if (before === null || after === null) return;
  const added = addedTaint(before, after);
  const softlockup = 2 ** TAINT_SOFTLOCKUP_BIT;
  if (added !== 0) {
    out.warn(
      `creating the sw_sync fences tainted the kernel: ${
        describeTaint(added)
      } (${TAINTED_PATH} ${before} -> ` +
        `${after}); the flag stays until reboot, so say so with this boot's test results`,
    );
  } else if ((after & softlockup) !== 0 && kernelAtLeast(SW_SYNC_TAINTS_SINCE, release)) {
    out.warn(
      `creating a sw_sync fence taints this kernel (Linux ${SW_SYNC_TAINTS_SINCE}+: ${
        describeTaint(softlockup)
      }); ` +
        `it was already tainted so (${TAINTED_PATH} = ${after})`,
    );
  }
}

/** A one-line summary of the fences: `seqno 1 signalled, seqno 2 active`. */
function fenceSummary(fences: readonly { seqno: number; syncFile: SyncFile }[]): string {
  return fences.map((f) => `seqno ${f.seqno} ${fenceStatusText(f.syncFile.status())}`).join(", ");
}

/** Runs the timeline: the schedule, stdin commands and the hand-off, and closes it at the end. */
export async function fenceSwSync(
  this: DmabufContext,
  flags: SwSyncFlags,
  ...command: string[]
): Promise<void> {
  checkHandOff(flags, command);
  const out = this.output(flags);
  const seqnos = flags.seqno === undefined || flags.seqno.length === 0 ? [DEFAULT_SEQNO] : [...flags.seqno];
  let timeline: SwSyncTimeline;
  try {
    timeline = SwSyncTimeline.open();
  } catch (error) {
    if (error instanceof SwSyncUnavailableError) throw new CliError(error.message, { cause: error });
    throw error;
  }
  using _timeline = timeline;
  const fences: { seqno: number; syncFile: SyncFile }[] = [];
  using _fences = {
    [Symbol.dispose]: () => fences.forEach((fence) => fence.syncFile[Symbol.dispose]()),
  };
  const taintBefore = readTaint();
  for (const seqno of seqnos) fences.push({ seqno, syncFile: timeline.createFence(seqno) });
  warnAboutTaint(out, taintBefore, readTaint());
  const highest = Math.max(...seqnos);
  const exec = wantsExec(flags);
  const reported: SwSyncFenceJson[] = fences.map((f, i) => ({
    seqno: f.seqno,
    fd: exec ? FIRST_CHILD_FD + i : f.syncFile.fd,
  }));
  const ready = { timeline: { path: timeline.path, value: timeline.value }, fences: reported };
  const say = (text: string) => out.note(`dmabuf: ${text}`);

  if (exec) {
    // stdout belongs to the child: only say what it got, on stderr, when asked.
    if (out.verbose) reported.forEach((f) => say(`fd ${f.fd}: sw_sync fence at seqno ${f.seqno}`));
  } else {
    if (!out.json) {
      reported.forEach((f) => out.line(`fd ${f.fd}: sw_sync fence at seqno ${f.seqno} on ${timeline.path}`));
    }
    // --hold prints the ready line itself; without it the process still lives while the schedule runs, and
    // the same line (or document) tells other processes where the fences are (--pid P --fd N).
    if (!wantsHold(flags)) {
      if (out.json) out.data({ pid: Deno.pid, fds: reported.map((f) => f.fd), ...ready });
      else out.line(readyLine(Deno.pid, reported.map((f) => f.fd)));
    }
  }

  const done = new AbortController();
  // What a scheduled step throws (a kernel error on inc) ends the command through its own promise.
  using timers = new Timers();
  const pending = new Set<Promise<void>>();
  const run = (action: SwSyncCommand): void => {
    switch (action.kind) {
      case "inc":
        if (!timeline.open) return say(`inc ${action.step} ignored: the timeline is closed`);
        timeline.inc(action.step);
        return say(`timeline at ${timeline.value}: ${fenceSummary(fences)}`);
      case "close":
        if (!timeline.open) return;
        timeline.close();
        return say(`timeline closed: ${fenceSummary(fences)}`);
      case "status":
        return say(`timeline ${timeline.open ? `at ${timeline.value}` : "closed"}: ${fenceSummary(fences)}`);
      case "quit":
        run({ kind: "close" });
        done.abort("quit");
        return;
    }
  };
  const schedule = (ms: number, action: () => SwSyncCommand) => {
    const step = timers.after(ms, () => run(action())).finally(() => pending.delete(step));
    pending.add(step);
  };
  if (flags.incAfter !== undefined) {
    // Computed when it fires: stdin may have advanced the timeline meanwhile.
    schedule(flags.incAfter, () => ({ kind: "inc", step: Math.max(0, highest - timeline.value) }));
  }
  if (flags.closeAfter !== undefined) schedule(flags.closeAfter, () => ({ kind: "close" }));
  let reader: ReadableStreamDefaultReader<string> | undefined;
  if (flags.stdin) {
    reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
    const lines = readCommands(reader, { run, warn: (text) => out.warn(text), done: done.signal });
    pending.add(lines);
    lines.finally(() => pending.delete(lines));
  }

  if (!exec && !wantsHold(flags) && pending.size === 0) {
    say(
      "nothing keeps the timeline open (no --inc-after, --close-after, --stdin, --hold or --exec): closing it",
    );
  }
  try {
    if (exec || wantsHold(flags)) {
      // The hold ends on SIGINT/SIGTERM as usual, and also on `quit` from stdin.
      const stop = AbortSignal.any([this.interrupt(), done.signal]);
      await timers.race(handOff({ ...this, interrupt: () => stop }, {
        flags,
        command,
        fds: fences.map((f) => f.syncFile.fd),
        ready,
      }));
    } else {
      await timers.race(untilSettled(pending, AbortSignal.any([this.interrupt(), done.signal])));
    }
  } finally {
    // Ends a hold still running when a scheduled step threw (timers.race gave up on it).
    done.abort("finished");
    timers.cancel();
    await reader?.cancel().catch(() => {});
    if (out.verbose) say(`closing the timeline at ${timeline.open ? timeline.value : "(closed)"}`);
  }
}

/** Waits until every pending step has run, or the signal aborts. */
async function untilSettled(pending: Set<Promise<void>>, signal: AbortSignal): Promise<void> {
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  while (pending.size > 0 && !signal.aborted) await Promise.race([...pending, aborted]);
}

async function readCommands(
  reader: ReadableStreamDefaultReader<string>,
  handlers: { run: (command: SwSyncCommand) => void; warn: (text: string) => void; done: AbortSignal },
): Promise<void> {
  let buffered = "";
  for (;;) {
    let chunk: ReadableStreamReadResult<string>;
    try {
      chunk = await reader.read();
    } catch {
      return; // cancelled at the end of the run
    }
    if (chunk.done) break;
    buffered += chunk.value;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      handle(line, handlers);
      if (handlers.done.aborted) return;
    }
  }
  if (buffered.trim() !== "") handle(buffered, handlers);
}

function handle(
  line: string,
  handlers: { run: (command: SwSyncCommand) => void; warn: (text: string) => void },
): void {
  try {
    const command = parseSwSyncCommand(line);
    if (command !== null) handlers.run(command);
  } catch (error) {
    handlers.warn(error instanceof Error ? error.message : String(error));
  }
}
