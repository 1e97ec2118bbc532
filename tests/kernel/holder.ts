/**
 * The ready document of a `dmabuf ... --hold --json` process, read for the real-kernel tests.
 * @module
 */

import type { AllocatedBuffer } from "../../commands/alloc.ts";

/** What `alloc --hold --json` prints once its buffers are ready. */
export interface AllocReady {
  /** The holder's pid. */
  pid: number;
  /** Its buffer fds. */
  fds: number[];
  /** The buffers, as `alloc --json` lists them. */
  buffers: AllocatedBuffer[];
}

/** The rest of each holder's stdout, read to its end in the background (see {@link readReady}). */
const drains = new WeakMap<Deno.ChildProcess, Promise<void>>();

/**
 * Reads the ready document an `alloc --hold --json` holder prints on stdout, without waiting for it to exit.
 * stdout stays open and is read to its end in the background: a holder whose stdout's reader goes away ends
 * (as `vmstat | head` does), so cancelling it would release the buffers. Await {@link stdoutDrained} once the
 * holder has exited.
 * @throws {Error} when the holder exits before printing a whole document
 */
export async function readReady(child: Deno.ChildProcess): Promise<AllocReady> {
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`holder exited before it was ready: ${JSON.stringify(text)}`);
    text += decoder.decode(value, { stream: true });
    try {
      const ready: AllocReady = JSON.parse(text);
      drains.set(
        child,
        (async () => {
          while (!(await reader.read()).done) {
            // nothing more is expected; read so the pipe stays open until the holder exits
          }
        })(),
      );
      return ready;
    } catch {
      // not a whole document yet
    }
  }
}

/** Resolves once the stdout of a holder given to {@link readReady} has ended (after the holder exited). */
export async function stdoutDrained(child: Deno.ChildProcess): Promise<void> {
  await drains.get(child);
}
