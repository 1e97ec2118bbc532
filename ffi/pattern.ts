/**
 * Byte patterns written into and checked against buffers. Every pattern is a function of the absolute byte
 * offset in the buffer, so a range can be verified without the rest, and by another process.
 * @module
 */

/** A fill or verify pattern. */
export type Pattern =
  | { readonly kind: "zero" }
  | { readonly kind: "byte"; readonly value: number }
  | { readonly kind: "counter" }
  | { readonly kind: "random"; readonly seed: number };

/** The pattern's spelling on the command line: `zero`, `0xa5`, `counter`, `random:42`. */
export function formatPattern(pattern: Pattern): string {
  switch (pattern.kind) {
    case "zero":
      return "zero";
    case "byte":
      return `0x${pattern.value.toString(16).padStart(2, "0")}`;
    case "counter":
      return "counter";
    case "random":
      return `random:${pattern.seed}`;
  }
}

/** The one byte a `zero` or `byte` pattern repeats, or null for patterns that vary with the offset. */
export function repeatedByte(pattern: Pattern): number | null {
  if (pattern.kind === "zero") return 0;
  return pattern.kind === "byte" ? pattern.value : null;
}

const GOLDEN = 0x9e3779b9;

/** A 32-bit integer hash (xorshift-multiply), so `random:SEED` words are independent of each other. */
function mix32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The 32-bit little-endian word the pattern puts at word index `index` (byte offset `4 * index`):
 * `counter` is the index itself, `random:SEED` a hash of index and seed.
 */
export function patternWord(pattern: Pattern, index: number): number {
  switch (pattern.kind) {
    case "zero":
      return 0;
    case "byte":
      return Math.imul(pattern.value, 0x01010101) >>> 0;
    case "counter":
      return index >>> 0;
    case "random":
      return mix32((index + Math.imul(pattern.seed, GOLDEN)) >>> 0);
  }
}

/** The byte the pattern puts at absolute offset `offset`. */
export function patternByte(pattern: Pattern, offset: number): number {
  return (patternWord(pattern, Math.floor(offset / 4)) >>> ((offset % 4) * 8)) & 0xff;
}

/** The pattern's bytes for `[offset, offset + length)`. */
export function patternBytes(pattern: Pattern, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  fillPattern(out, pattern, offset);
  return out;
}

/**
 * The hot loops below work on `Int32Array` views with int32 arithmetic (`| 0`, a running counter) rather than
 * `Uint32Array` and `>>> 0`: uint32 values above 2^31 are not small integers to V8, so every load, store and
 * comparison went through doubles. The bits written and compared are the same (measured: counter fill and
 * verify about 1.6x and 2.4x faster, random fill 2.7x, on 16 MiB).
 */
function wordSpan(view: Uint8Array, base: number): { head: number; words: Int32Array; tail: number } {
  // Whole words only where both the buffer address and the absolute offset are 4-aligned.
  const misalign = (4 - (base % 4)) % 4;
  const head = Math.min(misalign, view.length);
  const aligned = (view.byteOffset + head) % 4 === 0;
  if (!aligned) return { head, words: new Int32Array(0), tail: head };
  const count = Math.floor((view.length - head) / 4);
  const words = new Int32Array(view.buffer, view.byteOffset + head, count);
  return { head, words, tail: head + 4 * count };
}

/** {@link mix32} with an int32 result (the same bits), for the Int32Array loops. */
function mix32Int(value: number): number {
  let x = value | 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return x ^ (x >>> 16);
}

/** Writes the pattern into `view`, whose first byte is at absolute buffer offset `base`. */
export function fillPattern(view: Uint8Array, pattern: Pattern, base = 0): void {
  if (pattern.kind === "zero" || pattern.kind === "byte") {
    view.fill(pattern.kind === "zero" ? 0 : pattern.value);
    return;
  }
  const { head, words, tail } = wordSpan(view, base);
  for (let i = 0; i < head; i++) view[i] = patternByte(pattern, base + i);
  const firstWord = (base + head) / 4;
  if (pattern.kind === "counter") {
    // Word index modulo 2^32, as an int32: `| 0` is exact for integers below 2^53.
    let word = firstWord | 0;
    for (let i = 0; i < words.length; i++) {
      words[i] = word;
      word = (word + 1) | 0;
    }
  } else {
    let input = (firstWord + Math.imul(pattern.seed, GOLDEN)) | 0;
    for (let i = 0; i < words.length; i++) {
      words[i] = mix32Int(input);
      input = (input + 1) | 0;
    }
  }
  for (let i = tail; i < view.length; i++) view[i] = patternByte(pattern, base + i);
}

/**
 * The index in `view` of the first byte that differs from the pattern, or -1 when all match.
 * `view`'s first byte is at absolute buffer offset `base`.
 */
export function findMismatch(view: Uint8Array, pattern: Pattern, base = 0): number {
  const { head, words, tail } = wordSpan(view, base);
  for (let i = 0; i < head; i++) if (view[i] !== patternByte(pattern, base + i)) return i;
  const firstWord = (base + head) / 4;
  let bad = -1;
  if (pattern.kind === "zero" || pattern.kind === "byte") {
    const expected = patternWord(pattern, 0) | 0;
    for (let i = 0; i < words.length; i++) {
      if (words[i] !== expected) {
        bad = i;
        break;
      }
    }
  } else if (pattern.kind === "counter") {
    let word = firstWord | 0;
    for (let i = 0; i < words.length; i++) {
      if (words[i] !== word) {
        bad = i;
        break;
      }
      word = (word + 1) | 0;
    }
  } else {
    let input = (firstWord + Math.imul(pattern.seed, GOLDEN)) | 0;
    for (let i = 0; i < words.length; i++) {
      if (words[i] !== mix32Int(input)) {
        bad = i;
        break;
      }
      input = (input + 1) | 0;
    }
  }
  const scanFrom = bad === -1 ? tail : head + 4 * bad;
  for (let i = scanFrom; i < view.length; i++) if (view[i] !== patternByte(pattern, base + i)) return i;
  return -1;
}
