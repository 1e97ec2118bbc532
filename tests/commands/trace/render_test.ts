import assert from "node:assert/strict";
import { TraceModel } from "../../../commands/trace/model.ts";
import {
  columns,
  eventJson,
  formatMs,
  type RecordingInfo,
  renderEvent,
  renderSummary,
  traceJson,
} from "../../../commands/trace/render.ts";
import { parseTraceLine, type TraceRecord } from "../../../ffi/text/trace_event.ts";

const LINES = [
  "            deno-100     [000] .....    10.000000: dma_fence_init: driver=sw_sync timeline=deno context=5 seqno=1",
  "            deno-100     [000] .....    10.000100: dma_fence_init: driver=sw_sync timeline=deno context=5 seqno=2",
  "            deno-200     [001] .....    10.500000: dma_fence_enable_signal: driver=sw_sync timeline=deno context=5 seqno=1",
  "            deno-200     [001] .....    10.500010: dma_fence_wait_start: driver=sw_sync timeline=deno context=5 seqno=1",
  "            deno-100     [000] .....    11.000000: sync_timeline: name=deno value=0",
  "            deno-100     [000] d..1.    11.000010: dma_fence_signaled: driver=sw_sync timeline=deno context=5 seqno=1",
  "            deno-200     [001] .....    11.000050: dma_fence_wait_end: driver=sw_sync timeline=deno context=5 seqno=1",
];

const INFO: RecordingInfo = {
  startedAt: "2026-01-01T00:00:00.000Z",
  durationMs: 2000,
  tracefs: "/sys/kernel/tracing",
  instance: "dmabuf-1-abc",
  clock: "mono",
  enabled: ["dma_fence", "sync_trace/sync_timeline"],
  filter: { pid: 200 },
  stoppedBy: "duration",
  readerCpuMs: 12.5,
};

function model(): TraceModel {
  const m = new TraceModel();
  for (const line of LINES) m.apply(parseTraceLine(line)!);
  return m;
}

Deno.test("formatMs: µs, ms, s and '-'", () => {
  assert.equal(formatMs(null), "-");
  assert.equal(formatMs(0.25), "250 µs");
  assert.equal(formatMs(1.234), "1.23 ms");
  assert.equal(formatMs(12.34), "12.3 ms");
  assert.equal(formatMs(7870.4), "7.87 s");
});

Deno.test("columns pads every column but the last", () => {
  assert.deepEqual(columns([["a", "bb", "c"], ["ccc", "d", "e"]]), ["a    bb  c", "ccc  d   e"]);
});

Deno.test("traceJson keeps the issue's field names and raw numbers", () => {
  const doc = traceJson(INFO, model().summary());
  assert.equal(doc.startedAt, INFO.startedAt);
  assert.equal(doc.durationMs, 2000);
  assert.equal(doc.events, 7);
  assert.deepEqual(doc.filter, { driver: null, timeline: null, pid: 200 });
  const t = doc.timelines[0]!;
  for (
    const key of ["driver", "timeline", "context", "fences", "signalled", "unsignalled", "latencyMs", "waits"]
  ) {
    assert.ok(key in t, key);
  }
  assert.deepEqual(
    { driver: t.driver, timeline: t.timeline, context: t.context, fences: t.fences, signalled: t.signalled },
    { driver: "sw_sync", timeline: "deno", context: 5, fences: 2, signalled: 1 },
  );
  assert.equal(t.unsignalled, 1);
  assert.deepEqual(t.latencyMs, { p50: 1000.01, p99: 1000.01, max: 1000.01, count: 1 });
  assert.deepEqual(t.waits, {
    count: 1,
    totalMs: 500.04,
    maxMs: 500.04,
    pending: 0,
    by: [{ pid: 200, comm: "deno", count: 1, totalMs: 500.04, maxMs: 500.04 }],
  });
  assert.equal(t.callbacks.count, 1);
  assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc, "survives JSON unchanged");
});

