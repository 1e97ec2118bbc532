/**
 * How `dmabuf stat` shows what it computed: the JSON documents and the human tables (buffers, totals,
 * processes, differences).
 * @module
 */

import type { Output } from "../toolkit/output.ts";
import type { Column } from "../toolkit/table.ts";
import { formatBytes } from "../toolkit/units.ts";
import type { BufinfoFence } from "../../ffi/text/bufinfo.ts";
import type { Snapshot, StatBuffer } from "./snapshot.ts";
import type { StatBufferDocument, StatDocument } from "./document.ts";
import {
  type Attribution,
  type Difference,
  type Holder,
  type ProcessUsage,
  type Totals,
  totalsOf,
  UNNAMED,
} from "./model.ts";

/** A buffer as JSON (the documented field order), with its holders when attributed. */
export function bufferJson(buffer: StatBuffer, holders?: Holder[]): StatBufferDocument {
  if (buffer.nameKnown === undefined) return holders === undefined ? buffer : { ...buffer, holders };
  const { nameKnown: _internal, ...fields } = buffer;
  return holders === undefined ? fields : { ...fields, holders };
}

/** The JSON document of a snapshot view. */
export function snapshotJson(
  snapshot: Snapshot,
  buffers: readonly StatBuffer[],
  attribution: Attribution | null,
): StatDocument {
  const doc: StatDocument = {
    source: snapshot.source,
    sourcePath: snapshot.sourcePath,
    generation: snapshot.generation,
    buffers: buffers.map((b) => bufferJson(b, attribution?.holders.get(b))),
    totals: totalsOf(buffers),
    unparsed: snapshot.unparsed,
  };
  if (attribution !== null) {
    doc.processes = attribution.processes;
    doc.skippedProcesses = attribution.skipped;
    doc.ambiguousRefs = attribution.ambiguous;
  }
  return doc;
}

const SOURCE_TEXT: Record<Snapshot["source"], string> = {
  debugfs: "debugfs bufinfo",
  bpf: "BPF iterator",
  sysfs: "sysfs stats",
  proc: "/proc scan",
  file: "file",
};

/** The one-line description of where the data came from. */
export function sourceLine(snapshot: Snapshot): string {
  const generation = snapshot.generation === null ? "" : `, bufinfo format ${snapshot.generation}`;
  const join = snapshot.source === "sysfs" ? " + /proc scan for names" : "";
  return `Source: ${SOURCE_TEXT[snapshot.source]} (${snapshot.sourcePath}${generation})${join}`;
}

// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /[\x00-\x1f\x7f\\]/;
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE_ALL = /[\x00-\x1f\x7f\\]/g;

