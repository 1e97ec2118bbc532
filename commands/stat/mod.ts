/**
 * `dmabuf stat`: what dma-bufs exist, how big, from which exporter, named what, attached to which devices,
 * waiting on which fences, held by which processes — from debugfs bufinfo, sysfs stats or a /proc scan, or
 * offline from a saved bufinfo; with a refreshing `--watch` and a `--compare` against a saved snapshot.
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { UsageError } from "../toolkit/errors.ts";
import { ChunkedWriter } from "../toolkit/chunked.ts";
import { Output } from "../toolkit/output.ts";
import type { Io, TextIo } from "../toolkit/streams.ts";
import { sleep } from "../toolkit/timer.ts";
import { readSnapshotFile, type Snapshot, type SourceChoice, type StatBuffer } from "./snapshot.ts";
import type { StatCompareDocument, StatWatchDocument } from "./document.ts";
import {
  attribute,
  type Attribution,
  difference,
  select,
  type Selection,
  sharedInodes,
  type SortKey,
  totalsOf,
} from "./model.ts";
import {
  bufferJson,
  printable,
  renderBuffers,
  renderDifference,
  renderProcesses,
  renderTotals,
  snapshotJson,
  sourceLine,
} from "./render.ts";

/** Flags of `dmabuf stat`. */
export interface StatFlags extends CommonFlags {
  /** Where to read the live system's buffers from. */
  readonly source: SourceChoice;
  /** A bufinfo (or saved `stat --json`) to analyse offline; `-` = stdin. */
  readonly input?: string;
  /** Per-process attribution. */
  readonly procs: boolean;
  /** Order of the buffer list. */
  readonly sort: SortKey;
  /** Only this exporter. */
  readonly exporter?: string;
  /** Only names matching this glob. */
  readonly name?: string;
  /** Only buffers of at least this size. */
  readonly minSize?: number;
  /** Refresh every this many ms. */
  readonly watch?: number;
  /** With --watch: stop after this many refreshes. */
  readonly iterations?: number;
  /** A saved `stat --json` or bufinfo to compare with. */
  readonly compare?: string;
}

/** Clears a terminal and homes the cursor (ANSI). */
const CLEAR_SCREEN = "\x1b[H\x1b[2J";

/** How many unparsed lines a warning quotes without --verbose. */
const UNPARSED_SHOWN = 3;

function selectionOf(flags: StatFlags): Selection {
  return { sort: flags.sort, exporter: flags.exporter, name: flags.name, minSize: flags.minSize };
}

function isFiltered(flags: StatFlags): boolean {
  return flags.exporter !== undefined || flags.name !== undefined || flags.minSize !== undefined;
}

function checkFlags(flags: StatFlags): void {
  if (flags.input !== undefined) {
    if (flags.source !== "auto") throw new UsageError("--source and --input exclude each other");
    if (flags.procs) {
      throw new UsageError(
        "--procs needs this system's /proc: it cannot attribute a bufinfo read with --input",
      );
    }
    if (flags.input === "-" && flags.watch !== undefined) {
      throw new UsageError("--watch cannot re-read stdin: give --input a file");
    }
  }
  if (flags.compare !== undefined && flags.watch !== undefined) {
    throw new UsageError("--compare and --watch exclude each other (--watch already shows what changed)");
  }
  if (flags.iterations !== undefined && flags.watch === undefined) {
    throw new UsageError("--iterations only applies to --watch");
  }
}

/** Warnings about how complete a bufinfo was. */
function warnAboutInput(out: Output, snapshot: Snapshot, filtered: boolean): void {
  const { unparsed } = snapshot;
  if (unparsed.length > 0) {
    const shown = out.verbose ? unparsed : unparsed.slice(0, UNPARSED_SHOWN);
    const lines = shown.map((u) => `line ${u.line}: ${printable(u.text)}${u.reason ? ` (${u.reason})` : ""}`)
      .join("; ");
    const more = shown.length < unparsed.length ? `; ${unparsed.length - shown.length} more (--verbose)` : "";
    out.warn(`${unparsed.length} lines of ${snapshot.sourcePath} not understood: ${lines}${more}`);
  }
  const shared = sharedInodes(snapshot.buffers);
  if (shared.length > 0) {
    out.warn(
      `inode numbers ${shared.join(", ")} are each carried by more than one buffer (kernels before 5.18 ` +
        "take dma-buf inode numbers from a counter that wraps): --procs tells such buffers apart by size, " +
        "exporter and name where it can and says where it cannot; --compare and --watch match buffers by inode",
    );
  }
  if (snapshot.generation === null) return;
  const reported = snapshot.reportedTotals;
  if (reported === null) {
    out.warn(`${snapshot.sourcePath} has no 'Total N objects' line: it looks truncated`);
  } else if (!filtered) {
    const read = snapshot.buffers.length;
    const bytes = snapshot.buffers.reduce((sum, b) => sum + b.size, 0);
    if (reported.objects !== read) out.warn(`bufinfo says ${reported.objects} objects but ${read} were read`);
    else if (BigInt(reported.bytes) !== BigInt(bytes)) {
      out.warn(
        `bufinfo says its ${read} objects hold ${reported.bytes} bytes but their rows add up to ${bytes}`,
      );
    }
  }
}

interface View {
  snapshot: Snapshot;
  buffers: StatBuffer[];
  attribution: Attribution | null;
}

