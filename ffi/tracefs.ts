/**
 * tracefs (`kernel/trace/`, `CONFIG_FTRACE` + `CONFIG_TRACING`): finding its mount, and private trace
 * instances (`instances/<name>`: mkdir gives a buffer and event set of its own, rmdir removes it), so
 * recording fences never touches global tracing (`tracing_on`, `set_event`, the main buffer).
 *
 * Reading `trace_pipe` blocks until data arrives, and a blocking FFI read would hold the JS thread (no
 * Ctrl-C, no timers). So the pipe is opened `O_NONBLOCK` and read in slices, like ffi/fence_wait.ts waits
 * for fences: drain with synchronous non-blocking reads (EAGAIN = empty), then wait at most
 * {@link READ_SLICE_MS} with the JS thread free. The wait is a timer, not `poll`: `poll` on trace_pipe
 * wakes only once the buffer is `buffer_percent` (default 50%) full, so it cannot say "data arrived"
 * anyway, and a timer costs nothing. The slice is the batching interval: events reach the reader at most
 * ~100 ms late, in batches, which keeps the reader's cost low under a storm. A per-CPU buffer of
 * `buffer_size_kb` (1.4 MiB by default, ~15,000 fence events) therefore absorbs ~150,000 events/s per CPU
 * before the kernel drops any (reported as `[LOST n EVENTS]`).
 *
 * An instance cannot be removed while any of its files is open (`__remove_instance`: EBUSY while
 * `tr->ref > 1`), so the pipe is closed before rmdir.
 * @module
 */

import { Errno, SyscallError } from "./errno.ts";
import { Fd, listDir, OpenFlags, openPath, readProcSysFile, stat } from "./fd.ts";
import { check, cString, errno, libc } from "./libc.ts";
import { type MountEntry, parseMounts } from "./text/mounts.ts";

/** Where tracefs belongs (since 4.1). */
export const TRACEFS_PATH = "/sys/kernel/tracing";
/** Where debugfs automounts tracefs (when debugfs is mounted at its usual place). */
export const DEBUGFS_TRACING_PATH = "/sys/kernel/debug/tracing";
/** The command that mounts tracefs, for messages. */
export const TRACEFS_MOUNT_COMMAND = `mount -t tracefs nodev ${TRACEFS_PATH}`;
/** What a kernel needs for the fence tracepoints, for messages. */
export const TRACING_REQUIREMENT = "the kernel needs CONFIG_FTRACE=y";
/** The longest synchronous poll of trace_pipe, in ms: the bound on how late a Ctrl-C or an event is seen. */
export const READ_SLICE_MS = 100;
/** How long one slice may spend draining a busy pipe before letting the event loop run, in ms. */
export const DRAIN_BUDGET_MS = 50;
/** How much text one {@link TraceInstance.read} collects before returning early (bytes, ~2000 events). */
export const BATCH_BYTES = 256 * 1024;
/** Prefix of the instances this tool makes: `dmabuf-<pid>-<random>`. */
export const INSTANCE_PREFIX = "dmabuf-";

const INSTANCE_NAME = /^dmabuf-(\d+)-[0-9a-f]+$/;
const READ_CHUNK = 64 * 1024;

/** Thrown when tracefs cannot be used; the message says what is missing and how to get it. */
export class TracefsUnavailableError extends Error {
  /** Makes the error. */
  constructor(message: string) {
    super(message);
    this.name = "TracefsUnavailableError";
  }
}

/** The tracefs mount points in parsed mounts, {@link TRACEFS_PATH} first. */
export function tracefsMounts(mounts: readonly MountEntry[]): string[] {
  const points = mounts.filter((m) => m.fsType === "tracefs").map((m) => m.mountPoint);
  return [...new Set(points)].sort((a, b) => Number(b === TRACEFS_PATH) - Number(a === TRACEFS_PATH));
}

function exists(path: string): boolean {
  try {
    stat(path);
    return true;
  } catch (error) {
    if (error instanceof SyscallError && (error.is("ENOENT") || error.is("ENOTDIR"))) return false;
    throw error;
  }
}

/**
 * The tracefs mount to use: a mounted tracefs from /proc/self/mounts ({@link TRACEFS_PATH} preferred), else
 * the debugfs automount at {@link DEBUGFS_TRACING_PATH} (looking at it mounts it).
 * @throws {TracefsUnavailableError} naming the mount command and the kernel option
 * @throws {SyscallError} EACCES when not allowed to look (tracefs and debugfs are root-only)
 */
