import assert from "node:assert/strict";
import { percentiles, TraceModel } from "../../../commands/trace/model.ts";
import { type FenceEventName, parseTraceLine, type TraceRecord } from "../../../ffi/text/trace_event.ts";

/** A dma_fence event at `ms` milliseconds. */
function fence(
  name: FenceEventName,
  seqno: number,
  ms: number,
  options: { pid?: number; comm?: string; context?: number; driver?: string; timeline?: string } = {},
): TraceRecord {
  return {
    kind: "fence",
    comm: options.comm ?? "deno",
    pid: options.pid ?? 100,
    tgid: null,
    cpu: 0,
    flags: ".....",
    timestampUs: Math.round(ms * 1000),
    event: `dma_fence_${name}`,
    name,
    driver: options.driver ?? "sw_sync",
    timeline: options.timeline ?? "deno",
    context: options.context ?? 5,
    seqno,
  };
}

function inc(ms: number, value: number, pid = 100): TraceRecord {
  return {
    kind: "timeline",
    comm: "deno",
    pid,
    tgid: null,
    cpu: 0,
    flags: ".....",
    timestampUs: ms * 1000,
    event: "sync_timeline",
    name: "deno",
    value,
  };
}

function run(records: TraceRecord[], model = new TraceModel()): ReturnType<TraceModel["summary"]> {
  for (const r of records) model.apply(r);
  return model.summary();
}

Deno.test("percentiles: nearest rank in ms, null when empty", () => {
  assert.deepEqual(percentiles([]), { p50: null, p99: null, max: null, count: 0 });
  assert.deepEqual(percentiles([3000, 1000, 2000]), { p50: 2, p99: 3, max: 3, count: 3 });
  const hundred = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000);
  assert.deepEqual(percentiles(hundred), { p50: 50, p99: 99, max: 100, count: 100 });
});

Deno.test("TraceModel: the 6.1 field trial (init ×3, inc, kernel wait on 2, inc, close) in numbers", () => {
  const s = run([
    fence("init", 1, 0),
    fence("init", 2, 0.1),
    fence("init", 3, 0.2),
    inc(10, 0),
    fence("signaled", 1, 10.01),
    fence("enable_signal", 2, 500, { pid: 200 }),
    fence("wait_start", 2, 500.01, { pid: 200 }),
    inc(8370, 1),
    fence("signaled", 2, 8370.01),
    fence("wait_end", 2, 8370.05, { pid: 200 }),
    fence("destroy", 1, 9000, { pid: 300 }),
    fence("destroy", 2, 9000.1, { pid: 300 }),
    fence("destroy", 3, 9000.2, { pid: 300 }),
  ]);
  assert.equal(s.events, 13);
  assert.equal(s.timelines.length, 1);
  const t = s.timelines[0]!;
  assert.equal(t.fences, 3);
  assert.equal(t.signalled, 2);
  assert.equal(t.unsignalled, 1);
  assert.deepEqual(t.unsignalledSeqnos, [3]);
  assert.equal(t.destroyedUnsignalled, 1);
  assert.equal(t.signalledWithError, 0);
  assert.equal(t.latencyMs.count, 2);
  assert.equal(t.latencyMs.p50, 10.01);
  assert.equal(t.latencyMs.max, 8369.91);
  assert.equal(t.waits.count, 1);
  assert.equal(t.waits.maxMs, 7870.04);
  assert.deepEqual(t.waits.by, [{ pid: 200, comm: "deno", count: 1, totalMs: 7870.04, maxMs: 7870.04 }]);
  assert.deepEqual(t.callbacks, { count: 1, by: [{ pid: 200, comm: "deno", count: 1 }] });
  assert.deepEqual(t.pids, [100, 200, 300]);
  assert.deepEqual(s.syncTimelines, [{ name: "deno", increments: 2, lastValue: 1 }]);
});

