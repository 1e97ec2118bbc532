/**
 * Parser of `<debugfs>/dma_buf/bufinfo` (`drivers/dma-buf/dma-buf.c` `dma_buf_debug_show`) in every format the
 * kernel has printed:
 *
 * - v5.10–v5.15: header without a `name` column, each row still ends with `\t<name>` (empty when unnamed, so
 *   a trailing TAB), fences as `\tExclusive fence: <driver> <timeline> [un]signalled` and `\tShared fence: ...`;
 * - v5.16–v5.18: `dma_resv_describe`: `\tExclusive fence:<driver> <timeline> seq <n> [un]signalled`;
 * - v5.19–v6.16: header gains `\tname`, unnamed buffers print `<none>`, fences are prefixed with their usage
 *   (`kernel`, `write`, `read`);
 * - v6.17+: signalled fences print the placeholders `detached-driver` / `signaled-timeline`;
 * - `context:seqno` (seen on 7.2; the first kernel to print it is not known here): `dma_fence_describe` prints
 *   `\t<usage> fence:<context>:<seqno> <timeline> <driver> [un]signalled`, timeline BEFORE driver, and both
 *   names empty once the fence signalled (`\twrite fence:1:1   signalled`). A timeline name may hold spaces,
 *   so the driver is the last word before the state.
 *
 * Numbers stay exact: a fence's context and seqno (u64) beyond 2^53 come back as BigInt; a row whose size,
 * inode or count is beyond 2^53 cannot be a real buffer and is reported in `unparsed` with the reason.
 *
 * Also accepted: copies whose TABs became spaces (bug reports, chat), CRLF line ends, names with spaces, TABs
 * or a newline (bufinfo does not escape them), exporters with commas (`linux,cma`), numbers wider than the
 * `%08` minimum. The parser never throws: what it cannot read is returned in `unparsed` with line numbers.
 * @module
 */

/** The bufinfo format generation, as far as the text shows it (a list without fences is ambiguous). */
export type BufinfoGeneration =
  | "v5.10-v5.15"
  | "v5.16-v5.18"
  | "v5.10-v5.18"
  | "v5.19-v6.16"
  | "v6.17+"
  | "context:seqno"
  | "v5.19+"
  | "unknown";

/** One fence of a buffer's reservation object. */
export interface BufinfoFence {
  /** `kernel`, `write`, `read` (5.19+) or `exclusive`, `shared` (before 5.19). */
  usage: string;
  /** Fence driver name; null when the kernel no longer names it (6.17+ placeholder or empty once signalled). */
  driver: string | null;
  /** Timeline name; null when the kernel no longer names it (as for `driver`). */
  timeline: string | null;
  /** Fence context (the timeline's id, `dma_fence_context_alloc`); null where not printed (before 7.2's format). */
  context: number | bigint | null;
  /** Sequence number; null before 5.16 (not printed). A BigInt when beyond 2^53. */
  seq: number | bigint | null;
  /** Whether the fence has signalled. */
  signalled: boolean;
}

/** One dma-buf as bufinfo shows it. */
export interface BufinfoBuffer {
  /** Inode number (`file_inode(file)->i_ino`). */
  inode: number;
  /** Size in bytes. */
  size: number;
  /** Exporter name (`exp_name`), e.g. `system`, `linux,cma`, `udmabuf`, `drm`. */
  exporter: string;
  /** Name set with `DMA_BUF_SET_NAME`; null when unnamed (`<none>`, or an empty field before 5.19). */
  name: string | null;
  /** Raw `file_count(file)`: fds in every process + mmaps + kernel references. */
  count: number;
  /** `file->f_flags` (e.g. 2 = `O_RDWR`). */
  flags: number;
  /** `file->f_mode` (e.g. 0x80007 for a read-write dma-buf). */
  mode: number;
  /** Names of the devices attached (`dev_name`), in bufinfo order. */
  attachments: string[];
  /** Fences, in bufinfo order. */
  fences: BufinfoFence[];
}

/** The `Total %d objects, %zu bytes` line. */
export interface BufinfoTotals {
  /** Number of buffers the kernel counted. */
  objects: number;
  /** Sum of their sizes (a BigInt when beyond 2^53). */
  bytes: number | bigint;
}

