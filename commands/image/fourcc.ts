/**
 * The pixel formats `dmabuf map --image` reads: their names as V4L2 and DRM spell them, and the memory
 * layout of one frame — planes, line strides and the bytes it needs.
 *
 * Layout conventions (`include/uapi/linux/videodev2.h`, `include/uapi/drm/drm_fourcc.h`):
 * - packed formats have one plane of `stride` bytes per line;
 * - NV12/NV21: a luma plane, then the interleaved chroma plane (half height, rounded up) with the same
 *   stride, as a single-buffer V4L2 `V4L2_PIX_FMT_NV12` lays them out;
 * - YU12 (I420): a luma plane, then Cb, then Cr, each chroma plane half height (rounded up) with `stride / 2`
 *   bytes per line (V4L2 `V4L2_PIX_FMT_YUV420`), so a YU12 stride must be even.
 *
 * Odd sizes of subsampled formats are handled the way DRM counts them (`drm_format_info_plane_width`, which
 * rounds up): a YUYV line of width 3 holds two macropixels, an NV12 frame of 3x3 has 2x2 chroma samples, and
 * the last column/row takes the chroma of the pair whose other half is padding. Default strides are rounded
 * up to a whole chroma pair, so they are even for every subsampled format.
 * @module
 */

import { shown } from "../toolkit/errors.ts";

/** The canonical fourcc of each format: the V4L2 code where there is one, DRM's short code otherwise. */
export type Fourcc =
  | "YUYV"
  | "UYVY"
  | "NV12"
  | "NV21"
  | "YU12"
  | "GREY"
  | "RGB3"
  | "BGR3"
  | "XR24"
  | "AR24"
  | "XB24"
  | "AB24";

/** How a format's bytes become pixels (see convert.ts). */
export type FormatKind = "packed-yuv422" | "semiplanar-yuv420" | "planar-yuv420" | "grey" | "rgb";

/** One supported pixel format. */
export interface PixelFormat {
  /** Canonical name. */
  readonly fourcc: Fourcc;
  /** Other spellings accepted (case-insensitive), V4L2 and DRM names first. */
  readonly aliases: readonly string[];
  /** One line for `--help`. */
  readonly description: string;
  readonly kind: FormatKind;
  /** Bytes per pixel of the first plane, for packed formats; 1 for the luma plane of planar ones. */
  readonly bytesPerPixel: number;
  /** For packed YUV 4:2:2: byte index of each component in a 4-byte macropixel of two pixels. */
  readonly yuv422?: { readonly y0: number; readonly u: number; readonly y1: number; readonly v: number };
  /** For RGB formats: byte index of each component in a pixel (`a` when the format has alpha). */
  readonly rgb?: { readonly r: number; readonly g: number; readonly b: number; readonly a?: number };
  /** For NV12/NV21: the chroma plane holds Cb first (NV12) or Cr first (NV21). */
  readonly cbFirst?: boolean;
  /** Whether the PNG keeps an alpha channel (AR24, AB24). */
  readonly alpha?: boolean;
}

