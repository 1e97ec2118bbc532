/**
 * The floor of `stat --input`'s job in this runtime, for `deno task bench:cold`: a bufinfo read as bytes into
 * typed arrays (no object or string per buffer), sorted through an index array, and written as an aligned
 * table of bytes in 64 KiB pieces (no string per row). Not dmabuf code and not its output: it does less than
 * `stat` (no escaping, no totals, counts instead of device names and fence summaries, no `unparsed` lines),
 * so what it costs — time and peak memory over an empty `deno run` — is the least any implementation of the
 * 10,000-buffer job can cost in a fresh Deno process on this machine.
 *
 *     deno run --allow-read tests/bench/stat_floor.ts BUFINFO > /dev/null
 *
 * It reads only well-formed v5.19+ rows (what `makeBufinfo` writes).
 * @module
 */

const TAB = 9;
const NEWLINE = 10;
const SPACE = 32;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const UPPER_A = 65;
const LOWER_U = 117;

/** The buffers as columns: one typed array per field, names and exporters as byte ranges of the input. */
class Columns {
  length = 0;
  size = new Float64Array(1024);
  inode = new Float64Array(1024);
  count = new Float64Array(1024);
  exporter = new Uint8Array(1024);
  nameStart = new Int32Array(1024);
  nameEnd = new Int32Array(1024);
  fences = new Uint16Array(1024);
  unsignalled = new Uint16Array(1024);
  attachments = new Uint16Array(1024);

  /** Makes room for one more buffer. */
  reserve(): void {
    if (this.length < this.size.length) return;
    const grow = <T extends Float64Array | Int32Array | Uint16Array | Uint8Array>(from: T): T => {
      const to = new (from.constructor as new (n: number) => T)(from.length * 2);
      to.set(from);
      return to;
    };
    this.size = grow(this.size);
    this.inode = grow(this.inode);
    this.count = grow(this.count);
    this.exporter = grow(this.exporter);
    this.nameStart = grow(this.nameStart);
    this.nameEnd = grow(this.nameEnd);
    this.fences = grow(this.fences);
    this.unsignalled = grow(this.unsignalled);
    this.attachments = grow(this.attachments);
  }
}

/** The decimal number at `at`, up to the next TAB; returns the value and moves `cursor.at` past the TAB. */
function decimal(src: Uint8Array, cursor: { at: number }): number {
  let at = cursor.at;
  let value = 0;
  for (let c = src[at]!; c >= DIGIT_0 && c <= DIGIT_9; c = src[++at]!) value = value * 10 + c - DIGIT_0;
  cursor.at = at + 1;
  return value;
}

function skipField(src: Uint8Array, cursor: { at: number }): void {
  cursor.at = src.indexOf(TAB, cursor.at) + 1;
}

function parse(src: Uint8Array, exporters: Uint8Array[]): Columns {
  const columns = new Columns();
  const cursor = { at: 0 };
  let inAttachments = false;
  for (let start = 0; start < src.length;) {
    let end = src.indexOf(NEWLINE, start);
    if (end < 0) end = src.length;
    const first = src[start]!;
    const last = columns.length - 1;
    if (first >= DIGIT_0 && first <= DIGIT_9) {
      columns.reserve();
      const i = columns.length++;
      cursor.at = start;
      columns.size[i] = decimal(src, cursor);
      skipField(src, cursor); // flags
      skipField(src, cursor); // mode
      columns.count[i] = decimal(src, cursor);
      const exporterStart = cursor.at;
      const exporterEnd = src.indexOf(TAB, exporterStart);
      let e = 0;
      for (; e < exporters.length; e++) {
        const known = exporters[e]!;
        if (known.length !== exporterEnd - exporterStart) continue;
        let same = 0;
        while (same < known.length && known[same] === src[exporterStart + same]) same++;
        if (same === known.length) break;
      }
      if (e === exporters.length) exporters.push(src.subarray(exporterStart, exporterEnd));
      columns.exporter[i] = e;
      cursor.at = exporterEnd + 1;
      columns.inode[i] = decimal(src, cursor);
      columns.nameStart[i] = cursor.at;
      columns.nameEnd[i] = end;
      inAttachments = false;
    } else if (first === TAB && last >= 0) {
      if (inAttachments) columns.attachments[last]!++;
      else if (src[start + 1] === UPPER_A) inAttachments = true;
      else {
        columns.fences[last]!++;
        // "... unsignalled" against "... signalled": the letter 11 before the end.
        if (src[end - 11] === LOWER_U) columns.unsignalled[last]!++;
      }
    }
    start = end + 1;
  }
  return columns;
}

