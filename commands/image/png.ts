/**
 * PNG encoding of converted pixels.
 *
 * The encoder is `fast-png` (image-js/fast-png, MIT): maintained (8.0.0 published 2026-01-15 by the image-js
 * project), written in TypeScript and shipped as plain ES modules with types, its only dependencies pure
 * JavaScript (`fflate` for zlib, `iobuffer`), no native addon and no install script, so Deno loads it
 * from npm as is and `deno bundle` can inline it. The alternatives: `pngjs` is CommonJS built on Node
 * streams and zlib (it works through Deno's Node layer; we keep it as the independent decoder in tests),
 * and `sharp`/`canvas` need native libraries.
 * @module
 */

import { encode } from "fast-png";
import type { Pixels } from "./convert.ts";

/** Encodes 8-bit RGB or RGBA pixels as a PNG file's bytes (non-interlaced, default zlib level). */
export function encodePng(pixels: Pixels): Uint8Array {
  return encode({
    width: pixels.width,
    height: pixels.height,
    data: pixels.data,
    depth: 8,
    channels: pixels.channels,
  });
}