/** A line the parser could not read. */
export interface UnparsedLine {
  /** 1-based line number. */
  line: number;
  /** The line as it was. */
  text: string;
  /** Why, when the line has the shape of a row but cannot be one (a number beyond 2^53). */
  reason?: string;
}

/** What {@link parseBufinfo} found. */
export interface Bufinfo {
  /** Whether the text looks like bufinfo at all (a `Dma-buf Objects:` line, the header, or a buffer row). */
  recognized: boolean;
  /** The format generation the text shows. */
  generation: BufinfoGeneration;
  /** The buffers, in bufinfo order (newest first). */
  buffers: BufinfoBuffer[];
  /** The final totals line; null when missing (a truncated file). */
  totals: BufinfoTotals | null;
  /** Lines not understood. */
  unparsed: UnparsedLine[];
}

/** The 6.17+ placeholders `dma_fence_driver_name`/`dma_fence_timeline_name` return once a fence signalled. */
const PLACEHOLDER_DRIVER = "detached-driver";
const PLACEHOLDER_TIMELINE = "signaled-timeline";

const OBJECTS_LINE = "Dma-buf Objects:";
const ATTACHED_LINE = "Attached Devices:";
/** The attachments header as the kernel prints it. */
const ATTACHED_ROW = `\t${ATTACHED_LINE}`;
const HEADER = /^\s*size\s+flags\s+mode\s+count\s+exp_name\s+ino(\s+name)?\s*$/;
// A row whose TABs were turned into runs of spaces: the exporter is one token, the name the rest.
const SPACED_ROW = /^(\d+) +([0-9a-fA-F]+) +([0-9a-fA-F]+) +(\d+) +(\S+) +(\d+)(?: +(.*?))? *$/;
const FENCE = /^\s*([A-Za-z]+) fence:(.*)$/;
const FENCE_WITH_SEQ = /^(\S*) (.*) seq (\d+) (un)?signalled$/;
const FENCE_NO_SEQ = /^(\S*) (.*) (un)?signalled$/;
const FENCE_CONTEXT_SEQNO = /^(\d+):(\d+) (.*) (\S*) (un)?signalled$/;
const DEVICES_TOTAL = /^Total (\d+) devices attached\s*$/;
const OBJECTS_TOTAL = /^Total (\d+) objects, (\d+) bytes\s*$/;
const USAGE_NAMES = new Set(["kernel", "write", "read", "bookkeep"]);

/** A buffer row's fields, numbers already read. */
interface RowFields {
  size: number;
  flags: number;
  mode: number;
  count: number;
  exporter: string;
  inode: number;
  name: string;
}

/** The most digits {@link numberAt} adds up itself: below 2^53 in both bases, so exact. */
const EXACT_DECIMAL_DIGITS = 15;
const EXACT_HEX_DIGITS = 13;

/** {@link numberAt}'s answer for digits whose value is beyond 2^53 (not exact as a Number). */
const TOO_BIG = -2;

/**
 * The number `text[start, end)` spells in base 10 or 16, read in place without a substring; -1 when the
 * range is empty or holds anything but ASCII digits (hex digits with `hex`), {@link TOO_BIG} when it is
 * beyond `Number.MAX_SAFE_INTEGER`.
 */
function numberAt(text: string, start: number, end: number, hex: boolean): number {
  if (start >= end) return -1;
  const base = hex ? 16 : 10;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    let digit: number;
    if (c >= DIGIT_0 && c <= DIGIT_9) digit = c - DIGIT_0;
    else if (hex && c >= LOWER_A && c <= LOWER_F) digit = c - LOWER_A + 10;
    else if (hex && c >= UPPER_A && c <= UPPER_F) digit = c - UPPER_A + 10;
    else return -1;
    value = value * base + digit;
  }
  if (end - start <= (hex ? EXACT_HEX_DIGITS : EXACT_DECIMAL_DIGITS)) return value;
  const exact = BigInt(`${hex ? "0x" : ""}${text.slice(start, end)}`);
  return exact <= MAX_SAFE ? Number(exact) : TOO_BIG;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A decimal u64 as a Number when that is exact, else as a BigInt. */
function exactInteger(digits: string): number | bigint {
  if (digits.length <= EXACT_DECIMAL_DIGITS) return Number(digits);
  const value = BigInt(digits);
  return value <= MAX_SAFE ? Number(value) : value;
}

