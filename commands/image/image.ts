/**
 * A frame in a buffer as a PNG: format lookup, layout, the fit check and conversion, with no I/O.
 *
 * ```ts
 * import { frameFits, frameToPng } from "./image.ts";
 * const { png, layout } = frameToPng(bytes, { fourcc: "YUYV", width: 640, height: 360, range: "limited" });
 * ```
 * @module
 */

import { findFormat, type Fourcc, FrameError, type FrameLayout, frameLayout } from "./fourcc.ts";
import { convertFrame, type Pixels, type YuvRange } from "./convert.ts";
import { encodePng } from "./png.ts";

export { FrameError } from "./fourcc.ts";

/** What frame to read from a buffer. */
export interface FrameRequest {
  /** The format in any accepted spelling (`YUYV`, `yuy2`, `I420`, `XRGB8888`, ...). */
  readonly fourcc: string;
  readonly width: number;
  readonly height: number;
  /** Bytes per line of the first plane; default from width and format. */
  readonly stride?: number;
  /** Where the frame starts in the buffer; default 0. */
  readonly offset?: number;
  /** YUV quantization; default limited. */
  readonly range?: YuvRange;
}

/**
 * The layout of the requested frame.
 * @throws {FrameError} unknown fourcc, bad width, height or stride
 */
export function requestLayout(request: FrameRequest): FrameLayout {
  return frameLayout(findFormat(request.fourcc), {
    width: request.width,
    height: request.height,
    ...(request.stride === undefined ? {} : { stride: request.stride }),
  });
}

/**
 * Why a frame does not fit in a buffer of `size` bytes from `offset`, naming the numbers; undefined when
 * it fits.
 */
export function frameFits(layout: FrameLayout, where: { offset: number; size: number }): string | undefined {
  const { offset, size } = where;
  if (!Number.isSafeInteger(offset) || offset < 0) return `Offset ${offset} is not a byte offset`;
  if (offset + layout.bytes <= size) return undefined;
  const what = `${layout.format.fourcc} ${layout.width}x${layout.height} with stride ${layout.stride}`;
  return `Frame does not fit in the buffer: offset ${offset} + frame ${layout.bytes} bytes (${what}) = ` +
    `${offset + layout.bytes} > buffer size ${size}`;
}

/** A converted frame. */
export interface FramePng {
  /** The PNG file's bytes. */
  readonly png: Uint8Array;
  readonly layout: FrameLayout;
  /** The canonical fourcc. */
  readonly fourcc: Fourcc;
  /** The pixels the PNG holds. */
  readonly pixels: Pixels;
  /** Bytes of `bytes` the frame covered (`layout.bytes`). */
  readonly bytesRead: number;
}

/**
 * Converts the frame at `request.offset` of `bytes` to a PNG.
 * @throws {FrameError} unknown fourcc, bad sizes, or a frame that does not fit (see {@link frameFits})
 */
export function frameToPng(bytes: Uint8Array, request: FrameRequest): FramePng {
  const layout = requestLayout(request);
  const offset = request.offset ?? 0;
  const problem = frameFits(layout, { offset, size: bytes.length });
  if (problem !== undefined) throw new FrameError(problem);
  const frame = bytes.subarray(offset, offset + layout.bytes);
  const pixels = convertFrame(frame, layout, request.range === undefined ? {} : { range: request.range });
  return { png: encodePng(pixels), layout, fourcc: layout.format.fourcc, pixels, bytesRead: layout.bytes };
}