/** Control characters (TAB, newline in names) as escapes, so one buffer stays one table row. */
export function printable(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(NEEDS_ESCAPE_ALL, (c) => {
    if (c === "\t") return "\\t";
    if (c === "\n") return "\\n";
    if (c === "\\") return "\\\\";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

function nameText(b: StatBuffer): string {
  if (b.name !== null) return b.name === "" ? '""' : printable(b.name);
  return b.nameKnown === false ? "?" : UNNAMED;
}

/** A fence list in a few words: `2 write, 1 read (1 unsignalled)`; `-` for none, `?` when unknown. */
export function fenceSummary(fences: readonly BufinfoFence[] | null): string {
  if (fences === null) return "?";
  if (fences.length === 0) return "-";
  // Usages in order of first appearance, with their counts: plain arrays, as most buffers have one or two.
  const usages: string[] = [];
  const counts: number[] = [];
  let pending = 0;
  for (const f of fences) {
    const at = usages.indexOf(f.usage);
    if (at < 0) {
      usages.push(f.usage);
      counts.push(1);
    } else counts[at]!++;
    if (!f.signalled) pending++;
  }
  let parts = `${counts[0]} ${usages[0]}`;
  for (let i = 1; i < usages.length; i++) parts += `, ${counts[i]} ${usages[i]}`;
  return pending === 0 ? `${parts} (signalled)` : `${parts} (${pending} unsignalled)`;
}

function holderText(holders: readonly Holder[] | undefined): string {
  if (holders === undefined || holders.length === 0) return "-";
  return holders.map((h) => `${h.pid}:${printable(h.comm ?? "?")}(${h.fdRefs} fd, ${h.mapRefs} map)`).join(
    " ",
  );
}

/** Options of {@link renderBuffers}. */
export interface RenderOptions {
  /** A `+`/`-` marker column per inode (watch, compare). */
  marks?: Map<number, string>;
  /** Holders per buffer (`--procs`). */
  holders?: Map<StatBuffer, Holder[]>;
}

/** Writes the buffer table. */
export function renderBuffers(
  out: Output,
  buffers: readonly StatBuffer[],
  options: RenderOptions = {},
): void {
  const columns: Column<StatBuffer>[] = [];
  const marks = options.marks;
  if (marks !== undefined) columns.push({ header: " ", cell: (b) => marks.get(b.inode) ?? " " });
  columns.push(
    { header: "INODE", cell: (b) => String(b.inode), right: true },
    { header: "SIZE", cell: (b) => formatBytes(b.size), right: true },
    { header: "EXPORTER", cell: (b) => b.exporter === null ? "?" : printable(b.exporter) },
    { header: "NAME", cell: nameText },
    { header: "COUNT", cell: (b) => b.count === null ? "?" : String(b.count), right: true },
    {
      header: "ATTACHED",
      cell: (b) => b.attachments === null ? "?" : b.attachments.length === 0 ? "-" : b.attachments.join(","),
    },
    { header: "FENCES", cell: (b) => fenceSummary(b.fences) },
  );
  const holders = options.holders;
  if (holders !== undefined) {
    columns.push({
      header: "HELD BY",
      cell: (b) => holderText(holders.get(b)),
    });
  }
  out.table(columns, buffers);
}

/** `1 buffer`, `2 buffers`. */
function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Writes the per-exporter and overall totals. */
export function renderTotals(out: Output, totals: Totals): void {
  const rows = Object.entries(totals.byExporter).sort((a, b) => b[1].bytes - a[1].bytes);
  if (rows.length > 0) {
    out.line();
    out.table([
      { header: "EXPORTER", cell: ([name]) => printable(name) },
      { header: "BUFFERS", cell: ([, t]) => String(t.count), right: true },
      { header: "SIZE", cell: ([, t]) => formatBytes(t.bytes), right: true },
    ], rows);
  }
  out.line();
  out.line(`Total: ${plural(totals.count, "buffer")}, ${formatBytes(totals.bytes)} (${totals.bytes} bytes)`);
}

/** Writes the per-process table and what could not be attributed. */
export function renderProcesses(out: Output, attribution: Attribution, buffers: readonly StatBuffer[]): void {
  out.line();
  const rows = [...attribution.processes].sort((a, b) => b.pss - a.pss || a.pid - b.pid);
  if (rows.length === 0) out.line("No readable process holds any of these buffers.");
  else {
    out.table([
      { header: "PID", cell: (p: ProcessUsage) => String(p.pid), right: true },
      { header: "COMMAND", cell: (p) => printable(p.comm ?? "?") },
      { header: "FD REFS", cell: (p) => String(p.fdRefs), right: true },
      { header: "MAP REFS", cell: (p) => String(p.mapRefs), right: true },
      { header: "SIZE", cell: (p) => formatBytes(p.bytes), right: true },
      { header: "PSS", cell: (p) => formatBytes(p.pss), right: true },
    ], rows);
  }
  for (const a of attribution.ambiguous) {
    out.line(
      `pid ${a.pid} (${
        printable(a.comm ?? "?")
      }): ${a.fdRefs} fd and ${a.mapRefs} map refs to inode ${a.inode}, ` +
        `which ${a.buffers} buffers share and nothing tells apart: not counted above`,
    );
  }
  const unheld = buffers.filter((b) => (attribution.holders.get(b)?.length ?? 0) === 0);
  if (unheld.length > 0) {
    const bytes = unheld.reduce((s, b) => s + b.size, 0);
    out.line(
      `${plural(unheld.length, "buffer")} (${
        formatBytes(bytes)
      }) held by no readable process: kernel references` +
        (attribution.skipped.length > 0 ? " or the unreadable processes" : ""),
    );
  }
  if (attribution.skipped.length > 0) {
    out.note(
      `dmabuf: ${plural(attribution.skipped.length, "process", "processes")} could not be read (${
        [...new Set(attribution.skipped.map((s) => s.code))].join(", ")
      }): run as root to see every process`,
    );
  }
}

/** Writes a snapshot difference (compare). */
export function renderDifference(out: Output, diff: Difference): void {
  const sign = diff.bytesDelta > 0 ? "+" : diff.bytesDelta < 0 ? "-" : "";
  const addedBytes = diff.added.reduce((s, b) => s + b.size, 0);
  const freedBytes = diff.freed.reduce((s, b) => s + b.size, 0);
  out.line(
    `${diff.added.length} added (${formatBytes(addedBytes)}), ${diff.freed.length} freed (${
      formatBytes(freedBytes)
    }), net ${sign}${formatBytes(Math.abs(diff.bytesDelta))} (${diff.bytesDelta} bytes)`,
  );
  const rows = [...diff.added, ...diff.freed];
  if (rows.length === 0) return;
  out.line();
  const marks = new Map<number, string>([
    ...diff.freed.map((b): [number, string] => [b.inode, "-"]),
    ...diff.added.map((b): [number, string] => [b.inode, "+"]),
  ]);
  renderBuffers(out, rows, { marks });
}
