/**
 * The fence lifecycle model of `dmabuf trace`: a pure state machine fed parsed trace events in order, which
 * answers per timeline (driver, timeline name, fence context) how many fences were seen, signalled and left
 * unsignalled, how long they took to signal, who waited on them in the kernel and who armed callbacks.
 *
 * Rules for what a recording cannot see completely:
 * - A fence is identified by (context, seqno), and several fences may share one (sw_sync lets a timeline make
 *   any number of fences at one value; seqnos wrap). Each seqno keeps a queue of live fences: an event goes
 *   to the oldest fence it can apply to (`signaled` to the oldest unsignalled one, `destroy` to the oldest
 *   signalled one).
 * - A fence whose `init` preceded the recording appears at its first event as *preexisting*: it counts as
 *   seen, has no init→signalled latency, and counts as unsignalled only if it is alive at the end, not seen
 *   signalling, and something was expecting it to (emit, enable_signal, wait_start): one that was only
 *   destroyed or whose wait only ended may well have signalled before the recording.
 * - The tracepoints carry no error status. For sw_sync it is inferred: the driver signals fences in
 *   `sync_timeline_signal`, which first traces `sync_timeline`, so a `signaled` that is neither part of such
 *   a batch (same thread, no pause over {@link BATCH_PAUSE_US}) nor right after the fence's own
 *   `init` (created at a value already reached: the signal follows within {@link CREATE_SIGNAL_WINDOW_US},
 *   or the seqno is at most what increments reached) comes from closing the timeline, which signals with
 *   -ENOENT. Other drivers report `signalledWithError: null`.
 * - On 6.17+ signalled fences print `detached-driver` / `signaled-timeline`: names are taken from the events
 *   that carry real ones, keyed by context.
 * @module
 */

import type { DmaBufEvent, FenceEvent, TraceRecord } from "../../ffi/text/trace_event.ts";

/** Driver and timeline names the kernel prints for a fence after it signalled (6.17+). */
export const DETACHED_DRIVER = "detached-driver";
/** See {@link DETACHED_DRIVER}. */
export const SIGNALED_TIMELINE = "signaled-timeline";

/** What the model keeps: only timelines that match every filter given. */
export interface TraceFilter {
  /** Only fences of this driver (exact name). */
  driver?: string | undefined;
  /** Only fences of this timeline (exact name). */
  timeline?: string | undefined;
  /** Only timelines this process touched (any fence event by one of its threads, when tgids are recorded). */
  pid?: number | undefined;
}

/** One fence as the model follows it. */
interface FenceRecord {
  seqno: number;
  initUs: number | null;
  emitUs: number | null;
  signalUs: number | null;
  error: boolean;
  preexisting: boolean;
  /** Something was still expecting it to signal (emit, enable_signal, wait_start seen). */
  awaited: boolean;
}

/** Per-process counts of one activity (waits or callbacks). */
interface ByPid {
  pid: number;
  comm: string;
  count: number;
  totalUs: number;
  maxUs: number;
}

interface TimelineState {
  context: number;
  driver: string;
  timeline: string;
  live: Map<number, FenceRecord[]>;
  fences: number;
  signalled: number;
  errors: number;
  preexisting: number;
  destroyed: number;
  destroyedUnsignalled: number;
  /** Seqnos of fences with init seen and destroyed without signalling. */
  lostSeqnos: number[];
  initToSignalUs: number[];
  emitToSignalUs: number[];
  waitsOpen: Map<string, number[]>;
  waitUs: number[];
  waitsUnmatched: number;
  waitsBy: Map<number, ByPid>;
  callbacks: number;
  callbacksBy: Map<number, ByPid>;
  pids: Set<number>;
  /** sw_sync: the highest seqno signalled by an increment (a lower bound of the timeline's value). */
  reached: number;
  firstUs: number;
  lastUs: number;
}

/** p50, p99 and max of a set of durations in ms (nearest-rank), with the sample count; null when empty. */
export interface Percentiles {
  p50: number | null;
  p99: number | null;
  max: number | null;
  count: number;
}

/** One process's share of waits or callbacks (pid: the tgid when recorded, else the thread id). */
export interface PidShare {
  pid: number;
  comm: string;
  count: number;
}

/** A process's kernel waits. */
export interface WaiterShare extends PidShare {
  totalMs: number;
  maxMs: number;
}

