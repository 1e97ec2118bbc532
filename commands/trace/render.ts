/**
 * Output of `dmabuf trace`: the `--json` document, the human summary table, and one line per event for
 * `--events`. Pure functions of the model's summary and the parsed events.
 * @module
 */

import type { TraceRecord } from "../../ffi/text/trace_event.ts";
import { formatBytes } from "../toolkit/units.ts";
import type { DmaBufLife, Percentiles, TimelineSummary, TraceFilter, TraceSummary } from "./model.ts";

/** What the command knows about the recording besides the model. */
export interface RecordingInfo {
  /** When recording started (ISO 8601, UTC). */
  startedAt: string;
  /** How long it recorded, in ms. */
  durationMs: number;
  /** The tracefs mount used. */
  tracefs: string;
  /** The private instance's name. */
  instance: string;
  /** The trace clock (`mono` when the kernel has it: CLOCK_MONOTONIC, like fence timestamps). */
  clock: string;
  /** Event groups enabled (`dma_fence`, `sync_trace/sync_timeline`, `dma_buf`). */
  enabled: string[];
  /** The filters given. */
  filter: TraceFilter;
  /** Why recording stopped: the duration passed, or SIGINT/SIGTERM. */
  stoppedBy: "duration" | "SIGINT" | "SIGTERM" | "EPIPE" | "abort";
  /** CPU time (user + system) the recording process used while recording, in ms: the reader's cost. */
  readerCpuMs: number;
}

/** The `--json` document. Field names are stable; new fields may be added. */
export interface TraceJson extends TraceSummary, Omit<RecordingInfo, "filter"> {
  filter: { driver: string | null; timeline: string | null; pid: number | null };
}

/** The `--json` document of a recording. */
export function traceJson(info: RecordingInfo, summary: TraceSummary): TraceJson {
  return {
    startedAt: info.startedAt,
    durationMs: info.durationMs,
    events: summary.events,
    lost: summary.lost,
    timelines: summary.timelines,
    syncTimelines: summary.syncTimelines,
    dmaBuf: summary.dmaBuf,
    dmaBufs: summary.dmaBufs,
    other: summary.other,
    tracefs: info.tracefs,
    instance: info.instance,
    clock: info.clock,
    enabled: info.enabled,
    filter: {
      driver: info.filter.driver ?? null,
      timeline: info.filter.timeline ?? null,
      pid: info.filter.pid ?? null,
    },
    stoppedBy: info.stoppedBy,
    readerCpuMs: info.readerCpuMs,
  };
}

/** A duration in ms for people: `850 µs`, `12.3 ms`, `7.87 s`; `-` for none. */
export function formatMs(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function latencyText(p: Percentiles): string {
  if (p.count === 0) return "-";
  return `${formatMs(p.p50)} / ${formatMs(p.p99)} / ${formatMs(p.max)}`;
}

/** Lays out rows as columns separated by two spaces, the last column unpadded. */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, [...cell].length));
  return rows.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - [...cell].length)).join(
      "  ",
    )
      .trimEnd()
  );
}

function seqnoList(t: TimelineSummary): string {
  const more = t.unsignalled > t.unsignalledSeqnos.length ? `, … (${t.unsignalled} in all)` : "";
  return t.unsignalledSeqnos.join(", ") + more;
}

function detailLines(t: TimelineSummary): string[] {
  const out: string[] = [];
  const name = `${t.driver} ${t.timeline} (context ${t.context})`;
  if (t.unsignalled > 0) out.push(`  ${name}: unsignalled seqno ${seqnoList(t)}`);
  if (t.signalledWithError) {
    out.push(`  ${name}: ${t.signalledWithError} signalled with an error (timeline closed)`);
  }
  for (const w of t.waits.by) {
    const times = w.totalMs > 0 ? `, ${formatMs(w.totalMs)} in all, longest ${formatMs(w.maxMs)}` : "";
    out.push(
      `  ${name}: kernel wait${w.count === 1 ? "" : "s"} by pid ${w.pid} (${w.comm}): ${w.count}${times}`,
    );
  }
  if (t.waits.pending > 0) out.push(`  ${name}: ${t.waits.pending} kernel wait(s) still blocked at the end`);
  for (const c of t.callbacks.by) {
    out.push(`  ${name}: callback${c.count === 1 ? "" : "s"} armed by pid ${c.pid} (${c.comm}): ${c.count}`);
  }
  if (t.preexisting > 0) out.push(`  ${name}: ${t.preexisting} fence(s) created before the recording`);
  return out;
}