export function findTracefs(mountsText: string = readProcSysFile("/proc/self/mounts")): string {
  for (const point of tracefsMounts(parseMounts(mountsText))) {
    if (exists(`${point}/instances`)) return point;
  }
  if (exists(`${DEBUGFS_TRACING_PATH}/instances`)) return DEBUGFS_TRACING_PATH;
  if (!exists(TRACEFS_PATH)) {
    throw new TracefsUnavailableError(
      `The kernel has no tracefs (no ${TRACEFS_PATH}): ${TRACING_REQUIREMENT}`,
    );
  }
  throw new TracefsUnavailableError(
    `tracefs is not mounted: run ${TRACEFS_MOUNT_COMMAND} (${TRACING_REQUIREMENT})`,
  );
}

/** Writes `text` to a tracefs control file through libc. @throws {SyscallError} */
export function writeControl(path: string, text: string): void {
  using file = openPath(path, { flags: OpenFlags.O_WRONLY });
  const bytes = new TextEncoder().encode(text);
  check(libc().write(file.fd, bytes, BigInt(bytes.length)), "write", path);
}

/** `mkdir(2)`. @throws {SyscallError} */
export function makeDirectory(path: string, mode = 0o755): void {
  check(libc().mkdir(cString(path), mode), "mkdir", path);
}

/** `rmdir(2)`. @throws {SyscallError} */
export function removeDirectory(path: string): void {
  check(libc().rmdir(cString(path)), "rmdir", path);
}

