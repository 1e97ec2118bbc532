/**
 * Pixel conversion from a frame's bytes (see fourcc.ts for layouts) to 8-bit RGB or RGBA, row after row.
 *
 * YUV to RGB is ITU-R BT.601 (Kr = 0.299, Kb = 0.114, Kg = 0.587), in integer arithmetic that gives the
 * correctly rounded value of the exact formula (halves round up), then clamps to 0..255:
 *
 * - limited range (the default; V4L2 `V4L2_QUANTIZATION_LIM_RANGE`): Y' spans 16..235 and Cb/Cr 16..240,
 *   `R = 255/219 (Y-16) + 255/224 * 1.402 (Cr-128)`,
 *   `G = 255/219 (Y-16) - 255/224 * (1.772*0.114/0.587) (Cb-128) - 255/224 * (1.402*0.299/0.587) (Cr-128)`,
 *   `B = 255/219 (Y-16) + 255/224 * 1.772 (Cb-128)`;
 * - full range (`--range full`, JPEG/JFIF): the same without the 255/219 and 255/224 scales and with Y
 *   not offset.
 *
 * Every coefficient is a fraction over 293500 (= 2 * 146750 = 500 * 587 = 250 * 1174), so each channel is one
 * integer numerator over one integer denominator: `D = 219 * 224 * 293500` (limited) or `293500` (full), and
 * all numerators stay below 2^43, exact in a double. Per-value terms come from 256-entry tables.
 *
 * GREY is copied as stored (R = G = B = the byte): a grey sensor's byte is its brightness, and V4L2 gives
 * GREY no YCbCr quantization. RGB formats are copied; AR24/AB24 keep their alpha.
 * @module
 */

import type { FrameLayout } from "./fourcc.ts";

/** YUV quantization range. */
export type YuvRange = "limited" | "full";

/** Converted pixels: `channels` bytes per pixel, rows of `width` pixels without padding. */
export interface Pixels {
  readonly width: number;
  readonly height: number;
  /** 3 (RGB) or 4 (RGBA). */
  readonly channels: 3 | 4;
  readonly data: Uint8Array;
}

/** The common denominator of the BT.601 coefficients (see the module doc). */
const COEFFICIENT_DENOMINATOR = 293500;
/** 1.402 (Cr to R), 1.772*0.114/0.587 (Cb to G), 1.402*0.299/0.587 (Cr to G), 1.772 (Cb to B), over it. */
const CR_TO_R = 411487;
const CB_TO_G = 101004;
const CR_TO_G = 209599;
const CB_TO_B = 520082;

/** Per-byte numerators of one range: `value = (y[Y] + cr[Cr] ...) / denominator`. */
interface YuvTables {
  readonly denominator: number;
  readonly y: Float64Array;
  readonly crR: Float64Array;
  readonly cbG: Float64Array;
  readonly crG: Float64Array;
  readonly cbB: Float64Array;
}

function makeTables(range: YuvRange): YuvTables {
  // limited: Y scale 255/219, chroma scale 255/224, both put over 219 * 224 * 293500.
  const [yNum, yOffset, cNum] = range === "limited"
    ? [255 * 224 * COEFFICIENT_DENOMINATOR, 16, 255 * 219]
    : [COEFFICIENT_DENOMINATOR, 0, 1];
  const denominator = range === "limited" ? 219 * 224 * COEFFICIENT_DENOMINATOR : COEFFICIENT_DENOMINATOR;
  const table = (f: (v: number) => number) => Float64Array.from({ length: 256 }, (_, v) => f(v));
  return {
    denominator,
    y: table((v) => yNum * (v - yOffset)),
    crR: table((v) => cNum * CR_TO_R * (v - 128)),
    cbG: table((v) => -cNum * CB_TO_G * (v - 128)),
    crG: table((v) => -cNum * CR_TO_G * (v - 128)),
    cbB: table((v) => cNum * CB_TO_B * (v - 128)),
  };
}

const tables: Partial<Record<YuvRange, YuvTables>> = {};

/** The tables of `range`, built on its first conversion rather than whenever this module is loaded. */
function tablesOf(range: YuvRange): YuvTables {
  return tables[range] ??= makeTables(range);
}