Deno.test("TraceModel: closing a sw_sync timeline signals outside an increment: counted as errors", () => {
  const s = run([
    fence("init", 1, 0),
    fence("init", 2, 0),
    inc(5, 0),
    fence("signaled", 1, 5),
    fence("destroy", 1, 6),
    fence("signaled", 2, 7), // release of the timeline fd: no sync_timeline before it
    fence("destroy", 2, 7),
  ]);
  const t = s.timelines[0]!;
  assert.equal(t.signalled, 2);
  assert.equal(t.signalledWithError, 1);
  assert.equal(t.unsignalled, 0);
});

Deno.test("TraceModel: a fence created at a value already reached signals right after its init, no error", () => {
  const t = run([fence("init", 1, 0), fence("signaled", 1, 0.001)]).timelines[0]!;
  assert.equal(t.signalledWithError, 0);
  assert.equal(t.signalled, 1);
});

Deno.test("TraceModel: a fence created and then, after a pause, signalled by closing its timeline is an error", () => {
  const t = run([
    fence("init", 1, 0),
    inc(1, 0),
    fence("signaled", 1, 1),
    fence("init", 10, 5),
    fence("signaled", 10, 105), // the timeline closed 100 ms later: no other event of this pid in between
    fence("init", 1, 200),
    fence("signaled", 1, 250), // at a value already reached (1): created signalled, however slow
  ]).timelines[0]!;
  assert.equal(t.signalledWithError, 1);
});

Deno.test("TraceModel: an increment's signals 10 ms after its sync_timeline (a loaded guest) are no errors", () => {
  const t = run([
    fence("init", 1, 0),
    fence("init", 2, 0),
    inc(5, 0),
    fence("signaled", 1, 15),
    fence("signaled", 2, 25),
  ])
    .timelines[0]!;
  assert.equal(t.signalledWithError, 0);
});

Deno.test("TraceModel: other drivers have no knowable error count", () => {
  const t = run([
    fence("init", 1, 0, { driver: "drm_sched" }),
    fence("signaled", 1, 1, { driver: "drm_sched" }),
  ])
    .timelines[0]!;
  assert.equal(t.signalledWithError, null);
});

Deno.test("TraceModel: emit→signalled latency separately from init→signalled", () => {
  const o = { driver: "drm_sched", timeline: "gfx" };
  const t = run([fence("init", 7, 0, o), fence("emit", 7, 4, o), fence("signaled", 7, 10, o)]).timelines[0]!;
  assert.equal(t.latencyMs.max, 10);
  assert.equal(t.emitLatencyMs.max, 6);
});

Deno.test("TraceModel: two fences at one seqno (sw_sync allows it) are two fences, signalled in order", () => {
  const t = run([
    fence("init", 1, 0),
    fence("init", 1, 2),
    inc(10, 0),
    fence("signaled", 1, 10),
    fence("signaled", 1, 10),
    fence("destroy", 1, 11),
  ]).timelines[0]!;
  assert.equal(t.fences, 2);
  assert.equal(t.signalled, 2);
  assert.deepEqual(t.latencyMs, { p50: 8, p99: 10, max: 10, count: 2 });
  assert.equal(t.unsignalled, 0);
  assert.equal(t.destroyed, 1);
});

Deno.test("TraceModel: seqno reuse after destroy starts a new fence", () => {
  const t = run([
    fence("init", 1, 0),
    inc(1, 0),
    fence("signaled", 1, 1),
    fence("destroy", 1, 2),
    fence("init", 1, 3),
  ]).timelines[0]!;
  assert.equal(t.fences, 2);
  assert.equal(t.signalled, 1);
  assert.equal(t.unsignalled, 1);
  assert.deepEqual(t.unsignalledSeqnos, [1]);
});

