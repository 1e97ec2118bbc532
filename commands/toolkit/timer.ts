/**
 * The one timer commands use: any duration, including longer than `setTimeout` can take and `Infinity`.
 *
 * `setTimeout` stores its delay as a signed 32-bit count of ms: a delay above 2^31 - 1 ms (24.8 days) fires at
 * once. {@link after} therefore chains slices of at most {@link MAX_TIMER_MS} against a deadline, so
 * `fence sw-sync --close-after 30d` and `stat --watch 30d` wait as asked.
 * @module
 */

/** The longest delay `setTimeout` honours, in ms (2^31 - 1); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The clock and timers {@link after} uses; tests pass a fake one. */
export interface Clock {
  /** A monotonic time in ms. */
  now(): number;
  /** Calls `callback` after `ms` (at most {@link MAX_TIMER_MS}); returns a handle for {@link Clock.clear}. */
  schedule(callback: () => void, ms: number): unknown;
  /** Cancels a scheduled call, given the handle {@link Clock.schedule} returned. */
  clear(handle: unknown): void;
}

/** The real clock: `performance.now()` and `setTimeout`. */
export const realClock: Clock = {
  now: () => performance.now(),
  schedule: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A pending {@link after}; disposing it cancels the call. */
export interface Timer extends Disposable {
  /** Cancels the call if it has not happened; idempotent. */
  cancel(): void;
}

/**
 * Calls `callback` once, `ms` from now. `Infinity` never calls it but, like any pending timer, keeps the event
 * loop alive until cancelled.
 * @param clock the clock to use; the real one by default
 */
export function after(ms: number, callback: () => void, clock: Clock = realClock): Timer {
  const deadline = clock.now() + ms;
  let handle: unknown;
  const arm = (): void => {
    const left = deadline - clock.now();
    if (left <= 0) {
      handle = undefined;
      callback();
      return;
    }
    handle = clock.schedule(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  const cancel = (): void => {
    if (handle !== undefined) clock.clear(handle);
    handle = undefined;
  };
  return { cancel, [Symbol.dispose]: cancel };
}

/** Options of {@link sleep}. */
export interface SleepOptions {
  /** Ends the sleep early (without an error) when aborted. */
  signal?: AbortSignal;
  /** The clock to use; the real one by default. */
  clock?: Clock;
}

/** Resolves `ms` from now (any duration, `Infinity` for never), or as soon as `options.signal` aborts. */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  const { signal } = options;
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const finish = (): void => {
      timer.cancel();
      signal?.removeEventListener("abort", finish);
      resolve();
    };
    const timer = after(ms, finish, options.clock);
    signal?.addEventListener("abort", finish);
  });
}

/**
 * Timers whose callbacks may throw, for a command that schedules work (`fence sw-sync --inc-after`). An error
 * thrown in a bare timer callback escapes to the event loop: it bypasses `main()`'s error handling (no one-line
 * message, no exit status of ours) and the `using` cleanup of the command that scheduled it. Here the first such
 * error rejects {@link Timers.race}, which the command awaits its work through; dispose cancels what is pending.
 */
export class Timers implements Disposable {
  readonly #clock: Clock;
  readonly #pending = new Set<Timer>();
  readonly #failure = Promise.withResolvers<never>();
  #failed = false;

  /** Makes an empty set of timers on `clock` (the real one by default). */
  constructor(clock: Clock = realClock) {
    this.#clock = clock;
    // Nobody may be racing yet when a callback throws; the error is kept for the next race.
    this.#failure.promise.catch(() => {});
  }

  /** Whether a callback has thrown. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Calls `callback` once, `ms` from now; the promise resolves after it ran, also when it threw. */
  after(ms: number, callback: () => void): Promise<void> {
    const ran = Promise.withResolvers<void>();
    // A delay of 0 calls back before after() returns, so the timer is reached through this holder.
    const entry: { timer?: Timer; fired?: boolean } = {};
    entry.timer = after(ms, () => {
      entry.fired = true;
      if (entry.timer !== undefined) this.#pending.delete(entry.timer);
      try {
        callback();
      } catch (error) {
        if (!this.#failed) this.#failure.reject(error);
        this.#failed = true;
      } finally {
        ran.resolve();
      }
    }, this.#clock);
    if (entry.fired !== true) this.#pending.add(entry.timer);
    return ran.promise;
  }

  /** Settles as `work` does, unless a callback throws first (or has thrown): then rejects with that error. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#failure.promise]);
  }

  /** Cancels every call that has not happened; idempotent. */
  cancel(): void {
    for (const timer of this.#pending) timer.cancel();
    this.#pending.clear();
  }

  /** Cancels what is pending. */
  [Symbol.dispose](): void {
    this.cancel();
  }
}
