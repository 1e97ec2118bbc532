import assert from "node:assert/strict";
import {
  LineSplitter,
  parseFields,
  parseTraceLine,
  type TraceRecord,
} from "../../../ffi/text/trace_event.ts";

const FIXTURES = new URL("./fixtures/trace_event/", import.meta.url);

/**
 * Fixture → expected JSON beside it. v6_1.txt was captured on the 6.1 test VM by capture.ts; v6_12_derived.txt
 * is written from the 6.12 TP_printk formats (unchanged from 6.1) with the comm and flag shapes the trace
 * header can take (comm with spaces and dashes, hard-irq flags, `<idle>`, a LOST line, a dma_buf event).
 */
const CASES = ["v6_1", "v6_12_derived"];

function parseAll(text: string): TraceRecord[] {
  return text.split("\n").map(parseTraceLine).filter((r): r is TraceRecord => r !== null);
}

for (const name of CASES) {
  Deno.test(`parseTraceLine ${name}.txt gives the expected JSON`, () => {
    const text = Deno.readTextFileSync(new URL(`${name}.txt`, FIXTURES));
    const expected = JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, FIXTURES)));
    assert.deepEqual(JSON.parse(JSON.stringify(parseAll(text))), expected);
  });
}

Deno.test("parseTraceLine: a dma_fence line gives driver, timeline, context, seqno and a µs timestamp", () => {
  const line =
    "            deno-412     [001] .....   101.000100: dma_fence_init: driver=sw_sync timeline=deno context=9 seqno=1";
  assert.deepEqual(parseTraceLine(line), {
    comm: "deno",
    pid: 412,
    tgid: null,
    cpu: 1,
    flags: ".....",
    timestampUs: 101_000_100,
    event: "dma_fence_init",
    kind: "fence",
    name: "init",
    driver: "sw_sync",
    timeline: "deno",
    context: 9,
    seqno: 1,
  });
});

Deno.test("parseTraceLine: comm with spaces and dashes keeps the last -<pid>", () => {
  const r = parseTraceLine(
    "    Xwayland -:0-900     [000] .N...   101.000300: dma_fence_wait_start: driver=d timeline=t context=3 seqno=77",
  );
  assert.equal(r?.kind, "fence");
  if (r?.kind !== "fence") return;
  assert.equal(r.comm, "Xwayland -:0");
  assert.equal(r.pid, 900);
  const k = parseTraceLine(
    " kworker/u4:2-events_unbound-57 [000] d..1. 1.5: dma_fence_signaled: driver=d timeline=t context=3 seqno=7",
  );
  assert.equal(k?.kind === "fence" && k.comm, "kworker/u4:2-events_unbound");
  assert.equal(k?.kind === "fence" && k.timestampUs, 1_500_000);
});

Deno.test("parseTraceLine: timeline names with spaces, the tgid column, no flags column", () => {
  const r = parseTraceLine(
    "  my app-10 (   10) [002] 5.000001: dma_fence_init: driver=sw_sync timeline=my app context=4 seqno=4294967295",
  );
  assert.ok(r?.kind === "fence");
  assert.equal(r.timeline, "my app");
  assert.equal(r.tgid, 10);
  assert.equal(r.flags, "");
  assert.equal(r.seqno, 4294967295);
});

Deno.test("parseTraceLine: sync_timeline value before the increment; LOST lines; comments and blanks", () => {
  const t = parseTraceLine("deno-1 [000] ..... 2.000000: sync_timeline: name=deno value=-1");
  assert.ok(t?.kind === "timeline");
  assert.equal(t.name, "deno");
  assert.equal(t.value, -1);
  assert.deepEqual(parseTraceLine("CPU:3 [LOST 1234 EVENTS]"), { kind: "lost", cpu: 3, count: 1234 });
  assert.equal(parseTraceLine("# tracer: nop"), null);
  assert.equal(parseTraceLine(""), null);
  assert.equal(parseTraceLine("not a trace line"), null);
});

Deno.test("parseTraceLine: a dma_fence line that does not match its format is kept as other", () => {
  const r = parseTraceLine("deno-1 [000] ..... 2.000000: dma_fence_init: something else");
  assert.equal(r?.kind, "other");
});

Deno.test("parseFields: values run to the next key and may hold spaces", () => {
  assert.deepEqual(parseFields("exp_name=system name=front buffer size=4096 ino=12"), {
    exp_name: "system",
    name: "front buffer",
    size: "4096",
    ino: "12",
  });
  assert.deepEqual(parseFields(""), {});
});

Deno.test("LineSplitter keeps a partial line for the next read", () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push("a\nb"), ["a"]);
  assert.deepEqual(s.push("c\nd\n"), ["bc", "d"]);
  assert.deepEqual(s.push("e"), []);
  assert.deepEqual(s.flush(), ["e"]);
  assert.deepEqual(s.flush(), []);
});