/** The summary of one timeline (one fence context). */
export interface TimelineSummary {
  driver: string;
  timeline: string;
  context: number;
  /** Fences seen (created during the recording, or first seen in it). */
  fences: number;
  signalled: number;
  /** Fences not seen signalling that were created during the recording or are still alive at the end. */
  unsignalled: number;
  /** Fences signalled with an error (sw_sync: inferred from a closed timeline); null when not knowable. */
  signalledWithError: number | null;
  /** Fences whose init preceded the recording. */
  preexisting: number;
  destroyed: number;
  /** Fences created during the recording and destroyed without ever signalling. */
  destroyedUnsignalled: number;
  /** Seqnos of the unsignalled fences (at most {@link MAX_LISTED_SEQNOS}). */
  unsignalledSeqnos: number[];
  /** init → signaled. */
  latencyMs: Percentiles;
  /** emit → signaled (drivers that emit, e.g. drm_sched). */
  emitLatencyMs: Percentiles;
  waits: {
    /** Waits seen: wait_start events, plus wait_end events whose start preceded the recording. */
    count: number;
    /** Completed waits (wait_end matched): total and longest. */
    totalMs: number;
    maxMs: number;
    /** Waits still blocked at the end of the recording. */
    pending: number;
    by: WaiterShare[];
  };
  callbacks: { count: number; by: PidShare[] };
  /** Processes that produced events on this timeline. */
  pids: number[];
}

/** The model's result. */
export interface TraceSummary {
  /** Events parsed (all of them, before filtering). */
  events: number;
  /** Events the kernel dropped because the reader fell behind (`[LOST n EVENTS]`). */
  lost: number;
  /** Per timeline, ordered by driver, timeline name, context. */
  timelines: TimelineSummary[];
  /** sw_sync `sync_timeline` events by timeline name: increments traced and the last value before one. */
  syncTimelines: { name: string; increments: number; lastValue: number }[];
  /** `dma_buf_*` events by name (kernels after 6.18). */
  dmaBuf: Record<string, number>;
  /** Each dma-buf the `dma_buf_*` events named, by inode number, in the order first seen. */
  dmaBufs: DmaBufLife[];
  /** Lines that were events of other kinds or did not match their format. */
  other: number;
}

/** One dma-buf's life as the `dma_buf_*` events show it, joined by inode number (as bufinfo and stat show it). */
export interface DmaBufLife {
  /** Inode number. */
  inode: number;
  /** Exporter, from the events. */
  exporter: string | null;
  /** Size in bytes, from the events. */
  size: number | null;
  /** Whether its export was recorded (false: it existed before the recording started). */
  exported: boolean;
  /** Events by name (`export`, `fd`, `get`, `mmap`, `mmap_internal`, `dynamic_attach`, `detach`, `put`). */
  events: Record<string, number>;
  /** Devices attached (`dynamic_attach`) and not detached by the end. */
  attached: string[];
  /** Processes whose events name it. */
  pids: number[];
  /** Time (trace clock, µs) of its first and last event. */
  firstUs: number;
  lastUs: number;
}

/**
 * The longest pause (µs) between a sw_sync fence's init and the signal of its own creation (made at a value
 * already reached; the same ioctl). Generous: a loaded TCG guest preempts inside an ioctl for milliseconds.
 */
export const CREATE_SIGNAL_WINDOW_US = 20_000;

/** The longest pause (µs) between the `sync_timeline` event of an increment and its signals, or between them. */
export const BATCH_PAUSE_US = 50_000;

/** How many unsignalled seqnos a summary lists per timeline. */
export const MAX_LISTED_SEQNOS = 20;

/** Nearest-rank percentiles of microsecond samples, in ms. */
export function percentiles(samplesUs: readonly number[]): Percentiles {
  if (samplesUs.length === 0) return { p50: null, p99: null, max: null, count: 0 };
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return {
    p50: rank(50) / 1000,
    p99: rank(99) / 1000,
    max: sorted[sorted.length - 1]! / 1000,
    count: sorted.length,
  };
}

/** The process an event belongs to: its tgid when the trace recorded one, else its thread id. */
export function processOf(event: { pid: number; tgid: number | null }): number {
  return event.tgid ?? event.pid;
}

function bump(map: Map<number, ByPid>, pid: number, comm: string): void {
  const entry = map.get(pid) ?? { pid, comm, count: 0, totalUs: 0, maxUs: 0 };
  entry.comm = comm;
  entry.count++;
  map.set(pid, entry);
}

function byCount<T extends { count: number; pid: number }>(a: T, b: T): number {
  return b.count - a.count || a.pid - b.pid;
}

