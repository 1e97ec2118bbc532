/**
 * What `dmabuf stat` computes from a snapshot: filtering and sorting, totals, per-process attribution
 * (dmabuf_dump's fd refs, map refs, size and PSS) and the difference between two snapshots.
 * @module
 */

import type { ProcessScan, SkippedProcess } from "../../ffi/procfs.ts";
import type { StatBuffer } from "./snapshot.ts";
import { Glob } from "../toolkit/glob.ts";

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

function compareText(a: string | null, b: string | null): number {
  return (a ?? "").localeCompare(b ?? "");
}

/** The buffers a selection keeps, in its order. */
export function select(buffers: readonly StatBuffer[], selection: Selection): StatBuffer[] {
  const pattern = selection.name === undefined ? null : new Glob(selection.name);
  const kept = buffers.filter((b) =>
    (selection.exporter === undefined || b.exporter === selection.exporter) &&
    (pattern === null || pattern.matches(b.name ?? UNNAMED)) &&
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

/** References a process has to an inode number shared by several buffers, which could not be told apart. */
export interface AmbiguousRefs {
  /** The shared inode number. */
  inode: number;
  /** How many selected buffers carry it. */
  buffers: number;
  /** The process. */
  pid: number;
  /** Its comm, or null. */
  comm: string | null;
  /** Its fds that could refer to more than one of them. */
  fdRefs: number;
  /** Its mappings that could. */
  mapRefs: number;
}

/** Per-process attribution of a set of buffers. */
export interface Attribution {
  /** Processes referring to at least one selected buffer, by pid. */
  processes: ProcessUsage[];
  /** Holders per buffer (the buffer objects of the list attributed). */
  holders: Map<StatBuffer, Holder[]>;
  /** Processes that could not be read. */
  skipped: SkippedProcess[];
  /**
   * References that could not be attributed: their inode number is shared by buffers that the process's
   * fdinfo and maps cannot tell apart (5.10–5.17 take dma-buf inode numbers from `get_next_ino()`, which
   * wraps; later kernels number dma-bufs uniquely). Not counted in `processes`.
   */
  ambiguous: AmbiguousRefs[];
}

/** What an fd or a mapping shows of the buffer it refers to, to pick among buffers that share its inode. */
interface RefView {
  size: number | null;
  exporter: string | null;
  name: string | null | undefined;
  /** A mapping may cover only part of a buffer: its length is a lower bound of the size. */
  partial: boolean;
}

/** The buffers of `candidates` that could be the one `ref` refers to. */
function matching(candidates: readonly StatBuffer[], ref: RefView): StatBuffer[] {
  return candidates.filter((b) =>
    (ref.size === null || (ref.partial ? b.size >= ref.size : b.size === ref.size)) &&
    (ref.exporter === null || b.exporter === null || b.exporter === ref.exporter) &&
    (ref.name === undefined || b.nameKnown === false || b.name === ref.name)
  );
}

/**
 * Attributes `buffers` to the processes of `scan` (fd refs from fdinfo, map refs from maps). Buffers are
 * found by inode number; where several share one (5.10), by what the fd or mapping also shows (size,
 * exporter, name), and a reference that still fits more than one is reported in `ambiguous`.
 */
export function attribute(buffers: readonly StatBuffer[], scan: ProcessScan): Attribution {
  const byInode = new Map<number, StatBuffer[]>();
  for (const b of buffers) {
    const list = byInode.get(b.inode);
    if (list === undefined) byInode.set(b.inode, [b]);
    else list.push(b);
  }
  const holders = new Map<StatBuffer, Holder[]>(buffers.map((b) => [b, []]));
  const perProcess: {
    pid: number;
    comm: string | null;
    refs: Map<StatBuffer, { fdRefs: number; mapRefs: number }>;
  }[] = [];
  const ambiguous: AmbiguousRefs[] = [];
  for (const process of scan.processes) {
    const refs = new Map<StatBuffer, { fdRefs: number; mapRefs: number }>();
    const unclear = new Map<number, AmbiguousRefs>();
    const bump = (inode: number, key: "fdRefs" | "mapRefs", view: RefView) => {
      const candidates = byInode.get(inode);
      if (candidates === undefined) return;
      const found = candidates.length === 1 ? candidates : matching(candidates, view);
      if (found.length === 1) {
        const entry = refs.get(found[0]!) ?? { fdRefs: 0, mapRefs: 0 };
        entry[key]++;
        refs.set(found[0]!, entry);
        return;
      }
      let entry = unclear.get(inode);
      if (entry === undefined) {
        entry = {
          inode,
          buffers: candidates.length,
          pid: process.pid,
          comm: process.comm,
          fdRefs: 0,
          mapRefs: 0,
        };
        unclear.set(inode, entry);
      }
      entry[key]++;
    };
    for (const fd of process.fds) {
      bump(fd.inode, "fdRefs", { size: fd.size, exporter: fd.exporter, name: fd.name, partial: false });
    }
    for (const map of process.maps) {
      bump(map.inode, "mapRefs", { size: map.vmaSize, exporter: null, name: map.name, partial: true });
    }
    ambiguous.push(...unclear.values());
    if (refs.size === 0) continue;
    perProcess.push({ pid: process.pid, comm: process.comm, refs });
    for (const [buffer, r] of refs) holders.get(buffer)!.push({ pid: process.pid, comm: process.comm, ...r });
  }
  const processes = perProcess.map(({ pid, comm, refs }): ProcessUsage => {
    let fdRefs = 0, mapRefs = 0, bytes = 0, pss = 0;
    for (const [buffer, r] of refs) {
      fdRefs += r.fdRefs;
      mapRefs += r.mapRefs;
      bytes += buffer.size;
      pss += Math.floor(buffer.size / holders.get(buffer)!.length);
    }
    const list = [...refs.entries()].map(([b, r]) => ({ inode: b.inode, ...r })).sort((a, b) =>
      a.inode - b.inode
    );
    return { pid, comm, fdRefs, mapRefs, bytes, pss, buffers: list };
  });
  return { processes, holders, skipped: scan.skipped, ambiguous };
}

/** Inode numbers that more than one of `buffers` carries (5.10–5.17 can reuse them), ascending. */
export function sharedInodes(buffers: readonly StatBuffer[]): number[] {
  const seen = new Set<number>();
  const shared = new Set<number>();
  for (const b of buffers) {
    if (seen.has(b.inode)) shared.add(b.inode);
    else seen.add(b.inode);
  }
  return [...shared].sort((a, b) => a - b);
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