/** A fresh instance name: `dmabuf-<pid>-<6 random hex digits>`. */
export function instanceName(pid: number = Deno.pid): string {
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${INSTANCE_PREFIX}${pid}-${[...random].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Removes instances this tool left behind when it was killed (SIGKILL gives no chance to clean up): those named
 * `dmabuf-<pid>-<hex>` whose pid no longer exists. Returns their names. Errors are ignored.
 */
export function removeStaleInstances(root: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = listDir(`${root}/instances`);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = INSTANCE_NAME.exec(name);
    if (m === null || exists(`/proc/${m[1]}`)) continue;
    try {
      removeDirectory(`${root}/instances/${name}`);
      removed.push(name);
    } catch {
      // in use or gone: leave it
    }
  }
  return removed;
}

/** The event groups an instance records, by tracefs path under `events/`. */
export const TRACE_EVENT_GROUPS = [
  { path: "dma_fence", name: "dma_fence", required: true },
  { path: "sync_trace/sync_timeline", name: "sync_trace/sync_timeline", required: false },
  { path: "dma_buf", name: "dma_buf", required: false },
] as const;

/** Options of {@link TraceInstance.create}. */
export interface InstanceOptions {
  /** The tracefs mount; default {@link findTracefs}. */
  root?: string;
  /** The instance name; default {@link instanceName}. */
  name?: string;
  /** Per-CPU buffer size in KiB (`buffer_size_kb`); default the kernel's. */
  bufferSizeKb?: number | undefined;
}

/** Waits `ms` on a timer, leaving the JS thread free for signal listeners. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A private tracefs instance recording the fence events, read through its `trace_pipe`. */
export class TraceInstance implements Disposable {
  /** The tracefs mount. */
  readonly root: string;
  /** The instance's name. */
  readonly name: string;
  /** The instance's directory. */
  readonly path: string;
  /** The event groups enabled (see {@link TRACE_EVENT_GROUPS}). */
  readonly enabled: string[];
  /** The trace clock in use (`mono` when available, else the kernel's default). */
  readonly clock: string;
  /** Whether events carry the process id (the `record-tgid` option) besides the thread id. */
  readonly recordsTgid: boolean;
  #pipe: Fd | null;
  #removed = false;
  readonly #decoder = new TextDecoder();
  readonly #chunk = new Uint8Array(READ_CHUNK);

  private constructor(
    root: string,
    name: string,
    enabled: string[],
    clock: string,
    recordsTgid: boolean,
    pipe: Fd,
  ) {
    this.root = root;
    this.name = name;
    this.path = `${root}/instances/${name}`;
    this.enabled = enabled;
    this.clock = clock;
    this.recordsTgid = recordsTgid;
    this.#pipe = pipe;
  }

  /**
   * Makes the instance, enables the fence events in it, switches it to the `mono` clock when the kernel has
   * one, and opens its trace_pipe non-blocking. On any failure the instance is removed again.
   * @throws {TracefsUnavailableError} when the kernel has no dma_fence events
   * @throws {SyscallError} e.g. EACCES without root
   */
  static create(options: InstanceOptions = {}): TraceInstance {
    const root = options.root ?? findTracefs();
    const name = options.name ?? instanceName();
    const path = `${root}/instances/${name}`;
    makeDirectory(path);
    let pipe: Fd | null = null;
    try {
      const enabled: string[] = [];
      for (const group of TRACE_EVENT_GROUPS) {
        const enable = `${path}/events/${group.path}/enable`;
        if (!exists(enable)) {
          if (group.required) {
            throw new TracefsUnavailableError(
              `The kernel has no ${group.name} trace events (no ${root}/events/${group.path}): ${TRACING_REQUIREMENT}`,
            );
          }
          continue;
        }
        writeControl(enable, "1");
        enabled.push(group.name);
      }
      let clock = "local";
      try {
        const clocks = readProcSysFile(`${path}/trace_clock`);
        if (/(^|\s)\[?mono\]?(\s|$)/.test(clocks)) {
          writeControl(`${path}/trace_clock`, "mono");
          clock = "mono";
        } else {
          clock = /\[(\w+)\]/.exec(clocks)?.[1] ?? clock;
        }
      } catch {
        // keep the default clock
      }
      // Events carry the thread id; with record-tgid they also carry the process id (a per-instance
      // option), which is what users filter by (`deno test` runs JS off the main thread, for one).
      let tgid = false;
      try {
        writeControl(`${path}/options/record-tgid`, "1");
        tgid = true;
      } catch {
        // older kernels: thread ids only
      }
      if (options.bufferSizeKb !== undefined) {
        writeControl(`${path}/buffer_size_kb`, String(options.bufferSizeKb));
      }
      pipe = openPath(`${path}/trace_pipe`, { flags: OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK });
      return new TraceInstance(root, name, enabled, clock, tgid, pipe);
    } catch (error) {
      pipe?.[Symbol.dispose]();
      try {
        removeDirectory(path);
      } catch {
        // the original error matters more
      }
      throw error;
    }
  }

  /** Whether the instance still exists (not yet disposed). */
  get active(): boolean {
    return !this.#removed;
  }

  /** Non-blocking reads until the pipe is empty or the budget is spent; "" when nothing was there. */
  drain(budgetMs = DRAIN_BUDGET_MS): string {
    const pipe = this.#pipe;
    if (pipe === null) return "";
    const until = performance.now() + budgetMs;
    let text = "";
    do {
      const n = Number(libc().read(pipe.fd, this.#chunk, BigInt(this.#chunk.length)));
      if (n === -1) {
        // errno first, before anything else can change it. EAGAIN: empty for now; EINTR: a signal came,
        // the caller's loop sees it. Both are the common case, so no error object is made for them.
        const code = errno();
        if (code === Errno.EAGAIN || code === Errno.EINTR) break;
        check(n, "read", `${this.path}/trace_pipe`);
      }
      if (n <= 0) break;
      text += this.#decoder.decode(this.#chunk.subarray(0, n), { stream: true });
    } while (performance.now() < until);
    return text;
  }

  /**
   * Waits up to `maxWaitMs` for events and returns their text ("" when none came, or when aborted), in
   * synchronous slices of at most {@link READ_SLICE_MS} with event-loop turns in between. Events are batched:
   * once some have arrived it keeps collecting until {@link READ_SLICE_MS} have passed (or
   * {@link BATCH_BYTES} are in hand), so a steady trickle costs ~10 wake-ups a second, not one per event.
   * @throws {SyscallError} when reading fails other than with EAGAIN/EINTR
   */
  async read(options: { maxWaitMs: number; signal?: AbortSignal | undefined }): Promise<string> {
    const start = performance.now();
    const deadline = start + options.maxWaitMs;
    let text = "";
    for (;;) {
      text += this.drain();
      if (text.length >= BATCH_BYTES || options.signal?.aborted || this.#pipe === null) return text;
      const now = performance.now();
      if (text !== "" && now - start >= READ_SLICE_MS) return text;
      const left = deadline - now;
      if (left <= 0) return text;
      const wait = text === "" ? READ_SLICE_MS : READ_SLICE_MS - (now - start);
      await sleep(Math.ceil(Math.min(wait, left)));
    }
  }

  /** Stops recording in this instance (`tracing_on` = 0) so a final drain sees a bounded amount. */
  stop(): void {
    if (this.#removed) return;
    try {
      writeControl(`${this.path}/tracing_on`, "0");
    } catch {
      // removal follows anyway
    }
  }

  /**
   * Closes the pipe and removes the instance (which also disables its events). Idempotent.
   * @throws {SyscallError} when rmdir fails (EBUSY: another process holds one of its files open)
   */
  remove(): void {
    if (this.#removed) return;
    this.#pipe?.[Symbol.dispose]();
    this.#pipe = null;
    removeDirectory(this.path);
    this.#removed = true;
  }

  /** Removes the instance, swallowing errors (dispose must not hide the error that unwound the scope). */
  [Symbol.dispose](): void {
    try {
      this.remove();
    } catch {
      // reported by remove() callers that care
    }
  }
}