/** Writes bytes to stdout in pieces. */
class ByteWriter {
  readonly #buffer = new Uint8Array(64 * 1024);
  #at = 0;

  /** Makes sure `room` bytes fit before the next flush. */
  room(bytes: number): void {
    if (this.#at + bytes > this.#buffer.length) this.flush();
  }

  byte(value: number): void {
    this.#buffer[this.#at++] = value;
  }

  bytes(from: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end; i++) this.#buffer[this.#at++] = from[i]!;
  }

  spaces(count: number): void {
    for (let i = 0; i < count; i++) this.#buffer[this.#at++] = SPACE;
  }

  /** `value` in decimal, right-aligned in `width`. */
  number(value: number, width: number): void {
    const digits = digitCount(value);
    this.spaces(width - digits);
    let at = this.#at + digits - 1;
    let rest = value;
    do {
      this.#buffer[at--] = DIGIT_0 + rest % 10;
      rest = Math.floor(rest / 10);
    } while (rest > 0);
    this.#at += digits;
  }

  flush(): void {
    for (let done = 0; done < this.#at;) done += Deno.stdout.writeSync(this.#buffer.subarray(done, this.#at));
    this.#at = 0;
  }
}

function digitCount(value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

const UNIT_LETTERS = [0, 75, 77, 71, 84]; // -, K, M, G, T

/** A size as `N unit` or `N.N unit` (binary units), right-aligned in `width`. */
function writeSize(out: ByteWriter, bytes: number, width: number): void {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNIT_LETTERS.length - 1) {
    value /= 1024;
    unit++;
  }
  const tenths = Math.round(value * 10);
  const whole = Math.floor(tenths / 10);
  const fraction = tenths % 10;
  const length = digitCount(whole) + (fraction === 0 ? 0 : 2) + (unit === 0 ? 2 : 4);
  out.spaces(width - length);
  out.number(whole, 0);
  if (fraction !== 0) {
    out.byte(46); // .
    out.byte(DIGIT_0 + fraction);
  }
  out.byte(SPACE);
  if (unit === 0) out.byte(66); // B
  else {
    out.byte(UNIT_LETTERS[unit]!);
    out.byte(105); // i
    out.byte(66); // B
  }
}

const SIZE_WIDTH = 9;

const src = Deno.readFileSync(Deno.args[0]!);
const exporters: Uint8Array[] = [];
const columns = parse(src, exporters);
const order = new Uint32Array(columns.length);
for (let i = 0; i < order.length; i++) order[i] = i;
order.sort((a, b) => columns.size[b]! - columns.size[a]! || columns.inode[a]! - columns.inode[b]!);

let inodeWidth = 5;
let nameWidth = 4;
let exporterWidth = 8;
for (let i = 0; i < columns.length; i++) {
  inodeWidth = Math.max(inodeWidth, digitCount(columns.inode[i]!));
  nameWidth = Math.max(nameWidth, columns.nameEnd[i]! - columns.nameStart[i]!);
}
for (const name of exporters) exporterWidth = Math.max(exporterWidth, name.length);

const out = new ByteWriter();
for (const i of order) {
  out.room(inodeWidth + nameWidth + exporterWidth + 64);
  out.number(columns.inode[i]!, inodeWidth);
  out.spaces(2);
  writeSize(out, columns.size[i]!, SIZE_WIDTH);
  out.spaces(2);
  const exporter = exporters[columns.exporter[i]!]!;
  out.bytes(exporter, 0, exporter.length);
  out.spaces(exporterWidth - exporter.length + 2);
  out.bytes(src, columns.nameStart[i]!, columns.nameEnd[i]!);
  out.spaces(nameWidth - (columns.nameEnd[i]! - columns.nameStart[i]!) + 2);
  out.number(columns.count[i]!, 5);
  out.spaces(2);
  out.number(columns.attachments[i]!, 3);
  out.spaces(2);
  out.number(columns.fences[i]!, 1);
  out.byte(SPACE);
  out.number(columns.unsignalled[i]!, 1);
  out.byte(NEWLINE);
}
out.flush();
