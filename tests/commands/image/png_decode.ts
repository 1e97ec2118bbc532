/**
 * Decoding PNGs in tests with pngjs, a decoder that is not our encoder (fast-png), so a test that compares
 * decoded pixels checks the file a viewer would open, not a round trip through one library.
 * @module
 */

import pngjs from "pngjs";
import { Buffer } from "node:buffer";

/** A decoded PNG: pngjs always yields RGBA. */
export interface Decoded {
  width: number;
  height: number;
  /** 4 bytes per pixel. */
  rgba: Uint8Array;
}

/** Decodes PNG bytes with pngjs. */
export function decodePng(bytes: Uint8Array): Decoded {
  const png = pngjs.PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
}

/** Pixel rows as `[r, g, b]` (or `[r, g, b, a]` with `alpha`) triples, for readable comparisons. */
export function pixelRows(decoded: Decoded, alpha = false): number[][][] {
  const rows: number[][][] = [];
  for (let y = 0; y < decoded.height; y++) {
    const row: number[][] = [];
    for (let x = 0; x < decoded.width; x++) {
      const at = (y * decoded.width + x) * 4;
      row.push(Array.from(decoded.rgba.subarray(at, at + (alpha ? 4 : 3))));
    }
    rows.push(row);
  }
  return rows;
}
