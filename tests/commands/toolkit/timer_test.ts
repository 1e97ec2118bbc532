import { assertEquals, assertOk } from "../../assert.ts";
import { after, type Clock, MAX_TIMER_MS, sleep, Timers } from "../../../commands/toolkit/timer.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** A clock whose time moves only when the test says, recording every delay asked of it. */
class FakeClock implements Clock {
  time = 0;
  readonly delays: number[] = [];
  #next = 1;
  #pending = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }
  schedule(callback: () => void, ms: number): number {
    this.delays.push(ms);
    const handle = this.#next++;
    this.#pending.set(handle, { at: this.time + ms, callback });
    return handle;
  }
  clear(handle: unknown): void {
    this.#pending.delete(handle as number);
  }
  get pending(): number {
    return this.#pending.size;
  }
  /** Moves time forward by `ms`, running what falls due in order. */
  tick(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.#pending].filter(([, p]) => p.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#pending.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }
}

Deno.test("after: 30 days is a chain of slices of at most 2^31 - 1 ms and fires only at the end", () => {
  const clock = new FakeClock();
  let fired = 0;
  after(30 * DAY_MS, () => fired++, clock);
  assertOk(clock.delays.every((ms) => ms > 0 && ms <= MAX_TIMER_MS), `delays: ${clock.delays}`);
  clock.tick(MAX_TIMER_MS);
  assertEquals(fired, 0);
  clock.tick(30 * DAY_MS - MAX_TIMER_MS - 1);
  assertEquals(fired, 0);
  clock.tick(1);
  assertEquals(fired, 1);
  assertEquals(clock.pending, 0);
  assertOk(clock.delays.every((ms) => ms > 0 && ms <= MAX_TIMER_MS), `delays: ${clock.delays}`);
});

Deno.test("after: a short delay is one timer; cancel and dispose stop it, idempotently", () => {
  const clock = new FakeClock();
  let fired = 0;
  const timer = after(500, () => fired++, clock);
  assertEquals(clock.delays, [500]);
  timer.cancel();
  timer.cancel();
  clock.tick(1000);
  assertEquals(fired, 0);
  {
    using _disposed = after(10, () => fired++, clock);
  }
  clock.tick(1000);
  assertEquals(fired, 0);
  assertEquals(clock.pending, 0);
});

Deno.test("after: Infinity never fires but keeps a timer pending until cancelled", () => {
  const clock = new FakeClock();
  let fired = 0;
  const timer = after(Infinity, () => fired++, clock);
  clock.tick(100 * DAY_MS);
  assertEquals(fired, 0);
  assertEquals(clock.pending, 1);
  assertOk(clock.delays.every((ms) => ms === MAX_TIMER_MS));
  timer.cancel();
  assertEquals(clock.pending, 0);
});

Deno.test("sleep: ends at the deadline, or at once when the signal aborts", async () => {
  const clock = new FakeClock();
  let done = false;
  const slept = sleep(30 * DAY_MS, { clock }).then(() => done = true);
  clock.tick(30 * DAY_MS - 1);
  await Promise.resolve();
  assertEquals(done, false);
  clock.tick(1);
  await slept;
  assertEquals(done, true);

  const controller = new AbortController();
  const aborted = sleep(30 * DAY_MS, { signal: controller.signal, clock });
  controller.abort();
  await aborted;
  assertEquals(clock.pending, 0);
  await sleep(30 * DAY_MS, { signal: AbortSignal.abort(), clock });
});

Deno.test("after: with the real clock, 30 days does not fire at once (setTimeout alone would)", async () => {
  let fired = false;
  const timer = after(30 * DAY_MS, () => fired = true);
  await new Promise((resolve) => setTimeout(resolve, 50));
  timer.cancel();
  assertEquals(fired, false);
});

// Regression: an error thrown in fence sw-sync's --inc-after/--close-after callback escaped to the event loop,
// past main()'s error handling and the command's `using` cleanup.
Deno.test("Timers: an error thrown in a callback rejects the command's race; pending calls are cancelled", async () => {
  const clock = new FakeClock();
  const work = Promise.withResolvers<string>();
  let later = 0;
  const ran: string[] = [];
  {
    using timers = new Timers(clock);
    const first = timers.after(100, () => {
      throw new Error("ioctl(SW_SYNC_IOC_INC) failed: EBADF");
    });
    void timers.after(200, () => later++);
    const raced = timers.race(work.promise).then(
      () => ran.push("resolved"),
      (error: Error) => ran.push(`rejected: ${error.message}`),
    );
    clock.tick(100);
    await first; // resolves once the callback ran, also when it threw
    assertOk(timers.failed);
    await raced;
  }
  assertEquals(ran, ["rejected: ioctl(SW_SYNC_IOC_INC) failed: EBADF"]);
  clock.tick(1000);
  assertEquals(later, 0);
  assertEquals(clock.pending, 0);
});

Deno.test("Timers: callbacks that do not throw leave the race to the work; an error before the race is kept", async () => {
  const clock = new FakeClock();
  using timers = new Timers(clock);
  let fired = 0;
  const step = timers.after(0, () => fired++);
  await step;
  assertEquals(fired, 1);
  assertEquals(await timers.race(Promise.resolve("done")), "done");
  void timers.after(10, () => {
    throw new RangeError("bad step");
  });
  clock.tick(10);
  const error = await timers.race(new Promise<never>(() => {})).catch((e: unknown) => e);
  assertOk(error instanceof RangeError && error.message === "bad step", String(error));
});
