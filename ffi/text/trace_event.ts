/**
 * Parser of `trace_pipe` lines (the default text output of ftrace, `kernel/trace/trace_output.c`) for the
 * events `dmabuf trace` records:
 *
 * - `dma_fence/*` (`include/trace/events/dma_fence.h`, identical TP_printk in 6.1 and 6.12):
 *   `driver=%s timeline=%s context=%u seqno=%u`.
 * - `sync_trace/sync_timeline` (`drivers/dma-buf/sync_trace.h`): `name=%s value=%d`. sw_sync traces it in
 *   `sync_timeline_signal` *before* adding the increment, so `value` is the timeline's value before the step.
 * - `dma_buf/*` (after 6.18; the format changed between patch revisions): kept as `key=value` fields.
 *
 * A line reads `<comm>-<pid> [(<tgid>)] [<cpu>] <flags> <seconds>.<micros>: <event>: <fields>`, where comm
 * is right-aligned to 16 columns and may itself contain spaces and dashes (`kworker/u4:2-events_unbound`),
 * so the pid is the last `-<digits>` before the CPU field. The ring buffer reports overruns as
 * `CPU:<n> [LOST <count> EVENTS]`.
 * @module
 */

/** The `dma_fence` events, by the part of their name after `dma_fence_`. */
export const FENCE_EVENTS = [
  "init",
  "emit",
  "enable_signal",
  "signaled",
  "wait_start",
  "wait_end",
  "destroy",
] as const;

/** A `dma_fence` event name without its `dma_fence_` prefix. */
export type FenceEventName = typeof FENCE_EVENTS[number];

/** What every traced line carries in its header. */
export interface EventHeader {
  /** The task's comm (`deno`, `<idle>`, `<...>` when ftrace no longer knows it). */
  comm: string;
  /** The thread id. */
  pid: number;
  /** The thread group id when the `record-tgid` option printed it, else null. */
  tgid: number | null;
  /** The CPU. */
  cpu: number;
  /** The latency flags field as printed (`d..2.`). */
  flags: string;
  /** The timestamp in microseconds of the trace clock (`local`: CLOCK_MONOTONIC-like, per CPU). */
  timestampUs: number;
  /** The event's name as printed (`dma_fence_init`). */
  event: string;
}

/** A `dma_fence_*` event. */
export interface FenceEvent extends EventHeader {
  readonly kind: "fence";
  /** `init`, `signaled`, ... */
  name: FenceEventName;
  /** The fence's driver (`sw_sync`, `drm_sched`; `detached-driver` for a signalled fence on 6.17+). */
  driver: string;
  /** The fence's timeline name. */
  timeline: string;
  /** The fence context (unique per timeline). */
  context: number;
  /** The sequence number on that context. */
  seqno: number;
}

/** A `sync_timeline` event (sw_sync advancing a timeline). */
export interface TimelineEvent extends EventHeader {
  readonly kind: "timeline";
  /** The timeline's name (sw_sync: the comm of the process that opened it). */
  name: string;
  /** The timeline value before the increment being applied. */
  value: number;
}

/**
 * A `dma_buf_*` event (after 6.18; `include/trace/events/dma_buf.h` of 7.2: `export`, `mmap_internal`, `mmap`,
 * `put` print `exp_name=%s size=%zu ino=%lu`; `fd` and `get` add ` fd=%d`; `dynamic_attach` and `detach` add
 * ` attachment:%p is_dynamic=%d dev_name=%s`), with the buffer's identity read out of its fields.
 */
export interface DmaBufEvent extends EventHeader {
  readonly kind: "dma_buf";
  /** The event name without `dma_buf_` (`export`, `fd`, `mmap`, ...). */
  name: string;
  /** The fields as printed, e.g. `{exp_name: "system", size: "4096", ino: "12"}`. */
  fields: Record<string, string>;
  /** The buffer's inode number (`ino=`), the key that joins it to bufinfo and stat; null when not printed. */
  inode: number | null;
  /** The exporter (`exp_name=`), or null. */
  exporter: string | null;
  /** The size in bytes (`size=`), or null. */
  size: number | null;
  /** The fd (`fd=`, events `fd` and `get`), or null. */
  fd: number | null;
  /** The attached device (`dev_name=`, events `dynamic_attach` and `detach`), or null. */
  device: string | null;
}

/** Any other event line: kept whole so that nothing is silently lost. */
export interface OtherEvent extends EventHeader {
  readonly kind: "other";
  /** The text after `<event>: `. */
  text: string;
}

/** A ring-buffer overrun report: events the kernel dropped because the reader fell behind. */
export interface LostEvents {
  readonly kind: "lost";
  /** The CPU whose buffer overran. */
  cpu: number;
  /** How many events were dropped. */
  count: number;
}

/** A parsed `trace_pipe` line. */
export type TraceEvent = FenceEvent | TimelineEvent | DmaBufEvent | OtherEvent;

/** What {@link parseTraceLine} returns for a line it understands. */
export type TraceRecord = TraceEvent | LostEvents;

