/**
 * Noticing that the reader of an output fd has gone while nothing is written to it: `poll(2)` reports
 * `POLLERR` on a pipe's write end once no reader is left (Linux, every version), `POLLHUP` on a socket whose
 * peer closed or a terminal that hung up. Apart from `streams.ts` because it needs ffi/, which only the
 * commands that wait load.
 * @module
 */

import { poll, PollEvents } from "../../ffi/fd.ts";

/** The events that mean nobody will read what is written. */
const GONE = PollEvents.POLLERR | PollEvents.POLLHUP;

/**
 * Looks at `fd` now and every `intervalMs` (without keeping the event loop alive); calls `gone` once when its
 * reader has gone. Returns the function that stops looking.
 */
export function watchReader(fd: number, gone: () => void, intervalMs: number): () => void {
  const look = (): boolean => {
    const [state] = poll([{ fd, events: 0, revents: 0 }], 0);
    return state !== undefined && (state.revents & GONE) !== 0;
  };
  if (look()) {
    gone();
    return () => {};
  }
  const timer = setInterval(() => {
    if (!look()) return;
    clearInterval(timer);
    gone();
  }, intervalMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
