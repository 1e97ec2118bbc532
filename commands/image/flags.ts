/**
 * The flags of `dmabuf map --image` as stricli specs, their value parsers and the `--help` lines listing the
 * formats. Cheap to import (no PNG encoder, no pixel conversion, no FFI), so the map route can spread
 * {@link imageFlags} and print {@link imageHelpLines} without loading the command body; `map_image.ts` does
 * the work.
 * @module
 */

import { shown, UsageError } from "../toolkit/errors.ts";
import { parsePath } from "../toolkit/parse.ts";
import { findFormat, formatHelpLines, FrameError } from "./fourcc.ts";
import type { YuvRange } from "./convert.ts";

/** Flags of `map --image` (`--offset`, `--no-sync` and the selection are map's own). */
export interface ImageFlags {
  /** `--image FILE`: write the frame as a PNG to FILE. */
  readonly image?: string;
  /** `--fourcc F`: the pixel format, any accepted spelling. */
  readonly fourcc?: string;
  readonly width?: number;
  readonly height?: number;
  /** Bytes per line of the first plane; default from width and format. */
  readonly stride?: number;
  /** YUV quantization range; default limited. */
  readonly range?: YuvRange;
}

/** The accepted `--range` values. */
export const YUV_RANGES: readonly YuvRange[] = ["limited", "full"];

/** Parses an image dimension or stride: a positive whole number. @throws {UsageError} */
export function parseDimension(input: string): number {
  const text = input.trim();
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(
      `Invalid size "${shown(input)}": expected a positive whole number of pixels or bytes`,
    );
  }
  return value;
}

/** Parses `--fourcc` to its canonical name. @throws {UsageError} listing the accepted fourccs */
export function parseFourcc(input: string): string {
  try {
    return findFormat(input).fourcc;
  } catch (error) {
    if (error instanceof FrameError) throw new UsageError(error.message);
    throw error;
  }
}

/** The stricli flag specs of {@link ImageFlags}; spread into map's `flags`. */
export const imageFlags = {
  image: {
    kind: "parsed",
    parse: parsePath,
    optional: true,
    placeholder: "FILE",
    brief: "Write one frame as a PNG to FILE (needs --fourcc, --width, --height; SYNC READ bracket)",
  },
  fourcc: {
    kind: "parsed",
    parse: parseFourcc,
    optional: true,
    placeholder: "F",
    brief: "With --image: the pixel format (YUYV, UYVY, NV12, NV21, YU12, GREY, RGB3, BGR3, XR24, ...)",
  },
  width: {
    kind: "parsed",
    parse: parseDimension,
    optional: true,
    placeholder: "W",
    brief: "With --image: frame width in pixels",
  },
  height: {
    kind: "parsed",
    parse: parseDimension,
    optional: true,
    placeholder: "H",
    brief: "With --image: frame height in lines",
  },
  stride: {
    kind: "parsed",
    parse: parseDimension,
    optional: true,
    placeholder: "S",
    brief: "With --image: bytes per line of the first plane (default: from width and format)",
  },
  range: {
    kind: "enum",
    values: YUV_RANGES,
    optional: true,
    brief: "With --image: YUV quantization, limited (16-235, the default) or full (0-255); BT.601",
  },
} as const;

/** `--help` text for `--image`: the conversion and the formats with their accepted spellings. */
export function imageHelpLines(): string[] {
  return [
    "--image reads one frame from --offset (default 0) between DMA_BUF_IOCTL_SYNC START/END READ and writes",
    "a PNG (RGB; RGBA for AR24/AB24). YUV is converted with ITU-R BT.601, limited range unless --range full.",
    "Subsampled formats with odd sizes round chroma up, as DRM does. Formats (case-insensitive):",
    ...formatHelpLines(),
  ];
}