Deno.test("TraceModel: fences created before the recording count as seen, without init latency", () => {
  const t = run([
    fence("wait_end", 4, 1, { pid: 7 }), // its wait_start too preceded the recording
    fence("signaled", 5, 2, { driver: "drm_sched" }),
    fence("destroy", 6, 3, { driver: "drm_sched" }),
    fence("enable_signal", 8, 4, { driver: "drm_sched" }),
  ], new TraceModel()).timelines[0]!;
  assert.equal(t.preexisting, 4);
  assert.equal(t.fences, 4);
  assert.equal(t.signalled, 1);
  assert.equal(t.latencyMs.count, 0);
  // 8 has a callback armed and no signal; 4's wait ended and 6 was destroyed: both may have signalled earlier.
  assert.deepEqual(t.unsignalledSeqnos, [8]);
  assert.equal(t.destroyedUnsignalled, 0);
  assert.equal(t.waits.count, 1);
  assert.equal(t.waits.totalMs, 0);
});

Deno.test("TraceModel: a wait still blocked at the end is pending and attributed to its pid", () => {
  const t = run([fence("init", 1, 0), fence("wait_start", 1, 1, { pid: 9, comm: "compositor" })])
    .timelines[0]!;
  assert.equal(t.waits.count, 1);
  assert.equal(t.waits.pending, 1);
  assert.deepEqual(t.waits.by, [{ pid: 9, comm: "compositor", count: 1, totalMs: 0, maxMs: 0 }]);
});

Deno.test("TraceModel: 6.17+ placeholder names do not replace real ones", () => {
  const o = { driver: "detached-driver", timeline: "signaled-timeline" };
  const placeholderFirst = run([fence("destroy", 1, 0, o), fence("init", 2, 1)]).timelines[0]!;
  assert.equal(placeholderFirst.driver, "sw_sync");
  assert.equal(placeholderFirst.timeline, "deno");
  const realFirst = run([fence("init", 1, 0), fence("destroy", 1, 1, o)]).timelines[0]!;
  assert.equal(realFirst.driver, "sw_sync");
});

Deno.test("TraceModel: filters by driver, timeline and by the pid that touched a timeline", () => {
  const events = [
    fence("init", 1, 0, { context: 1 }),
    fence("init", 1, 0, { context: 2, driver: "drm_sched", timeline: "gfx", pid: 50 }),
    fence("wait_start", 1, 1, { context: 2, driver: "drm_sched", timeline: "gfx", pid: 60 }),
    fence("signaled", 1, 2, { context: 2, driver: "drm_sched", timeline: "gfx", pid: 0 }),
  ];
  const contexts = (model: TraceModel) => run(events, model).timelines.map((t) => t.context);
  assert.deepEqual(contexts(new TraceModel()), [2, 1]);
  assert.deepEqual(contexts(new TraceModel({ driver: "sw_sync" })), [1]);
  assert.deepEqual(contexts(new TraceModel({ timeline: "gfx" })), [2]);
  assert.deepEqual(contexts(new TraceModel({ pid: 60 })), [2]);
  assert.deepEqual(contexts(new TraceModel({ pid: 61 })), []);
  const model = new TraceModel({ pid: 60 });
  assert.equal(model.matches(events[1]!), false);
  model.apply(events[1]!);
  model.apply(events[2]!);
  assert.equal(model.matches(events[3]!), true, "signal by pid 0 on a timeline pid 60 waited on");
});

Deno.test("TraceModel: LOST records add up, other and dma_buf events are counted", () => {
  const s = run([
    { kind: "lost", cpu: 0, count: 5 },
    { kind: "lost", cpu: 1, count: 2 },
    {
      kind: "dma_buf",
      name: "export",
      fields: { exp_name: "system" },
      inode: null,
      exporter: "system",
      size: null,
      fd: null,
      device: null,
      comm: "a",
      pid: 1,
      tgid: null,
      cpu: 0,
      flags: "",
      timestampUs: 1,
      event: "dma_buf_export",
    },
    {
      kind: "other",
      text: "x",
      comm: "a",
      pid: 1,
      tgid: null,
      cpu: 0,
      flags: "",
      timestampUs: 1,
      event: "foo",
    },
  ]);
  assert.equal(s.lost, 7);
  assert.equal(s.events, 2);
  assert.deepEqual(s.dmaBuf, { export: 1 });
  assert.equal(s.other, 1);
});

