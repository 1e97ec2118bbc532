/**
 * `dmabuf map SELECT --image FILE --fourcc F --width W --height H [--stride S] [--offset O] [--range R]`: the
 * map-side glue that reads one frame from a buffer inside a `DMA_BUF_IOCTL_SYNC` READ bracket and writes it
 * as a PNG. It works on any {@link FrameSource} (a size and a read), so it is tested without a kernel; a
 * dma-buf becomes one through {@link dmaBufSource}. `commands/map.ts` calls {@link imageRequest} first, so
 * usage errors come before any buffer is touched; `cli/routes/map.ts` spreads the flag specs of `./flags.ts`.
 * @module
 */

import { UsageError } from "../toolkit/errors.ts";
import { UserOutput } from "../toolkit/user_file.ts";
import type { Output } from "../toolkit/output.ts";
import { formatBytes } from "../toolkit/units.ts";
import { FrameError } from "./fourcc.ts";
import type { YuvRange } from "./convert.ts";
import { frameFits, frameToPng, requestLayout } from "./image.ts";
import { type ImageFlags, parseFourcc } from "./flags.ts";

/** The map flags `--image` shares or excludes (a subset of `MapFlags`). */
export interface MapSideFlags extends ImageFlags {
  readonly offset?: number;
  readonly read?: boolean;
  readonly length?: number;
  readonly out?: string;
  readonly write?: string;
  readonly fill?: unknown;
  readonly verify?: unknown;
}

/** A checked `--image` request. */
export interface ImageRequest {
  readonly path: string;
  /** Canonical fourcc. */
  readonly fourcc: string;
  readonly width: number;
  readonly height: number;
  readonly stride?: number;
  readonly offset: number;
  readonly range: YuvRange;
}

/**
 * The `--image` request the flags make, or undefined without `--image`.
 * @throws {UsageError} a missing --fourcc/--width/--height, image flags without --image, or --image with
 * another action or --length/--out
 */
export function imageRequest(flags: MapSideFlags): ImageRequest | undefined {
  const imageOnly = (["fourcc", "width", "height", "stride", "range"] as const).filter((name) =>
    flags[name] !== undefined
  );
  if (flags.image === undefined) {
    if (imageOnly.length > 0) {
      throw new UsageError(`${imageOnly.map((name) => `--${name}`).join(", ")} go with --image FILE`);
    }
    return undefined;
  }
  const clashing = [
    ...(flags.read ? ["--read"] : []),
    ...(flags.length !== undefined ? ["--length"] : []),
    ...(flags.out !== undefined ? ["--out"] : []),
    ...(flags.write !== undefined ? ["--write"] : []),
    ...(flags.fill !== undefined ? ["--fill"] : []),
    ...(flags.verify !== undefined ? ["--verify"] : []),
  ];
  if (clashing.length > 0) {
    throw new UsageError(`--image does not go with ${clashing.join(", ")}: the frame's size sets the range`);
  }
  const missing = (["fourcc", "width", "height"] as const).filter((name) => flags[name] === undefined);
  if (missing.length > 0) {
    throw new UsageError(`--image needs ${missing.map((name) => `--${name}`).join(", ")}`);
  }
  const request: ImageRequest = {
    path: flags.image,
    fourcc: parseFourcc(flags.fourcc!),
    width: flags.width!,
    height: flags.height!,
    ...(flags.stride === undefined ? {} : { stride: flags.stride }),
    offset: flags.offset ?? 0,
    range: flags.range ?? "limited",
  };
  try {
    requestLayout(request);
  } catch (error) {
    if (error instanceof FrameError) throw new UsageError(error.message);
    throw error;
  }
  return request;
}

/** Where a frame is read from: a buffer's size and a way to copy a range of it. */
export interface FrameSource {
  /** Size in bytes. */
  readonly size: number;
  /** A copy of `[offset, offset + length)`. */
  read(offset: number, length: number): Uint8Array;
}

/** The parts of a dma-buf {@link dmaBufSource} uses (`DmaBuf` has them). */
export interface SyncableBuffer {
  size(): number;
  /** `DMA_BUF_SYNC_START` now, `DMA_BUF_SYNC_END` when the result is disposed (see `DmaBuf.beginCpuAccess`). */
  beginCpuAccess(access: "read"): Disposable;
  map(): Disposable & { read(offset: number, length: number): Uint8Array };
}

/**
 * A dma-buf as a {@link FrameSource}: each read maps the buffer read-only and copies the range inside a
 * `DMA_BUF_SYNC_START`/`END` READ bracket (`DmaBuf.beginCpuAccess`; END even when the copy throws), unless
 * `sync` is false (`--no-sync`).
 */
export function dmaBufSource(buffer: SyncableBuffer, options: { sync: boolean }): FrameSource {
  return {
    size: buffer.size(),
    read(offset: number, length: number): Uint8Array {
      using mapping = buffer.map();
      if (!options.sync) return mapping.read(offset, length);
      using _cpu = buffer.beginCpuAccess("read");
      return mapping.read(offset, length);
    },
  };
}

/** What `--image` did; the `--json` document. */
export interface ImageReport {
  /** The PNG written. */
  path: string;
  width: number;
  height: number;
  /** Bytes per line of the first plane, as used. */
  stride: number;
  /** Canonical fourcc. */
  fourcc: string;
  /** Offset of the frame in the buffer. */
  offset: number;
  /** Bytes read from the buffer (the frame, from its first byte to its last pixel). */
  bytesRead: number;
  /** YUV range used (reported for every format; GREY and RGB ignore it). */
  range: YuvRange;
  /** Buffer size. */
  size: number;
}

/** A frame read from a source and encoded, not yet written. */
export interface ImageResult {
  readonly report: ImageReport;
  readonly png: Uint8Array;
}

/**
 * Reads the requested frame from `source` (one read of exactly the frame's bytes) and encodes it.
 * @throws {UsageError} when the frame does not fit in the buffer from the offset, naming the numbers
 */
export function readImage(source: FrameSource, request: ImageRequest): ImageResult {
  const layout = requestLayout(request);
  const problem = frameFits(layout, { offset: request.offset, size: source.size });
  if (problem !== undefined) throw new UsageError(problem);
  const bytes = source.read(request.offset, layout.bytes);
  const { png } = frameToPng(bytes, { ...request, offset: 0 });
  return {
    png,
    report: {
      path: request.path,
      width: layout.width,
      height: layout.height,
      stride: layout.stride,
      fourcc: layout.format.fourcc,
      offset: request.offset,
      bytesRead: layout.bytes,
      range: request.range,
      size: source.size,
    },
  };
}

/**
 * {@link readImage}, then writes the PNG to `output` (opened before the buffer was touched), or to the
 * request's path opened here first.
 * @throws {CliError} when the file cannot be written (one line with the errno)
 */
export function writeImage(source: FrameSource, request: ImageRequest, output?: UserOutput): ImageReport {
  using own = output === undefined ? UserOutput.open(request.path) : null;
  const { png, report } = readImage(source, request);
  (output ?? own!).write(png);
  return report;
}

/** Prints the report: the JSON document, or one line. */
export function reportImage(out: Output, report: ImageReport): void {
  if (out.json) {
    out.data(report);
    return;
  }
  out.line(
    `wrote ${report.path}: ${report.fourcc} ${report.width}x${report.height}, stride ${report.stride}, ` +
      `${formatBytes(report.bytesRead)} from offset ${report.offset}`,
  );
}