/**
 * The TABs of one text, found by indexOf and remembered: a row's search that runs past its line (in a copy
 * whose TABs became spaces it runs to the next TAB anywhere) is not repeated by the rows before that TAB, so
 * a text with few TABs is still read in one pass rather than once per row.
 */
class Tabs {
  readonly #text: string;
  /** The first TAB at or after #from is #at (-1: none). */
  #from = 0;
  #at: number;

  constructor(text: string) {
    this.#text = text;
    this.#at = text.indexOf("\t");
  }

  /** The first TAB of `text[from, end)`; -1 when there is none. */
  in(from: number, end: number): number {
    if (from < this.#from || (this.#at >= 0 && this.#at < from)) {
      this.#from = from;
      this.#at = this.#text.indexOf("\t", from);
    }
    return this.#at >= 0 && this.#at < end ? this.#at : -1;
  }
}

/** What {@link splitRow} returns for a line shaped like a row whose size, inode or count is beyond 2^53. */
const ROW_TOO_BIG = "too big";
const TOO_BIG_REASON = "a size, count or inode beyond 2^53 cannot be a real buffer";

/** The row in `text[start, end)`, read in place; null when it is not one. */
function splitRow(
  text: string,
  tabs: Tabs,
  start: number,
  end: number,
): RowFields | null | typeof ROW_TOO_BIG {
  // TAB-separated, as the kernel prints it: found by indexOf rather than split(), so a 10,000-row bufinfo
  // does not make 70,000 throwaway strings (the name is everything after the sixth TAB, TABs included; a
  // missing trailing TAB means "").
  const t1 = tabs.in(start, end);
  const t2 = t1 < 0 ? -1 : tabs.in(t1 + 1, end);
  const t3 = t2 < 0 ? -1 : tabs.in(t2 + 1, end);
  const t4 = t3 < 0 ? -1 : tabs.in(t3 + 1, end);
  const t5 = t4 < 0 ? -1 : tabs.in(t4 + 1, end);
  if (t5 >= 0) {
    const t6 = tabs.in(t5 + 1, end);
    const inodeEnd = t6 < 0 ? end : t6;
    const size = numberAt(text, start, t1, false);
    const flags = numberAt(text, t1 + 1, t2, true);
    const mode = numberAt(text, t2 + 1, t3, true);
    const count = numberAt(text, t3 + 1, t4, false);
    const inode = numberAt(text, t5 + 1, inodeEnd, false);
    if (size >= 0 && flags >= 0 && mode >= 0 && count >= 0 && inode >= 0) {
      const exporter = text.slice(t4 + 1, t5);
      return { size, flags, mode, count, exporter, inode, name: t6 < 0 ? "" : text.slice(t6 + 1, end) };
    }
    if ([size, flags, mode, count, inode].every((n) => n >= 0 || n === TOO_BIG)) return ROW_TOO_BIG;
  }
  const line = text.slice(start, end);
  const spaced = SPACED_ROW.exec(line);
  if (spaced === null) return null;
  const [size, flags, mode, count, inode] = [1, 2, 3, 4, 6].map((group) =>
    numberAt(spaced[group]!, 0, spaced[group]!.length, group === 2 || group === 3)
  ) as [number, number, number, number, number];
  if (size < 0 || flags < 0 || mode < 0 || count < 0 || inode < 0) return ROW_TOO_BIG;
  return { size, flags, mode, count, exporter: spaced[5]!, inode, name: spaced[7] ?? "" };
}

function knownName(name: string): string | null {
  return name === "" || name === PLACEHOLDER_DRIVER || name === PLACEHOLDER_TIMELINE ? null : name;
}

/** Fence shapes seen, for the generation guess. */
interface Seen {
  header: boolean;
  nameColumn: boolean;
  spaceAfterColon: boolean;
  seq: boolean;
  usageNames: boolean;
  newestNames: boolean;
  contextSeqno: boolean;
  namedSignalled: boolean;
  noneName: boolean;
}