Deno.test("TraceModel on the real 6.1 capture: kernel wait by the sync process, seqno 3 closed with an error", () => {
  const text = Deno.readTextFileSync(
    new URL("../../ffi/text/fixtures/trace_event/v6_1.txt", import.meta.url),
  );
  const model = new TraceModel();
  for (const line of text.split("\n")) {
    const record = parseTraceLine(line);
    if (record !== null) model.apply(record);
  }
  const s = model.summary();
  assert.equal(s.events, 14);
  const t = s.timelines[0]!;
  assert.deepEqual(
    [t.driver, t.timeline, t.context, t.fences, t.signalled, t.unsignalled, t.signalledWithError],
    ["sw_sync", "deno", 1, 3, 3, 0, 1],
  );
  assert.deepEqual(t.waits.by, [{ pid: 51, comm: "deno", count: 1, totalMs: 5715.304, maxMs: 5715.304 }]);
  assert.deepEqual(t.callbacks.by, [{ pid: 51, comm: "deno", count: 1 }]);
  assert.equal(t.latencyMs.p50, 18133.587);
  assert.equal(t.latencyMs.max, 18310.445);
});

Deno.test("TraceModel: with tgids recorded, waits, callbacks and --pid go by process, not thread", () => {
  const thread = (r: TraceRecord): TraceRecord => ({ ...r, tgid: 300 }) as TraceRecord;
  const events = [
    fence("init", 1, 0),
    thread(fence("enable_signal", 1, 1, { pid: 301 })),
    thread(fence("wait_start", 1, 1, { pid: 301 })),
    inc(5, 0),
    fence("signaled", 1, 5),
    thread(fence("wait_end", 1, 5, { pid: 301 })),
  ];
  const t = run(events, new TraceModel({ pid: 300 })).timelines[0]!;
  assert.deepEqual(t.waits.by.map((w) => w.pid), [300]);
  assert.deepEqual(t.callbacks.by.map((c) => c.pid), [300]);
  assert.equal(t.waits.totalMs, 4);
  assert.deepEqual(t.pids, [100, 300]);
});

Deno.test("TraceModel: dma_buf events make one life per inode, attachments left at the end, --pid keeps its buffers", () => {
  const lines = [
    "deno-50 [000] ..... 10.000001: dma_buf_export: exp_name=system size=4096 ino=7",
    "deno-50 [000] ..... 10.000002: dma_buf_fd: exp_name=system size=4096 ino=7 fd=5",
    "deno-51 [000] ..... 10.000003: dma_buf_get: exp_name=system size=4096 ino=7 fd=9",
    "deno-51 [000] ..... 10.000004: dma_buf_dynamic_attach: exp_name=system size=4096 ino=7 " +
    "attachment:00000000deadbeef is_dynamic=0 dev_name=vivid.0",
    "deno-51 [000] ..... 10.000005: dma_buf_mmap: exp_name=system size=4096 ino=7",
    "deno-51 [000] ..... 10.000006: dma_buf_put: exp_name=system size=4096 ino=7",
    "deno-52 [000] ..... 10.000007: dma_buf_put: exp_name=udmabuf size=8192 ino=3",
  ];
  const records = lines.map((line) => parseTraceLine(line)!);
  const all = run(records, new TraceModel());
  assert.deepEqual(all.dmaBufs.map((b) => [b.inode, b.exporter, b.size, b.exported, b.attached, b.pids]), [
    [7, "system", 4096, true, ["vivid.0"], [50, 51]],
    [3, "udmabuf", 8192, false, [], [52]],
  ]);
  assert.deepEqual(all.dmaBufs[0]!.events, { export: 1, fd: 1, get: 1, dynamic_attach: 1, mmap: 1, put: 1 });
  assert.deepEqual(run(records, new TraceModel({ pid: 52 })).dmaBufs.map((b) => b.inode), [3]);
  assert.deepEqual(run(records, new TraceModel({ driver: "sw_sync" })).dmaBufs, []);
});