/** The formats, in the order `--help` lists them. */
export const PIXEL_FORMATS: readonly PixelFormat[] = [
  {
    fourcc: "YUYV",
    aliases: ["YUY2"],
    description: "packed YUV 4:2:2, bytes Y0 Cb Y1 Cr",
    kind: "packed-yuv422",
    bytesPerPixel: 2,
    yuv422: { y0: 0, u: 1, y1: 2, v: 3 },
  },
  {
    fourcc: "UYVY",
    aliases: [],
    description: "packed YUV 4:2:2, bytes Cb Y0 Cr Y1",
    kind: "packed-yuv422",
    bytesPerPixel: 2,
    yuv422: { u: 0, y0: 1, v: 2, y1: 3 },
  },
  {
    fourcc: "NV12",
    aliases: [],
    description: "YUV 4:2:0, Y plane then interleaved CbCr plane",
    kind: "semiplanar-yuv420",
    bytesPerPixel: 1,
    cbFirst: true,
  },
  {
    fourcc: "NV21",
    aliases: [],
    description: "YUV 4:2:0, Y plane then interleaved CrCb plane",
    kind: "semiplanar-yuv420",
    bytesPerPixel: 1,
    cbFirst: false,
  },
  {
    fourcc: "YU12",
    aliases: ["I420", "YUV420", "IYUV"],
    description: "YUV 4:2:0, Y, Cb and Cr planes (chroma stride = stride/2)",
    kind: "planar-yuv420",
    bytesPerPixel: 1,
  },
  {
    fourcc: "GREY",
    aliases: ["Y8", "Y800", "GRAY8"],
    description: "8-bit greyscale, shown as stored",
    kind: "grey",
    bytesPerPixel: 1,
  },
  {
    fourcc: "RGB3",
    aliases: ["RGB24", "BG24", "BGR888"],
    description: "24-bit, bytes R G B (V4L2 RGB24 = DRM BGR888)",
    kind: "rgb",
    bytesPerPixel: 3,
    rgb: { r: 0, g: 1, b: 2 },
  },
  {
    fourcc: "BGR3",
    aliases: ["BGR24", "RG24", "RGB888"],
    description: "24-bit, bytes B G R (V4L2 BGR24 = DRM RGB888)",
    kind: "rgb",
    bytesPerPixel: 3,
    rgb: { b: 0, g: 1, r: 2 },
  },
  {
    fourcc: "XR24",
    aliases: ["XRGB8888"],
    description: "32-bit little-endian x:R:G:B, bytes B G R X",
    kind: "rgb",
    bytesPerPixel: 4,
    rgb: { b: 0, g: 1, r: 2 },
  },
  {
    fourcc: "AR24",
    aliases: ["ARGB8888"],
    description: "32-bit little-endian A:R:G:B, bytes B G R A (alpha kept)",
    kind: "rgb",
    bytesPerPixel: 4,
    rgb: { b: 0, g: 1, r: 2, a: 3 },
    alpha: true,
  },
  {
    fourcc: "XB24",
    aliases: ["XBGR8888"],
    description: "32-bit little-endian x:B:G:R, bytes R G B X",
    kind: "rgb",
    bytesPerPixel: 4,
    rgb: { r: 0, g: 1, b: 2 },
  },
  {
    fourcc: "AB24",
    aliases: ["ABGR8888"],
    description: "32-bit little-endian A:B:G:R, bytes R G B A (alpha kept)",
    kind: "rgb",
    bytesPerPixel: 4,
    rgb: { r: 0, g: 1, b: 2, a: 3 },
    alpha: true,
  },
];

const BY_NAME = new Map<string, PixelFormat>(
  PIXEL_FORMATS.flatMap((format) => [format.fourcc, ...format.aliases].map((name) => [name, format])),
);