Deno.test("renderSummary: header, one row per timeline, then who waited and what is left", () => {
  const text = renderSummary(INFO, model().summary());
  assert.equal(
    text,
    [
      "Recorded 2.00 s from 2026-01-01T00:00:00.000Z: 7 events (instance dmabuf-1-abc, clock mono; reader CPU 12.5 ms)",
      "DRIVER   TIMELINE  CONTEXT  FENCES  SIGNALLED  UNSIGNALLED  ERRORS  INIT→SIGNALLED p50 / p99 / max  WAITS  WAITED (max)         CALLBACKS",
      "sw_sync  deno      5        2       1          1            0       1.00 s / 1.00 s / 1.00 s        1      500.0 ms (500.0 ms)  1",
      "  sw_sync deno (context 5): unsignalled seqno 2",
      "  sw_sync deno (context 5): kernel wait by pid 200 (deno): 1, 500.0 ms in all, longest 500.0 ms",
      "  sw_sync deno (context 5): callback armed by pid 200 (deno): 1",
      "sw_sync timeline deno: 1 increment(s), last from value 0",
      "dma-buf lifecycles: not traced: this kernel has no dma_buf events (events/dma_buf in tracefs came after " +
      "6.18); fences only",
      "",
    ].join("\n"),
  );
});

Deno.test("renderSummary: with dma_buf events, a row per buffer by inode; buffers exported before are marked", () => {
  const model = new TraceModel();
  for (
    const line of [
      "deno-50 [000] ..... 10.000001: dma_buf_export: exp_name=system size=4096 ino=7",
      "deno-50 [000] ..... 10.000002: dma_buf_fd: exp_name=system size=4096 ino=7 fd=5",
      "deno-51 [000] ..... 10.000004: dma_buf_dynamic_attach: exp_name=system size=4096 ino=7 " +
      "attachment:00000000deadbeef is_dynamic=0 dev_name=vivid.0",
      "deno-51 [000] ..... 10.000005: dma_buf_put: exp_name=system size=4096 ino=7",
      "deno-51 [000] ..... 10.000006: dma_buf_put: exp_name=system size=4096 ino=7",
      "deno-52 [000] ..... 10.000007: dma_buf_mmap: exp_name=udmabuf size=8192 ino=3",
    ]
  ) model.apply(parseTraceLine(line)!);
  const text = renderSummary({ ...INFO, enabled: [...INFO.enabled, "dma_buf"] }, model.summary());
  assert.ok(
    text.endsWith(
      [
        "dma-bufs (2, from dma_buf events):",
        "INODE  EXPORTER  SIZE   EVENTS                           ATTACHED AT END  PIDS",
        "7      system    4 KiB  export fd dynamic_attach put ×2  vivid.0          50,51",
        "3      udmabuf   8 KiB  (before) mmap                    -                52",
        "",
      ].join("\n"),
    ),
    text,
  );
});

Deno.test("renderSummary: nothing matched, lost events said loudly", () => {
  const m = new TraceModel();
  m.apply({ kind: "lost", cpu: 0, count: 3 });
  const text = renderSummary(INFO, m.summary());
  assert.match(text, /0 events, 3 LOST/);
  assert.match(text, /No fence activity matched\./);
});

Deno.test("renderEvent and eventJson: one line per event", () => {
  const records = LINES.map((l) => parseTraceLine(l)!) as TraceRecord[];
  assert.equal(renderEvent(records[0]!), "10.000000 deno-100 [000] init sw_sync deno context=5 seqno=1");
  assert.equal(renderEvent(records[4]!), "11.000000 deno-100 [000] sync_timeline deno value=0");
  assert.equal(renderEvent({ kind: "lost", cpu: 1, count: 9 }), "LOST 9 events on CPU 1");
  const line = eventJson(records[0]!);
  assert.ok(!line.includes("\n"));
  assert.equal(JSON.parse(line).seqno, 1);
});
