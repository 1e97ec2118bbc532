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

/**
 * Reads the ready document an `alloc --hold --json` holder prints on stdout, without waiting for it to exit; stdout is then
 * cancelled (nothing more comes on it), which keeps the test's resource check quiet.
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
      await reader.cancel();
      return ready;
    } catch {
      // not a whole document yet
    }
  }
}
