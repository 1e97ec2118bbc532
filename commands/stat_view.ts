/**
 * `dmabuf stat` views: filtering and sorting, totals, per-process attribution (dmabuf_dump's fd refs, map
 * refs, size and PSS), differences between snapshots, and the human and JSON renderings of all of them.
 * @module
 */

import { type Column, formatBytes, type Output } from "./toolkit/output.ts";
import type { ProcessScan, SkippedProcess } from "../ffi/procfs.ts";
import type { BufinfoFence } from "../ffi/text/bufinfo.ts";
import type { Snapshot, StatBuffer } from "./stat_snapshot.ts";

/** `--sort` keys. */
export type SortKey = "size" | "inode" | "exporter" | "name" | "count";

/** Filters and order of the buffer list. */
export interface Selection {
  /** Order; `size` and `count` descend, the others ascend; ties by inode. */
  sort: SortKey;
  /** Only buffers of this exporter (exact). */
  exporter?: string | undefined;
  /** Only buffers whose name matches this glob (`*`, `?`, `[...]`); unnamed buffers match as `<none>`. */
  name?: string | undefined;
  /** Only buffers of at least this many bytes. */
  minSize?: number | undefined;
}

/** The text unnamed buffers show as, and match as with `--name`. */
export const UNNAMED = "<none>";

/** A glob (`*`, `?`, `[...]`) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") source += "[^]*";
    else if (c === "?") source += "[^]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close === -1) source += "\\[";
      else {
        const body = glob.slice(i + 1, close);
        source += `[${body.startsWith("!") ? "^" + body.slice(1) : body}]`;
        i = close;
      }
    } else source += c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

function compareText(a: string | null, b: string | null): number {
  return (a ?? "").localeCompare(b ?? "");
}

/** The buffers a selection keeps, in its order. */
export function select(buffers: readonly StatBuffer[], selection: Selection): StatBuffer[] {
  const pattern = selection.name === undefined ? null : globToRegExp(selection.name);
  const kept = buffers.filter((b) =>
    (selection.exporter === undefined || b.exporter === selection.exporter) &&
    (pattern === null || pattern.test(b.name ?? UNNAMED)) &&
    (selection.minSize === undefined || b.size >= selection.minSize)
  );
  const order: Record<SortKey, (a: StatBuffer, b: StatBuffer) => number> = {
    size: (a, b) => b.size - a.size,
    inode: () => 0,
    exporter: (a, b) => compareText(a.exporter, b.exporter) || b.size - a.size,
    name: (a, b) => compareText(a.name, b.name),
    count: (a, b) => (b.count ?? -1) - (a.count ?? -1),
  };
  const by = order[selection.sort];
  return kept.sort((a, b) => by(a, b) || a.inode - b.inode);
}

/** Totals of a buffer list, overall and per exporter. */
export interface Totals {
  /** Number of buffers. */
  count: number;
  /** Sum of sizes. */
  bytes: number;
  /** Per exporter name (`?` for buffers whose exporter is unknown). */
  byExporter: Record<string, { count: number; bytes: number }>;
}