/** `numerator / denominator` rounded half up, clamped to 0..255. */
function channel(numerator: number, denominator: number): number {
  const value = Math.floor((2 * numerator + denominator) / (2 * denominator));
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/**
 * One Y'CbCr triple as R, G, B (BT.601, the given range), by the exact integer formula of the module doc.
 */
export function yuvToRgb(
  y: number,
  cb: number,
  cr: number,
  range: YuvRange = "limited",
): [number, number, number] {
  const t = tablesOf(range);
  const d = t.denominator;
  const luma = t.y[y]!;
  return [
    channel(luma + t.crR[cr]!, d),
    channel(luma + t.cbG[cb]! + t.crG[cr]!, d),
    channel(luma + t.cbB[cb]!, d),
  ];
}

/** Writes the RGB of one Y'CbCr sample at `out[at..at+2]`. */
function putYuv(out: Uint8Array, at: number, y: number, cb: number, cr: number, t: YuvTables): void {
  const d = t.denominator;
  const luma = t.y[y]!;
  out[at] = channel(luma + t.crR[cr]!, d);
  out[at + 1] = channel(luma + t.cbG[cb]! + t.crG[cr]!, d);
  out[at + 2] = channel(luma + t.cbB[cb]!, d);
}

/** Options of {@link convertFrame}. */
export interface ConvertOptions {
  /** YUV quantization; ignored by GREY and RGB formats. Default limited. */
  readonly range?: YuvRange;
}

/** A byte of the frame; `bytes` was checked to hold the whole layout, so reads stay inside. */
function at(bytes: Uint8Array, index: number): number {
  return bytes[index]!;
}

/**
 * Converts one frame to RGB (or RGBA for formats with alpha).
 * @param bytes the frame, starting at its first byte; at least `layout.bytes` long
 * @throws {RangeError} when `bytes` is shorter than the layout needs
 */
export function convertFrame(bytes: Uint8Array, layout: FrameLayout, options: ConvertOptions = {}): Pixels {
  if (bytes.length < layout.bytes) {
    throw new RangeError(`Frame needs ${layout.bytes} bytes: got ${bytes.length}`);
  }
  const { format, width, height } = layout;
  const channels = format.alpha ? 4 : 3;
  const out = new Uint8Array(width * height * channels);
  const t = tablesOf(options.range ?? "limited");
  const [luma, chroma, chroma2] = layout.planes;
  const stride = luma!.stride;
  switch (format.kind) {
    case "packed-yuv422": {
      const o = format.yuv422!;
      for (let row = 0; row < height; row++) {
        const line = row * stride;
        for (let x = 0; x < width; x++) {
          const macro = line + 4 * (x >> 1);
          const y = at(bytes, macro + ((x & 1) === 0 ? o.y0 : o.y1));
          putYuv(out, (row * width + x) * 3, y, at(bytes, macro + o.u), at(bytes, macro + o.v), t);
        }
      }
      break;
    }
    case "semiplanar-yuv420": {
      const [cbAt, crAt] = format.cbFirst ? [0, 1] : [1, 0];
      for (let row = 0; row < height; row++) {
        const line = row * stride;
        const cline = chroma!.offset + (row >> 1) * chroma!.stride;
        for (let x = 0; x < width; x++) {
          const c = cline + 2 * (x >> 1);
          putYuv(
            out,
            (row * width + x) * 3,
            at(bytes, line + x),
            at(bytes, c + cbAt),
            at(bytes, c + crAt),
            t,
          );
        }
      }
      break;
    }
    case "planar-yuv420": {
      for (let row = 0; row < height; row++) {
        const line = row * stride;
        const cbLine = chroma!.offset + (row >> 1) * chroma!.stride;
        const crLine = chroma2!.offset + (row >> 1) * chroma2!.stride;
        for (let x = 0; x < width; x++) {
          const cx = x >> 1;
          putYuv(
            out,
            (row * width + x) * 3,
            at(bytes, line + x),
            at(bytes, cbLine + cx),
            at(bytes, crLine + cx),
            t,
          );
        }
      }
      break;
    }
    case "grey": {
      for (let row = 0; row < height; row++) {
        for (let x = 0; x < width; x++) {
          out.fill(at(bytes, row * stride + x), (row * width + x) * 3, (row * width + x + 1) * 3);
        }
      }
      break;
    }
    case "rgb": {
      const o = format.rgb!;
      const alpha = o.a ?? 0;
      const size = format.bytesPerPixel;
      for (let row = 0; row < height; row++) {
        for (let x = 0; x < width; x++) {
          const p = row * stride + x * size;
          const q = (row * width + x) * channels;
          out[q] = at(bytes, p + o.r);
          out[q + 1] = at(bytes, p + o.g);
          out[q + 2] = at(bytes, p + o.b);
          if (channels === 4) out[q + 3] = at(bytes, p + alpha);
        }
      }
      break;
    }
  }
  return { width, height, channels, data: out };
}