/** A frame request that cannot be met: unknown fourcc, bad size or stride, a frame that does not fit. */
export class FrameError extends Error {
  /** Makes the error; the message is meant for the user, usage-error style. */
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/**
 * The format a user typed, in any accepted spelling and case (`yuy2`, `I420`, `XRGB8888`).
 * @throws {FrameError} naming the spelling and the accepted fourccs
 */
export function findFormat(name: string): PixelFormat {
  const format = BY_NAME.get(name.trim().toUpperCase());
  if (format === undefined) {
    throw new FrameError(
      `Unknown fourcc "${shown(name)}": expected one of ${PIXEL_FORMATS.map((f) => f.fourcc).join(", ")}`,
    );
  }
  return format;
}

/** `--help` lines listing each format with its other spellings and layout. */
export function formatHelpLines(): string[] {
  return PIXEL_FORMATS.map((format) => {
    const names = [format.fourcc, ...format.aliases].join("/");
    return `  ${names.padEnd(24)} ${format.description}`;
  });
}

/** One plane of a frame: where it starts in the frame, its stride, its lines and the pixel bytes per line. */
export interface Plane {
  /** Offset from the start of the frame. */
  readonly offset: number;
  /** Bytes from one line to the next. */
  readonly stride: number;
  /** Lines. */
  readonly lines: number;
  /** Bytes of a line that hold pixels (the rest of the stride is padding). */
  readonly lineBytes: number;
}

/** The memory layout of one frame. */
export interface FrameLayout {
  readonly format: PixelFormat;
  readonly width: number;
  readonly height: number;
  /** Stride of the first plane (as `--stride` names it). */
  readonly stride: number;
  readonly planes: readonly Plane[];
  /**
   * Bytes from the frame's start to the end of its last pixel: the last line of the last plane counts only
   * its pixel bytes, so a tightly cropped buffer without trailing padding still fits.
   */
  readonly bytes: number;
}

/** Options of {@link frameLayout}. */
export interface LayoutRequest {
  readonly width: number;
  readonly height: number;
  /** Bytes per line of the first plane; default {@link defaultStride}. */
  readonly stride?: number;
}

/** Half, rounded up: the chroma samples of an odd size (DRM's DIV_ROUND_UP). */
function half(n: number): number {
  return Math.ceil(n / 2);
}

/** Bytes of pixel data in a line of the first plane. */
function firstLineBytes(format: PixelFormat, width: number): number {
  // A 4:2:2 line stores whole macropixels: 2 pixels in 4 bytes.
  return format.kind === "packed-yuv422" ? 4 * half(width) : width * format.bytesPerPixel;
}

/** The stride of a tightly packed frame of this width (4:2:2 and 4:2:0: a whole number of chroma pairs). */
export function defaultStride(format: PixelFormat, width: number): number {
  switch (format.kind) {
    case "packed-yuv422":
      return firstLineBytes(format, width);
    case "semiplanar-yuv420":
    case "planar-yuv420":
      return 2 * half(width);
    case "grey":
    case "rgb":
      return width * format.bytesPerPixel;
  }
}

function checkDimension(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new FrameError(`Image ${name} must be a positive whole number: got ${value}`);
  }
}

/**
 * The planes and byte count of a frame.
 * @throws {FrameError} when width, height or stride are not positive integers, the stride is shorter than a
 * line, or (YU12) odd
 */
export function frameLayout(format: PixelFormat, request: LayoutRequest): FrameLayout {
  const { width, height } = request;
  checkDimension("width", width);
  checkDimension("height", height);
  const stride = request.stride ?? defaultStride(format, width);
  checkDimension("stride", stride);
  const lineBytes = firstLineBytes(format, width);
  if (stride < lineBytes) {
    throw new FrameError(
      `Stride ${stride} is too small for ${format.fourcc} at width ${width}: a line needs ${lineBytes} bytes`,
    );
  }
  const luma: Plane = { offset: 0, stride, lines: height, lineBytes };
  let planes: Plane[];
  switch (format.kind) {
    case "semiplanar-yuv420": {
      const chroma: Plane = {
        offset: stride * height,
        stride,
        lines: half(height),
        lineBytes: 2 * half(width),
      };
      if (chroma.lineBytes > stride) {
        throw new FrameError(
          `Stride ${stride} is too small for ${format.fourcc} at width ${width}: a chroma line needs ` +
            `${chroma.lineBytes} bytes`,
        );
      }
      planes = [luma, chroma];
      break;
    }
    case "planar-yuv420": {
      if (stride % 2 !== 0) {
        throw new FrameError(
          `Stride ${stride} is odd: ${format.fourcc} chroma lines are stride/2 bytes, so it must be even`,
        );
      }
      const chromaStride = stride / 2;
      const chromaBytes = chromaStride * half(height);
      const cb: Plane = {
        offset: stride * height,
        stride: chromaStride,
        lines: half(height),
        lineBytes: half(width),
      };
      const cr: Plane = { ...cb, offset: cb.offset + chromaBytes };
      planes = [luma, cb, cr];
      break;
    }
    default:
      planes = [luma];
  }
  const last = planes[planes.length - 1]!;
  const bytes = last.offset + last.stride * (last.lines - 1) + last.lineBytes;
  return { format, width, height, stride, planes, bytes };
}