/** The fence lifecycle state machine; feed it with {@link TraceModel.apply}, read it with {@link TraceModel.summary}. */
export class TraceModel {
  readonly #filter: TraceFilter;
  readonly #timelines = new Map<number, TimelineState>();
  readonly #syncTimelines = new Map<string, { name: string; increments: number; lastValue: number }>();
  readonly #dmaBuf: Record<string, number> = {};
  readonly #buffers = new Map<number, DmaBufLife & { pidSet: Set<number> }>();
  /** Pids inside a sw_sync `sync_timeline_signal` batch: the timeline name and the batch's last event. */
  readonly #batches = new Map<number, { timeline: string; lastUs: number }>();
  /** Per pid, the fence (context:seqno) whose init it traced last, if that was its last event. */
  readonly #justCreated = new Map<number, string>();
  #events = 0;
  #lost = 0;
  #other = 0;
  #lastUs = 0;

  /** Makes an empty model keeping what `filter` selects. */
  constructor(filter: TraceFilter = {}) {
    this.#filter = filter;
  }

  /** Events applied so far. */
  get events(): number {
    return this.#events;
  }

  /** Events the kernel reported lost so far. */
  get lost(): number {
    return this.#lost;
  }

  /** Feeds one parsed record. */
  apply(record: TraceRecord): void {
    if (record.kind === "lost") {
      this.#lost += record.count;
      return;
    }
    this.#events++;
    this.#lastUs = Math.max(this.#lastUs, record.timestampUs);
    switch (record.kind) {
      case "fence":
        this.#fence(record);
        return;
      case "timeline": {
        const entry = this.#syncTimelines.get(record.name) ??
          { name: record.name, increments: 0, lastValue: 0 };
        entry.increments++;
        entry.lastValue = record.value;
        this.#syncTimelines.set(record.name, entry);
        this.#batches.set(record.pid, { timeline: record.name, lastUs: record.timestampUs });
        this.#justCreated.delete(record.pid);
        return;
      }
      case "dma_buf":
        this.#dmaBuf[record.name] = (this.#dmaBuf[record.name] ?? 0) + 1;
        this.#buffer(record);
        return;
      case "other":
        this.#other++;
        return;
    }
  }