/** The totals of `buffers`. */
export function totalsOf(buffers: readonly StatBuffer[]): Totals {
  const byExporter: Totals["byExporter"] = {};
  let bytes = 0;
  for (const b of buffers) {
    bytes += b.size;
    const key = b.exporter ?? "?";
    const entry = byExporter[key] ??= { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += b.size;
  }
  return { count: buffers.length, bytes, byExporter };
}

/** A process holding a buffer. */
export interface Holder {
  /** Process id. */
  pid: number;
  /** Its comm, or null. */
  comm: string | null;
  /** How many of its fds refer to the buffer. */
  fdRefs: number;
  /** How many of its VMAs map the buffer. */
  mapRefs: number;
}

/** One process's share of the selected buffers. */
export interface ProcessUsage {
  /** Process id. */
  pid: number;
  /** Its comm, or null. */
  comm: string | null;
  /** dma-buf fds it holds (of the selected buffers). */
  fdRefs: number;
  /** dma-buf VMAs it has. */
  mapRefs: number;
  /** Sum of the sizes of the distinct buffers it refers to (dmabuf_dump's Rss). */
  bytes: number;
  /** Sum over those buffers of size / number of processes referring to it (dmabuf_dump's Pss, integer division). */
  pss: number;
  /** Per buffer: its refs. */
  buffers: { inode: number; fdRefs: number; mapRefs: number }[];
}

/** Per-process attribution of a set of buffers. */
export interface Attribution {
  /** Processes referring to at least one selected buffer, by pid. */
  processes: ProcessUsage[];
  /** Holders per buffer inode. */
  holders: Map<number, Holder[]>;
  /** Processes that could not be read. */
  skipped: SkippedProcess[];
}

/** Attributes `buffers` to the processes of `scan` (fd refs from fdinfo, map refs from maps). */
export function attribute(buffers: readonly StatBuffer[], scan: ProcessScan): Attribution {
  const sizes = new Map(buffers.map((b) => [b.inode, b.size]));
  const holders = new Map<number, Holder[]>(buffers.map((b) => [b.inode, []]));
  const perProcess: {
    pid: number;
    comm: string | null;
    refs: Map<number, { fdRefs: number; mapRefs: number }>;
  }[] = [];
  for (const process of scan.processes) {
    const refs = new Map<number, { fdRefs: number; mapRefs: number }>();
    const bump = (inode: number, key: "fdRefs" | "mapRefs") => {
      if (!sizes.has(inode)) return;
      const entry = refs.get(inode) ?? { fdRefs: 0, mapRefs: 0 };
      entry[key]++;
      refs.set(inode, entry);
    };
    for (const fd of process.fds) bump(fd.inode, "fdRefs");
    for (const map of process.maps) bump(map.inode, "mapRefs");
    if (refs.size === 0) continue;
    perProcess.push({ pid: process.pid, comm: process.comm, refs });
    for (const [inode, r] of refs) holders.get(inode)!.push({ pid: process.pid, comm: process.comm, ...r });
  }
  const processes = perProcess.map(({ pid, comm, refs }): ProcessUsage => {
    let fdRefs = 0, mapRefs = 0, bytes = 0, pss = 0;
    for (const [inode, r] of refs) {
      const size = sizes.get(inode)!;
      fdRefs += r.fdRefs;
      mapRefs += r.mapRefs;
      bytes += size;
      pss += Math.floor(size / holders.get(inode)!.length);
    }
    const list = [...refs.entries()].map(([inode, r]) => ({ inode, ...r })).sort((a, b) => a.inode - b.inode);
    return { pid, comm, fdRefs, mapRefs, bytes, pss, buffers: list };
  });
  return { processes, holders, skipped: scan.skipped };
}

/** Buffers that appeared and disappeared between two snapshots, by inode. */
export interface Difference {
  /** In `after`, not in `before`. */
  added: StatBuffer[];
  /** In `before`, not in `after`. */
  freed: StatBuffer[];
  /** Bytes added minus bytes freed. */
  bytesDelta: number;
}

/** The difference between `before` and `after`, by inode. */
export function difference(before: readonly StatBuffer[], after: readonly StatBuffer[]): Difference {
  const beforeInodes = new Set(before.map((b) => b.inode));
  const afterInodes = new Set(after.map((b) => b.inode));
  const added = after.filter((b) => !beforeInodes.has(b.inode));
  const freed = before.filter((b) => !afterInodes.has(b.inode));
  const sum = (list: StatBuffer[]) => list.reduce((s, b) => s + b.size, 0);
  return { added, freed, bytesDelta: sum(added) - sum(freed) };
}

/** A buffer as JSON (the documented field order), with its holders when attributed. */
export function bufferJson(buffer: StatBuffer, holders?: Holder[]): Record<string, unknown> {
  const { nameKnown: _internal, ...fields } = buffer;
  return holders === undefined ? fields : { ...fields, holders };
}

/** The JSON document of a snapshot view. */
export function snapshotJson(
  snapshot: Snapshot,
  buffers: readonly StatBuffer[],
  attribution: Attribution | null,
): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    source: snapshot.source,
    sourcePath: snapshot.sourcePath,
    generation: snapshot.generation,
    buffers: buffers.map((b) => bufferJson(b, attribution?.holders.get(b.inode))),
    totals: totalsOf(buffers),
    unparsed: snapshot.unparsed,
  };
  if (attribution !== null) {
    doc.processes = attribution.processes;
    doc.skippedProcesses = attribution.skipped;
  }
  return doc;
}

const SOURCE_TEXT: Record<Snapshot["source"], string> = {
  debugfs: "debugfs bufinfo",
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
  return b.nameKnown ? UNNAMED : "?";
}

/** A fence list in a few words: `2 write, 1 read (1 unsignalled)`; `-` for none, `?` when unknown. */
export function fenceSummary(fences: readonly BufinfoFence[] | null): string {
  if (fences === null) return "?";
  if (fences.length === 0) return "-";
  const byUsage = new Map<string, number>();
  let pending = 0;
  for (const f of fences) {
    byUsage.set(f.usage, (byUsage.get(f.usage) ?? 0) + 1);
    if (!f.signalled) pending++;
  }
  const parts = [...byUsage].map(([usage, n]) => `${n} ${usage}`).join(", ");
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
  /** Holders per inode (`--procs`). */
  holders?: Map<number, Holder[]>;
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
      cell: (b) => holderText(holders.get(b.inode)),
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
  const unheld = buffers.filter((b) => (attribution.holders.get(b.inode)?.length ?? 0) === 0);
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