/** The live-system readers: loaded (with their FFI) only when the system is read. */
type Live = typeof import("./live.ts");

function view(snapshot: Snapshot, flags: StatFlags, live: Live | null): View {
  const withProcs = flags.procs ? live!.withScan(snapshot) : snapshot;
  const buffers = select(withProcs.buffers, selectionOf(flags));
  const attribution = flags.procs ? attribute(buffers, withProcs.scan!) : null;
  return { snapshot: withProcs, buffers, attribution };
}

function renderView(out: Output, v: View, marks?: Map<number, string>, extra: StatBuffer[] = []): void {
  const rows = [...v.buffers, ...extra];
  if (rows.length === 0) out.line(v.snapshot.buffers.length === 0 ? "No dma-bufs." : "No dma-buf matches.");
  else {
    renderBuffers(out, rows, {
      ...(marks === undefined ? {} : { marks }),
      ...(v.attribution === null ? {} : { holders: v.attribution.holders }),
    });
  }
  renderTotals(out, totalsOf(v.buffers));
  if (v.attribution !== null) renderProcesses(out, v.attribution, v.buffers);
}

/**
 * An Io whose stdout collects text and writes it in pieces of about 64 KiB: a 10,000-row table is about 20
 * writes, not 10,000, and never one string of all of it.
 */
class BufferedIo implements TextIo {
  readonly #target: Io;
  readonly #writer: ChunkedWriter;
  readonly stdout;
  readonly stderr;

  constructor(target: Io) {
    this.#target = target;
    this.#writer = new ChunkedWriter(target.stdout);
    this.stdout = {
      isTerminal: target.stdout.isTerminal,
      write: (text: string) => this.#writer.write(text),
    };
    this.stderr = target.stderr;
  }

  readonly env = (name: string): string | undefined => this.#target.env(name);

  /** Writes what was collected to the real stdout. */
  flush(): void {
    this.#writer.flush();
  }
}

/** Shows the system's dma-bufs. */
export async function stat(this: DmabufContext, flags: StatFlags): Promise<void> {
  checkFlags(flags);
  const io = new BufferedIo(this.io);
  const out = new Output(io, flags);
  try {
    await run.call(this, flags, out, io);
  } finally {
    io.flush();
  }
}

async function run(this: DmabufContext, flags: StatFlags, out: Output, io: BufferedIo): Promise<void> {
  // --procs needs the system too, but checkFlags refuses it with --input.
  const live = flags.input === undefined ? await import("./live.ts") : null;
  const take = (): Snapshot | Promise<Snapshot> =>
    flags.input === undefined ? live!.takeSnapshot(flags.source) : readSnapshotFile(flags.input);

  if (flags.compare !== undefined) {
    const current = view(await take(), flags, live);
    const base = await readSnapshotFile(flags.compare);
    const diff = difference(select(base.buffers, selectionOf(flags)), current.buffers);
    warnAboutInput(out, current.snapshot, isFiltered(flags));
    if (out.json) {
      const document: StatCompareDocument = {
        source: current.snapshot.source,
        sourcePath: current.snapshot.sourcePath,
        compareWith: flags.compare,
        added: diff.added.map((b) => bufferJson(b)),
        freed: diff.freed.map((b) => bufferJson(b)),
        bytesDelta: diff.bytesDelta,
      };
      out.data(document);
      return;
    }
    out.line(sourceLine(current.snapshot));
    out.line(`Compared with ${flags.compare}`);
    renderDifference(out, diff);
    return;
  }

  if (flags.watch === undefined) {
    const v = view(await take(), flags, live);
    for (const why of v.snapshot.fallbacks) out.note(`dmabuf: not using ${why}`);
    warnAboutInput(out, v.snapshot, isFiltered(flags));
    if (out.json) out.data(snapshotJson(v.snapshot, v.buffers, v.attribution));
    else {
      out.line(sourceLine(v.snapshot));
      out.line();
      renderView(out, v);
    }
    return;
  }

  const signal = this.interrupt();
  const redraw = this.io.stdout.isTerminal && !out.json;
  let previous: StatBuffer[] | null = null;
  for (let round = 1; !signal.aborted; round++) {
    const v = view(await take(), flags, live);
    const diff = previous === null ? null : difference(previous, v.buffers);
    if (out.json) {
      const document: StatWatchDocument = {
        ...snapshotJson(v.snapshot, v.buffers, v.attribution),
        time: new Date().toISOString(),
        added: diff?.added.map((b) => b.inode) ?? [],
        freed: diff?.freed.map((b) => b.inode) ?? [],
      };
      out.data(document);
    } else {
      if (redraw) io.stdout.write(CLEAR_SCREEN);
      else if (round > 1) out.line();
      const change = diff === null
        ? ""
        : `: ${diff.added.length} appeared (+), ${diff.freed.length} disappeared (-)`;
      out.line(sourceLine(v.snapshot));
      out.line(`${new Date().toLocaleTimeString()}, every ${flags.watch / 1000} s${change}; Ctrl-C ends`);
      out.line();
      const marks = new Map<number, string>();
      for (const b of diff?.added ?? []) marks.set(b.inode, "+");
      for (const b of diff?.freed ?? []) marks.set(b.inode, "-");
      renderView(out, v, marks, diff?.freed ?? []);
    }
    io.flush();
    previous = v.buffers;
    if (flags.iterations !== undefined && round >= flags.iterations) break;
    await sleep(flags.watch, { signal });
  }
}