const HEADER =
  /^\s*(.*)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:(\S+)\s+)?(\d+)(?:\.(\d+))?:\s+([A-Za-z0-9_]+):\s?(.*)$/;
const LOST = /^CPU:(\d+) \[LOST (\d+) EVENTS\]$/;
// Strings come first and are printed unescaped, so they are matched lazily up to the next known key; the
// numbers at the end anchor the match.
const FENCE_FIELDS = /^driver=(.*?) timeline=(.*) context=(\d+) seqno=(\d+)$/;
const TIMELINE_FIELDS = /^name=(.*) value=(-?\d+)$/;
const KEY = /(?:^| )([A-Za-z_][A-Za-z0-9_]*)=/g;

/** The microseconds of a `seconds.fraction` timestamp (fraction of any length; the default prints 6). */
function timestampUs(seconds: string, fraction: string | undefined): number {
  if (fraction === undefined) return Number(seconds);
  const micros = (fraction + "000000").slice(0, 6);
  return Number(seconds) * 1_000_000 + Number(micros);
}

/**
 * The `key=value` fields of an event's text; a value runs to the next ` key=` (so values may contain spaces).
 * Text before the first key is ignored.
 */
export function parseFields(text: string): Record<string, string> {
  const keys: { key: string; start: number; valueStart: number }[] = [];
  for (const match of text.matchAll(KEY)) {
    keys.push({ key: match[1]!, start: match.index!, valueStart: match.index! + match[0].length });
  }
  const out: Record<string, string> = {};
  keys.forEach((entry, i) => {
    const end = i + 1 < keys.length ? keys[i + 1]!.start : text.length;
    out[entry.key] = text.slice(entry.valueStart, end);
  });
  return out;
}

function isFenceEventName(name: string): name is FenceEventName {
  return (FENCE_EVENTS as readonly string[]).includes(name);
}

/**
 * Parses one `trace_pipe` line. Returns null for blank lines, comment lines (`# ...`) and anything that
 * is not an event line; a `dma_fence_*` or `sync_timeline` line whose fields do not match its format becomes
 * an `other` event rather than being dropped.
 */
export function parseTraceLine(line: string): TraceRecord | null {
  const trimmed = line.replace(/\r?\n$/, "");
  if (trimmed.trim() === "" || trimmed.startsWith("#")) return null;
  const lost = LOST.exec(trimmed.trim());
  if (lost !== null) return { kind: "lost", cpu: Number(lost[1]), count: Number(lost[2]) };
  const m = HEADER.exec(trimmed);
  if (m === null) return null;
  const header: EventHeader = {
    comm: m[1]!.trim(),
    pid: Number(m[2]),
    tgid: m[3] === undefined || !/^\d+$/.test(m[3]) ? null : Number(m[3]),
    cpu: Number(m[4]),
    flags: m[5] ?? "",
    timestampUs: timestampUs(m[6]!, m[7]),
    event: m[8]!,
  };
  const text = m[9]!;
  if (header.event.startsWith("dma_fence_")) {
    const name = header.event.slice("dma_fence_".length);
    const f = FENCE_FIELDS.exec(text);
    if (isFenceEventName(name) && f !== null) {
      return {
        ...header,
        kind: "fence",
        name,
        driver: f[1]!,
        timeline: f[2]!,
        context: Number(f[3]),
        seqno: Number(f[4]),
      };
    }
  } else if (header.event === "sync_timeline") {
    const t = TIMELINE_FIELDS.exec(text);
    if (t !== null) return { ...header, kind: "timeline", name: t[1]!, value: Number(t[2]) };
  } else if (header.event.startsWith("dma_buf_")) {
    const fields = parseFields(text);
    const number = (value: string | undefined) => {
      const digits = value === undefined ? null : /^-?\d+/.exec(value);
      return digits === null ? null : Number(digits[0]);
    };
    return {
      ...header,
      kind: "dma_buf",
      name: header.event.slice("dma_buf_".length),
      fields,
      // `ino=%lu attachment:%p ...`: the attachment pointer is no key=value field, so it trails the inode.
      inode: number(fields.ino),
      exporter: fields.exp_name ?? null,
      size: number(fields.size),
      fd: number(fields.fd),
      device: fields.dev_name ?? null,
    };
  }
  return { ...header, kind: "other", text };
}

/**
 * Splits a stream of `trace_pipe` text into lines across reads: `push` returns the complete lines of what has
 * arrived so far and keeps a partial last line for the next read.
 */
export class LineSplitter {
  #rest = "";

  /** Adds text, returning the complete lines (without newlines). */
  push(text: string): string[] {
    const joined = this.#rest + text;
    const lines = joined.split("\n");
    this.#rest = lines.pop() ?? "";
    return lines;
  }

  /** The partial line left over (the stream ended without a newline). */
  flush(): string[] {
    const rest = this.#rest;
    this.#rest = "";
    return rest === "" ? [] : [rest];
  }
}