function parseFence(usageWord: string, body: string, seen: Seen): BufinfoFence | null {
  const usage = usageWord.toLowerCase();
  const spaced = body.startsWith(" ");
  const text = spaced ? body.slice(1) : body;
  let fence: BufinfoFence | null = null;
  const withContext = USAGE_NAMES.has(usage) ? FENCE_CONTEXT_SEQNO.exec(text) : null;
  if (withContext !== null) {
    seen.contextSeqno = true;
    fence = {
      usage,
      driver: knownName(withContext[4]!),
      timeline: knownName(withContext[3]!),
      context: exactInteger(withContext[1]!),
      seq: exactInteger(withContext[2]!),
      signalled: withContext[5] === undefined,
    };
  } else {
    const withSeq = FENCE_WITH_SEQ.exec(text);
    if (withSeq !== null) {
      seen.seq = true;
      fence = {
        usage,
        driver: knownName(withSeq[1]!),
        timeline: knownName(withSeq[2]!),
        context: null,
        seq: exactInteger(withSeq[3]!),
        signalled: withSeq[4] === undefined,
      };
    } else {
      const noSeq = FENCE_NO_SEQ.exec(text);
      if (noSeq === null) return null;
      fence = {
        usage,
        driver: knownName(noSeq[1]!),
        timeline: knownName(noSeq[2]!),
        context: null,
        seq: null,
        signalled: noSeq[3] === undefined,
      };
    }
    if (fence.driver === null && fence.timeline === null && fence.signalled) seen.newestNames = true;
    else if (fence.signalled) seen.namedSignalled = true;
  }
  if (spaced) seen.spaceAfterColon = true;
  if (USAGE_NAMES.has(usage)) seen.usageNames = true;
  return fence;
}

function generationOf(seen: Seen): BufinfoGeneration {
  const newer = seen.nameColumn || seen.usageNames || seen.noneName;
  if (newer) {
    if (seen.contextSeqno) return "context:seqno";
    if (seen.newestNames) return "v6.17+";
    if (seen.namedSignalled) return "v5.19-v6.16";
    return "v5.19+";
  }
  if (!seen.header) return "unknown";
  if (seen.spaceAfterColon && !seen.seq) return "v5.10-v5.15";
  if (seen.seq) return "v5.16-v5.18";
  return "v5.10-v5.18";
}

type State = "between" | "fences" | "attachments";

const CR = 13;
const TAB = 9;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const UPPER_A = 65;
const UPPER_F = 70;
const LOWER_A = 97;
const LOWER_F = 102;
const UPPER_T = 84;

const TOTAL = "Total ";
/** How a `Total %d devices attached` line ends. */
const DEVICES_TAIL = " devices attached";

/** One string per exporter name however many buffers it exported: the copies die young. */
type Interned = Map<string, string>;

/**
 * The empty attachment and fence list of every buffer that has none (most of them): one frozen array, not two
 * per buffer, and replaced by a list of its own at the first entry ({@link addFence}). Frozen, so a caller
 * that pushes to it fails loudly instead of giving every buffer the entry.
 */
const NONE = Object.freeze([]) as unknown as never[];

function makeBuffer(row: RowFields, seen: Seen, exporters: Interned): BufinfoBuffer {
  let exporter = exporters.get(row.exporter);
  if (exporter === undefined) exporters.set(row.exporter, exporter = row.exporter);
  let name: string | null = row.name;
  if (name === "<none>") {
    seen.noneName = true;
    name = null;
  } else if (name === "" && !seen.nameColumn) {
    name = null;
  }
  return {
    inode: row.inode,
    size: row.size,
    exporter,
    name,
    count: row.count,
    flags: row.flags,
    mode: row.mode,
    attachments: NONE,
    fences: NONE,
  };
}

/** Adds a fence: the first one replaces the shared empty list. */
function addFence(buffer: BufinfoBuffer, fence: BufinfoFence): void {
  if (buffer.fences === NONE) buffer.fences = [fence];
  else buffer.fences.push(fence);
}

/** Adds an attached device: the first one replaces the shared empty list. */
function addAttachment(buffer: BufinfoBuffer, device: string): void {
  if (buffer.attachments === NONE) buffer.attachments = [device];
  else buffer.attachments.push(device);
}

/**
 * Parses bufinfo text. Never throws; lines it cannot read are listed in `unparsed`, and text that is not
 * bufinfo at all comes back with `recognized: false`.
 */
