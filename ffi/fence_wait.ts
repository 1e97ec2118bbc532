/**
 * Waiting on a pollable kernel object (a sync_file, a dma-buf's implicit fences) with a deadline and an
 * AbortSignal.
 *
 * Why slices: errno is only trustworthy after a synchronous FFI call, and a synchronous `poll` blocks the JS
 * thread, so no signal listener could run during a long one. The wait is therefore made of synchronous
 * `poll` calls of at most {@link WAIT_SLICE_MS}, with a macrotask turn in between so that the SIGINT/SIGTERM
 * listener (and timers of in-process tests) can run.
 * @module
 */

import { poll, PollEvents } from "./fd.ts";

/** The longest synchronous poll slice, in ms: the bound on how late a Ctrl-C is noticed. */
export const WAIT_SLICE_MS = 100;

/** Options of {@link waitForEvents}. */
export interface WaitOptions {
  /** Give up after this many ms; undefined waits forever. 0 looks once without blocking. */
  timeoutMs?: number | undefined;
  /** Stops the wait when aborted (Ctrl-C). */
  signal?: AbortSignal | undefined;
}

/** How a wait ended. */
export type WaitOutcome =
  | { readonly kind: "ready"; readonly revents: number; readonly elapsedMs: number }
  | { readonly kind: "timeout"; readonly elapsedMs: number }
  | { readonly kind: "aborted"; readonly elapsedMs: number };

/** Thrown when poll reports `POLLNVAL`: the fd was closed under the wait. */
export class InvalidPollFdError extends Error {
  /** Makes the error for `label`. */
  constructor(label: string) {
    super(`Cannot wait on ${label}: poll reported POLLNVAL (the fd is not open)`);
    this.name = "InvalidPollFdError";
  }
}

/** Lets queued macrotasks (signal listeners, timers) run before the next slice. */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** What {@link waitForEvents} polls. */
export interface PollTarget {
  /** The fd; it must stay open for the whole wait. */
  fd: number;
  /** `POLLIN` or `POLLOUT`. */
  events: number;
  /** What the fd is, for messages. */
  label?: string;
}

/**
 * Polls an fd for events (`POLLIN`: a sync_file signalled, or a dma-buf's writers done; `POLLOUT`: all of a
 * dma-buf's fences done) until it is ready, the timeout passes or the signal aborts.
 * @throws {InvalidPollFdError} when the fd is not open
 * @throws {SyscallError} when poll fails other than with EINTR
 */
export async function waitForEvents(target: PollTarget, options: WaitOptions = {}): Promise<WaitOutcome> {
  const { fd, events } = target;
  const start = performance.now();
  const deadline = options.timeoutMs === undefined ? Infinity : start + options.timeoutMs;
  const elapsed = () => performance.now() - start;
  const wanted = events | PollEvents.POLLERR | PollEvents.POLLHUP;
  for (;;) {
    if (options.signal?.aborted) return { kind: "aborted", elapsedMs: elapsed() };
    const slice = Math.max(0, Math.min(WAIT_SLICE_MS, Math.ceil(deadline - performance.now())));
    const [result] = poll([{ fd, events, revents: 0 }], slice);
    const revents = result?.revents ?? 0;
    if (revents & PollEvents.POLLNVAL) throw new InvalidPollFdError(target.label ?? `fd ${fd}`);
    if (revents & wanted) return { kind: "ready", revents, elapsedMs: elapsed() };
    if (performance.now() >= deadline) return { kind: "timeout", elapsedMs: elapsed() };
    await turn();
  }
}