/** The human summary: a header line, one table row per timeline, then who waited and what is left. */
export function renderSummary(info: RecordingInfo, summary: TraceSummary): string {
  const lines: string[] = [];
  const lost = summary.lost > 0 ? `, ${summary.lost} LOST (the reader fell behind)` : "";
  lines.push(
    `Recorded ${formatMs(info.durationMs)} from ${info.startedAt}: ${summary.events} events${lost} ` +
      `(instance ${info.instance}, clock ${info.clock}; reader CPU ${formatMs(info.readerCpuMs)})`,
  );
  if (summary.timelines.length === 0) {
    lines.push("No fence activity matched.");
  } else {
    const header = [
      "DRIVER",
      "TIMELINE",
      "CONTEXT",
      "FENCES",
      "SIGNALLED",
      "UNSIGNALLED",
      "ERRORS",
      "INIT→SIGNALLED p50 / p99 / max",
      "WAITS",
      "WAITED (max)",
      "CALLBACKS",
    ];
    const rows = summary.timelines.map((t) => [
      t.driver,
      t.timeline,
      String(t.context),
      String(t.fences),
      String(t.signalled),
      String(t.unsignalled),
      t.signalledWithError === null ? "?" : String(t.signalledWithError),
      latencyText(t.latencyMs),
      String(t.waits.count),
      t.waits.count === 0 ? "-" : `${formatMs(t.waits.totalMs)} (${formatMs(t.waits.maxMs)})`,
      String(t.callbacks.count),
    ]);
    lines.push(...columns([header, ...rows]));
    const emitted = summary.timelines.filter((t) => t.emitLatencyMs.count > 0);
    for (const t of emitted) {
      lines.push(
        `  ${t.driver} ${t.timeline} (context ${t.context}): emit→signalled ${latencyText(t.emitLatencyMs)}`,
      );
    }
    lines.push(...summary.timelines.flatMap(detailLines));
  }
  for (const s of summary.syncTimelines) {
    lines.push(`sw_sync timeline ${s.name}: ${s.increments} increment(s), last from value ${s.lastValue}`);
  }
  lines.push(...dmaBufLines(info, summary));
  return lines.join("\n") + "\n";
}

/** The dma_buf events in order of a buffer's life, for the table's EVENTS column. */
const LIFE_ORDER = ["export", "fd", "get", "mmap", "mmap_internal", "dynamic_attach", "detach", "put"];

function lifeEvents(life: DmaBufLife): string {
  const names = Object.keys(life.events).sort((a, b) =>
    (LIFE_ORDER.indexOf(a) + 1 || LIFE_ORDER.length + 1) -
    (LIFE_ORDER.indexOf(b) + 1 || LIFE_ORDER.length + 1)
  );
  return names.map((name) => `${name}${life.events[name]! > 1 ? ` ×${life.events[name]}` : ""}`).join(" ");
}

/**
 * The buffers' lives from the `dma_buf_*` events (one row per buffer, by inode number as bufinfo shows it), or
 * one line saying the kernel has no such events.
 */
function dmaBufLines(info: RecordingInfo, summary: TraceSummary): string[] {
  if (!info.enabled.includes("dma_buf")) {
    return [
      "dma-buf lifecycles: not traced: this kernel has no dma_buf events (events/dma_buf in tracefs came after " +
      "6.18); fences only",
    ];
  }
  if (summary.dmaBufs.length === 0) return ["dma-bufs: no dma_buf events matched"];
  const header = ["INODE", "EXPORTER", "SIZE", "EVENTS", "ATTACHED AT END", "PIDS"];
  const rows = summary.dmaBufs.map((b) => [
    String(b.inode),
    b.exporter ?? "?",
    b.size === null ? "?" : formatBytes(b.size),
    `${b.exported ? "" : "(before) "}${lifeEvents(b)}`,
    b.attached.length === 0 ? "-" : b.attached.join(","),
    b.pids.join(","),
  ]);
  return ["", `dma-bufs (${summary.dmaBufs.length}, from dma_buf events):`, ...columns([header, ...rows])];
}

function seconds(us: number): string {
  return `${Math.floor(us / 1_000_000)}.${String(us % 1_000_000).padStart(6, "0")}`;
}

/** One `--events` line: time, process, CPU, event and its fields. */
export function renderEvent(record: TraceRecord): string {
  if (record.kind === "lost") return `LOST ${record.count} events on CPU ${record.cpu}`;
  const head = `${seconds(record.timestampUs)} ${record.comm}-${record.pid} [${
    String(record.cpu).padStart(3, "0")
  }]`;
  switch (record.kind) {
    case "fence":
      return `${head} ${record.name} ${record.driver} ${record.timeline} context=${record.context} seqno=${record.seqno}`;
    case "timeline":
      return `${head} sync_timeline ${record.name} value=${record.value}`;
    case "dma_buf":
      return `${head} dma_buf_${record.name} ${
        Object.entries(record.fields).map(([k, v]) => `${k}=${v}`).join(" ")
      }`;
    case "other":
      return `${head} ${record.event} ${record.text}`;
  }
}

/** One `--events --json` line: the parsed event as a JSON object (JSON Lines). */
export function eventJson(record: TraceRecord): string {
  return JSON.stringify(record.kind === "lost" ? { event: "lost", ...record } : { ...record });
}