export function parseBufinfo(text: string): Bufinfo {
  const buffers: BufinfoBuffer[] = [];
  const unparsed: UnparsedLine[] = [];
  const exporters: Interned = new Map();
  let totals: BufinfoTotals | null = null;
  let objectsLine = false;
  let state: State = "between";
  let current: BufinfoBuffer | null = null;
  let justAfterRow = false;
  const seen: Seen = {
    header: false,
    nameColumn: false,
    spaceAfterColon: false,
    seq: false,
    usageNames: false,
    newestNames: false,
    contextSeqno: false,
    namedSignalled: false,
    noneName: false,
  };
  // Lines by indexOf rather than split(), read in place: the lines that make up almost all of a bufinfo (rows,
  // the attachments header, device totals, blank lines) never become strings of their own.
  const tabs = new Tabs(text);
  let lineNumber = 0;
  for (let start = 0; start < text.length;) {
    const lineStart = start;
    const newline = text.indexOf("\n", start);
    let end = newline < 0 ? text.length : newline;
    start = end + 1;
    lineNumber++;
    if (end > lineStart && text.charCodeAt(end - 1) === CR) end--;
    const afterRow = justAfterRow;
    justAfterRow = false;
    if (end === lineStart) continue;
    const first = text.charCodeAt(lineStart);
    // Fast paths: rows, fences, the attachments header, device lines and device totals.
    if (first >= DIGIT_0 && first <= DIGIT_9) {
      const row = splitRow(text, tabs, lineStart, end);
      if (row === ROW_TOO_BIG) {
        unparsed.push({ line: lineNumber, text: text.slice(lineStart, end), reason: TOO_BIG_REASON });
        current = null;
        state = "between";
        continue;
      }
      if (row !== null) {
        current = makeBuffer(row, seen, exporters);
        buffers.push(current);
        state = "fences";
        justAfterRow = true;
        continue;
      }
    } else if (current !== null && first === TAB && state === "fences") {
      if (end - lineStart === ATTACHED_ROW.length && text.startsWith(ATTACHED_ROW, lineStart)) {
        state = "attachments";
        continue;
      }
      const fenceLine = FENCE.exec(text.slice(lineStart, end));
      const fence = fenceLine === null ? null : parseFence(fenceLine[1]!, fenceLine[2]!, seen);
      if (fence !== null) {
        addFence(current, fence);
        continue;
      }
    } else if (current !== null && first === TAB && state === "attachments") {
      addAttachment(current, text.slice(lineStart, end).trim());
      continue;
    } else if (
      current !== null && first === UPPER_T && text.startsWith(TOTAL, lineStart) &&
      text.endsWith(DEVICES_TAIL, end) &&
      numberAt(text, lineStart + TOTAL.length, end - DEVICES_TAIL.length, false) >= 0
    ) {
      state = "between";
      continue;
    }
    const line = text.slice(lineStart, end);
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (trimmed === OBJECTS_LINE) {
      objectsLine = true;
      continue;
    }
    if (trimmed.startsWith("size")) {
      const header = HEADER.exec(line);
      if (header !== null) {
        seen.header = true;
        seen.nameColumn = header[1] !== undefined;
        continue;
      }
    }
    if (trimmed.startsWith(TOTAL)) {
      const objects = OBJECTS_TOTAL.exec(trimmed);
      if (objects !== null) {
        totals = { objects: Number(objects[1]), bytes: exactInteger(objects[2]!) };
        state = "between";
        current = null;
        continue;
      }
      if (current !== null && DEVICES_TOTAL.test(trimmed)) {
        state = "between";
        continue;
      }
    }
    if (current !== null && trimmed === ATTACHED_LINE) {
      state = "attachments";
      continue;
    }
    if (current !== null && state === "attachments" && /^\s/.test(line)) {
      addAttachment(current, trimmed);
      continue;
    }
    if (current !== null && state === "fences") {
      const fenceLine = FENCE.exec(line);
      const fence = fenceLine === null ? null : parseFence(fenceLine[1]!, fenceLine[2]!, seen);
      if (fence !== null) {
        addFence(current, fence);
        continue;
      }
      // bufinfo prints names unescaped: a line right after a row that is none of the above continues the name.
      if (afterRow && !/^\s/.test(line)) {
        current.name = `${current.name ?? ""}\n${line}`;
        justAfterRow = true;
        continue;
      }
    }
    unparsed.push({ line: lineNumber, text: line });
  }
  const recognized = objectsLine || seen.header || buffers.length > 0;
  return { recognized, generation: recognized ? generationOf(seen) : "unknown", buffers, totals, unparsed };
}