  #buffer(record: DmaBufEvent): void {
    if (record.inode === null) return;
    let life = this.#buffers.get(record.inode);
    if (life === undefined) {
      life = {
        inode: record.inode,
        exporter: record.exporter,
        size: record.size,
        exported: false,
        events: {},
        attached: [],
        pids: [],
        pidSet: new Set(),
        firstUs: record.timestampUs,
        lastUs: record.timestampUs,
      };
      this.#buffers.set(record.inode, life);
    }
    life.exporter ??= record.exporter;
    life.size ??= record.size;
    life.events[record.name] = (life.events[record.name] ?? 0) + 1;
    life.lastUs = record.timestampUs;
    life.pidSet.add(processOf(record));
    if (record.name === "export") life.exported = true;
    if (record.name === "dynamic_attach" && record.device !== null) life.attached.push(record.device);
    if (record.name === "detach" && record.device !== null) {
      const at = life.attached.indexOf(record.device);
      if (at !== -1) life.attached.splice(at, 1);
    }
  }

  /**
   * Whether an event belongs to what the filter keeps, as far as is known now (for live `--events` output):
   * a fence event of a matching timeline, for `--pid` one on a timeline that process has touched so far.
   */
  matches(record: TraceRecord): boolean {
    if (record.kind === "lost") return true;
    if (record.kind !== "fence") {
      const { driver, timeline, pid } = this.#filter;
      if (record.kind === "timeline") {
        return (driver === undefined || driver === "sw_sync") &&
          (timeline === undefined || timeline === record.name) &&
          (pid === undefined || pid === processOf(record));
      }
      return driver === undefined && timeline === undefined &&
        (pid === undefined || pid === processOf(record));
    }
    const state = this.#timelines.get(record.context);
    if (state === undefined) {
      return this.#namesMatch(record.driver, record.timeline) && this.#pidMatches(processOf(record));
    }
    return this.#keeps(state);
  }

  #namesMatch(driver: string, timeline: string): boolean {
    const f = this.#filter;
    return (f.driver === undefined || f.driver === driver) &&
      (f.timeline === undefined || f.timeline === timeline);
  }

  #pidMatches(pid: number): boolean {
    return this.#filter.pid === undefined || this.#filter.pid === pid;
  }

  #keeps(state: TimelineState): boolean {
    return this.#namesMatch(state.driver, state.timeline) &&
      (this.#filter.pid === undefined || state.pids.has(this.#filter.pid));
  }

  #state(event: FenceEvent): TimelineState {
    let state = this.#timelines.get(event.context);
    if (state === undefined) {
      state = {
        context: event.context,
        driver: event.driver,
        timeline: event.timeline,
        live: new Map(),
        fences: 0,
        signalled: 0,
        errors: 0,
        preexisting: 0,
        destroyed: 0,
        destroyedUnsignalled: 0,
        lostSeqnos: [],
        initToSignalUs: [],
        emitToSignalUs: [],
        waitsOpen: new Map(),
        waitUs: [],
        waitsUnmatched: 0,
        waitsBy: new Map(),
        callbacks: 0,
        callbacksBy: new Map(),
        pids: new Set(),
        reached: 0,
        firstUs: event.timestampUs,
        lastUs: event.timestampUs,
      };
      this.#timelines.set(event.context, state);
    }
    // 6.17+ prints placeholders once a fence signalled; keep the real names from other events.
    if (state.driver === DETACHED_DRIVER && event.driver !== DETACHED_DRIVER) state.driver = event.driver;
    if (state.timeline === SIGNALED_TIMELINE && event.timeline !== SIGNALED_TIMELINE) {
      state.timeline = event.timeline;
    }
    state.pids.add(processOf(event));
    state.lastUs = event.timestampUs;
    return state;
  }

  #newRecord(state: TimelineState, seqno: number, initUs: number | null): FenceRecord {
    const record: FenceRecord = {
      seqno,
      initUs,
      emitUs: null,
      signalUs: null,
      error: false,
      preexisting: initUs === null,
      awaited: false,
    };
    state.fences++;
    if (record.preexisting) state.preexisting++;
    const queue = state.live.get(seqno) ?? [];
    queue.push(record);
    state.live.set(seqno, queue);
    return record;
  }

  /** The oldest live fence at `seqno` matching `wanted`, else the oldest live one, else a preexisting one. */
  #find(state: TimelineState, seqno: number, wanted: (r: FenceRecord) => boolean): FenceRecord {
    const queue = state.live.get(seqno) ?? [];
    return queue.find(wanted) ?? queue[0] ?? this.#newRecord(state, seqno, null);
  }

  #fence(event: FenceEvent): void {
    const state = this.#state(event);
    const { seqno, timestampUs: t, comm } = event;
    // Batches and creations are per thread (one ioctl); waits and callbacks are reported per process.
    const pid = event.pid;
    const owner = processOf(event);
    const key = `${event.context}:${seqno}`;
    const inBatch = this.#batches.get(pid);
    if (event.name !== "signaled") this.#batches.delete(pid);
    const createdJustNow = this.#justCreated.get(pid) === key;
    this.#justCreated.delete(pid);
    switch (event.name) {
      case "init":
        this.#newRecord(state, seqno, t);
        this.#justCreated.set(pid, key);
        return;
      case "emit": {
        const record = this.#find(state, seqno, (r) => r.emitUs === null && r.signalUs === null);
        if (record.emitUs === null) record.emitUs = t;
        record.awaited = true;
        return;
      }
      case "enable_signal":
        this.#find(state, seqno, (r) => r.signalUs === null).awaited = true;
        state.callbacks++;
        bump(state.callbacksBy, owner, comm);
        return;
      case "signaled": {
        const queue = state.live.get(seqno) ?? [];
        const record = queue.find((r) => r.signalUs === null) ?? this.#newRecord(state, seqno, null);
        record.signalUs = t;
        state.signalled++;
        if (record.initUs !== null) state.initToSignalUs.push(t - record.initUs);
        if (record.emitUs !== null) state.emitToSignalUs.push(t - record.emitUs);
        // The batch's signals follow each other within one spinlocked loop; a pause means something else.
        const batch = inBatch !== undefined && inBatch.timeline === event.timeline &&
          t - inBatch.lastUs <= BATCH_PAUSE_US;
        if (batch) inBatch.lastUs = t;
        else this.#batches.delete(pid);
        if (batch) state.reached = Math.max(state.reached, seqno);
        // sync_pt_create signals a fence made at a value already reached within the same ioctl, right after
        // its init; a signal after a pause is the timeline being closed.
        const atCreation = createdJustNow && record.initUs !== null &&
          (seqno <= state.reached || t - record.initUs <= CREATE_SIGNAL_WINDOW_US);
        if (event.driver === "sw_sync" && !batch && !atCreation) {
          record.error = true;
          state.errors++;
        }
        return;
      }
      case "wait_start": {
        this.#find(state, seqno, (r) => r.signalUs === null).awaited = true;
        const waitKey = `${pid}:${seqno}`;
        const open = state.waitsOpen.get(waitKey) ?? [];
        open.push(t);
        state.waitsOpen.set(waitKey, open);
        bump(state.waitsBy, owner, comm);
        return;
      }
      case "wait_end": {
        this.#find(state, seqno, (r) => r.signalUs === null);
        const waitKey = `${pid}:${seqno}`;
        const start = state.waitsOpen.get(waitKey)?.shift();
        if (state.waitsOpen.get(waitKey)?.length === 0) state.waitsOpen.delete(waitKey);
        if (start === undefined) {
          // wait_start preceded the recording: a wait of unknown length.
          state.waitsUnmatched++;
          bump(state.waitsBy, owner, comm);
          return;
        }
        state.waitUs.push(t - start);
        const entry = state.waitsBy.get(owner)!;
        entry.totalUs += t - start;
        entry.maxUs = Math.max(entry.maxUs, t - start);
        return;
      }
      case "destroy": {
        const queue = state.live.get(seqno) ?? [];
        let index = queue.findIndex((r) => r.signalUs !== null);
        if (index === -1) index = queue.length > 0 ? 0 : -1;
        const record = index === -1 ? this.#newRecord(state, seqno, null) : queue[index]!;
        const at = queue.indexOf(record);
        if (at !== -1) queue.splice(at, 1);
        if (queue.length === 0) state.live.delete(seqno);
        state.destroyed++;
        if (record.signalUs === null && !record.preexisting) {
          state.destroyedUnsignalled++;
          state.lostSeqnos.push(record.seqno);
        }
        return;
      }
    }
  }

  /** The summary of everything applied so far. */
  summary(): TraceSummary {
    const timelines = [...this.#timelines.values()].filter((s) => this.#keeps(s)).map((s) =>
      this.#summarise(s)
    );
    timelines.sort((a, b) =>
      a.driver.localeCompare(b.driver) || a.timeline.localeCompare(b.timeline) || a.context - b.context
    );
    const { driver, timeline, pid } = this.#filter;
    const syncTimelines = [...this.#syncTimelines.values()].filter((t) =>
      (driver === undefined || driver === "sw_sync") && (timeline === undefined || timeline === t.name) &&
      pid === undefined
    );
    return {
      events: this.#events,
      lost: this.#lost,
      timelines,
      syncTimelines,
      dmaBuf: { ...this.#dmaBuf },
      dmaBufs: driver !== undefined || timeline !== undefined ? [] : [...this.#buffers.values()]
        .filter((b) => pid === undefined || b.pidSet.has(pid))
        .map(({ pidSet, ...life }) => ({
          ...life,
          events: { ...life.events },
          attached: [...life.attached],
          pids: [...pidSet].sort((a, b) => a - b),
        })),
      other: this.#other,
    };
  }

  #summarise(s: TimelineState): TimelineSummary {
    const liveUnsignalled: number[] = [];
    for (const queue of s.live.values()) {
      // A fence from before the recording counts only when something was still expecting its signal.
      for (const r of queue) {
        if (r.signalUs === null && (!r.preexisting || r.awaited)) liveUnsignalled.push(r.seqno);
      }
    }
    const unsignalledSeqnos = [...s.lostSeqnos, ...liveUnsignalled].sort((a, b) => a - b);
    let pending = 0;
    for (const starts of s.waitsOpen.values()) pending += starts.length;
    const waitTotalUs = s.waitUs.reduce((sum, us) => sum + us, 0);
    return {
      driver: s.driver,
      timeline: s.timeline,
      context: s.context,
      fences: s.fences,
      signalled: s.signalled,
      unsignalled: unsignalledSeqnos.length,
      signalledWithError: s.driver === "sw_sync" ? s.errors : null,
      preexisting: s.preexisting,
      destroyed: s.destroyed,
      destroyedUnsignalled: s.destroyedUnsignalled,
      unsignalledSeqnos: unsignalledSeqnos.slice(0, MAX_LISTED_SEQNOS),
      latencyMs: percentiles(s.initToSignalUs),
      emitLatencyMs: percentiles(s.emitToSignalUs),
      waits: {
        count: s.waitUs.length + s.waitsUnmatched + pending,
        totalMs: waitTotalUs / 1000,
        maxMs: s.waitUs.length === 0 ? 0 : Math.max(...s.waitUs) / 1000,
        pending,
        by: [...s.waitsBy.values()].sort(byCount).map((b) => ({
          pid: b.pid,
          comm: b.comm,
          count: b.count,
          totalMs: b.totalUs / 1000,
          maxMs: b.maxUs / 1000,
        })),
      },
      callbacks: {
        count: s.callbacks,
        by: [...s.callbacksBy.values()].sort(byCount).map((b) => ({
          pid: b.pid,
          comm: b.comm,
          count: b.count,
        })),
      },
      pids: [...s.pids].sort((a, b) => a - b),
    };
  }
}
