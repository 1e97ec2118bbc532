/**
 * `dmabuf map`: map a dma-buf and read, write, fill or verify a range of it inside a `DMA_BUF_IOCTL_SYNC`
 * bracket of the matching direction, or write one frame of it as a PNG (`--image`, see `image/map_image.ts`).
 * @module
 */

import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { CliError, Exit, shown, UsageError } from "./toolkit/errors.ts";
import { UserInput, UserOutput } from "./toolkit/user_file.ts";
import { formatBytes } from "./toolkit/units.ts";
import type { Access, DmaBuf } from "../ffi/dma_buf.ts";
import { formatPattern, type Pattern } from "../ffi/pattern.ts";
import { selectBuffer } from "./buffer_select.ts";
import type { BufferSelectFlags } from "./toolkit/flags.ts";
import type { ImageFlags } from "./image/flags.ts";
import { dmaBufSource, imageRequest, reportImage, writeImage } from "./image/map_image.ts";

/** Flags of `dmabuf map`. */
export interface MapFlags extends CommonFlags, BufferSelectFlags, ImageFlags {
  /** Read the range: a hexdump on stdout, or raw bytes into `--out`. */
  readonly read: boolean;
  /** Start of the range in bytes. */
  readonly offset?: number;
  /** Length of the range in bytes. */
  readonly length?: number;
  /** Write the range's bytes to this file instead of a hexdump. */
  readonly out?: string;
  /** Copy this file's bytes into the buffer at `--offset`. */
  readonly write?: string;
  /** Fill the range with a pattern. */
  readonly fill?: Pattern;
  /** Check the range against a pattern. */
  readonly verify?: Pattern;
  /** Skip the SYNC bracket. */
  readonly noSync: boolean;
}

/** How many bytes a hexdump shows when `--length` is not given. */
export const HEXDUMP_DEFAULT_LIMIT = 4096;

/** Bytes per hexdump line. */
const HEXDUMP_WIDTH = 16;

/** The operation a map run performs. */
export type MapAction = "read" | "write" | "fill" | "verify";

/**
 * The one action the flags ask for (`--read` when none, or when only `--out` is given).
 * @throws {UsageError} when they ask for more than one
 */
export function mapAction(flags: MapFlags): MapAction {
  const asked: MapAction[] = [];
  if (flags.read) asked.push("read");
  if (flags.write !== undefined) asked.push("write");
  if (flags.fill !== undefined) asked.push("fill");
  if (flags.verify !== undefined) asked.push("verify");
  if (asked.length > 1) {
    throw new UsageError(
      `Choose one of --read, --write, --fill, --verify: got ${asked.map((a) => `--${a}`).join(", ")}`,
    );
  }
  const action = asked[0] ?? "read";
  if (action !== "read" && flags.out !== undefined) throw new UsageError("--out goes with --read");
  return action;
}

/** A byte range of a buffer. */
export interface Range {
  /** Start in bytes. */
  offset: number;
  /** Length in bytes. */
  length: number;
}

/**
 * The range `offset`/`length` name in a buffer of `size` bytes (`length` defaults to the rest, or to `limit`
 * when one is given).
 * @throws {UsageError} when the range does not lie inside the buffer
 */
export function resolveRange(
  size: number,
  request: { offset?: number; length?: number; limit?: number },
): Range {
  const offset = request.offset ?? 0;
  if (offset >= size) {
    throw new UsageError(
      `Offset ${offset} is outside the buffer: it is ${size} bytes (last offset ${size - 1})`,
    );
  }
  const rest = size - offset;
  const length = request.length ?? Math.min(rest, request.limit ?? rest);
  if (length > rest) {
    throw new UsageError(`Range ${offset}+${length} is outside the buffer: it is ${size} bytes`);
  }
  return { offset, length };
}

/** Bytes as lowercase hex pairs separated by spaces: `00 01 a5`. */
export function hexBytes(bytes: Uint8Array): string {
  return bytes.toHex().replace(/(..)(?=.)/g, "$1 ");
}

/**
 * `hexdump -C` style lines for `bytes` that start at buffer offset `base`: 8-digit hex offset, 16 bytes in two
 * groups, the printable ASCII between bars; runs of identical lines collapse to `*`; the last line is the
 * end offset.
 */
export function hexdump(bytes: Uint8Array, base = 0): string[] {
  const lines: string[] = [];
  let previous: string | null = null;
  let starred = false;
  for (let i = 0; i < bytes.length; i += HEXDUMP_WIDTH) {
    const row = bytes.subarray(i, i + HEXDUMP_WIDTH);
    const hex = hexBytes(row);
    if (hex === previous && row.length === HEXDUMP_WIDTH) {
      if (!starred) lines.push("*");
      starred = true;
      continue;
    }
    previous = hex;
    starred = false;
    const left = hexBytes(row.subarray(0, 8)).padEnd(23);
    const right = hexBytes(row.subarray(8)).padEnd(23);
    const ascii = Array.from(row, (b) => b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".").join("");
    lines.push(`${(base + i).toString(16).padStart(8, "0")}  ${left}  ${right}  |${ascii}|`);
  }
  lines.push((base + bytes.length).toString(16).padStart(8, "0"));
  return lines;
}

/** The CPU access an action needs: reads for read/verify, writes for write/fill. */
function accessOf(action: MapAction): Access {
  return action === "read" || action === "verify" ? "read" : "write";
}

/** Runs `body` between `DMA_BUF_SYNC_START` and `DMA_BUF_SYNC_END` for `access` (END even when it throws). */
function bracket<T>(buffer: DmaBuf, access: Access, body: () => T): T {
  using _cpu = buffer.beginCpuAccess(access);
  return body();
}

/**
 * The bytes `--write` copies to `offset` of a buffer of `size` bytes: a regular file whole (one larger than
 * the room from `offset` is a range error, as its size says before it is read); a device or a pipe as far as
 * it goes or until the buffer is full (`--write /dev/urandom` fills the rest of the buffer).
 * @throws {UsageError} an empty input, an offset outside the buffer, a file that does not fit
 */
function bytesToWrite(input: UserInput, size: number, offset: number): Uint8Array {
  const room = resolveRange(size, { offset }).length;
  if (input.size !== null) resolveRange(size, { offset, length: Math.max(input.size, 1) });
  const bytes = input.readAtMost(input.size ?? room);
  if (bytes.length === 0) throw new UsageError(`Nothing to write: ${shown(input.path)} is empty`);
  return bytes;
}

/** Maps the selected buffer and performs the action on the range. */
export function map(this: DmabufContext, flags: MapFlags): void {
  const image = imageRequest(flags);
  if (image !== undefined) {
    // The PNG's path is checked before any buffer is touched; it is written once the frame is read.
    using output = UserOutput.open(image.path);
    using buffer = selectBuffer(flags);
    const source = dmaBufSource(buffer, { sync: !flags.noSync });
    return reportImage(this.output(flags), writeImage(source, image, output));
  }
  const action = mapAction(flags);
  if (flags.write !== undefined && flags.length !== undefined) {
    throw new UsageError("--length does not go with --write: the file's length is written");
  }
  // The files are checked before the buffer is selected; --write's is read once the room in it is known.
  using input = flags.write === undefined ? null : UserInput.open(flags.write);
  if (input?.size === 0) throw new UsageError(`Nothing to write: ${shown(input.path)} is empty`);
  using output = flags.out === undefined ? null : UserOutput.open(flags.out);
  const out = this.output(flags);
  using buffer = selectBuffer(flags);
  const size = buffer.size();
  const data = input === null ? null : bytesToWrite(input, size, flags.offset ?? 0);
  const capped = action === "read" && output === null && flags.length === undefined;
  const range = resolveRange(size, {
    ...(flags.offset === undefined ? {} : { offset: flags.offset }),
    ...(data !== null ? { length: data.length } : flags.length === undefined ? {} : { length: flags.length }),
    ...(capped ? { limit: HEXDUMP_DEFAULT_LIMIT } : {}),
  });
  const access = accessOf(action);
  using mapping = buffer.map({ write: access === "write" });
  const run = <T>(body: () => T): T => flags.noSync ? body() : bracket(buffer, access, body);
  const common = { fd: buffer.fd, size, offset: range.offset, length: range.length, synced: !flags.noSync };
  switch (action) {
    case "read": {
      const bytes = run(() => mapping.read(range.offset, range.length));
      if (output !== null) {
        output.write(bytes);
        if (out.json) out.data({ action, ...common, out: flags.out });
        else {out.note(
            `dmabuf: wrote ${formatBytes(bytes.length)} from offset ${range.offset} to ${flags.out}`,
          );}
      } else if (out.json) {
        out.data({
          action,
          ...common,
          hex: bytes.toHex(),
        });
      } else {
        for (const line of hexdump(bytes, range.offset)) out.line(line);
        if (capped && range.length < size - range.offset) {
          out.note(
            `dmabuf: showed ${range.length} of ${size - range.offset} bytes; use --length or --out for more`,
          );
        }
      }
      return;
    }
    case "write": {
      run(() => mapping.write(range.offset, data!));
      if (out.json) out.data({ action, ...common, from: flags.write });
      else out.line(`wrote ${range.length} bytes from ${flags.write} at offset ${range.offset}`);
      return;
    }
    case "fill": {
      run(() => mapping.fill(flags.fill!, range.offset, range.length));
      const pattern = formatPattern(flags.fill!);
      if (out.json) out.data({ action, ...common, pattern });
      else out.line(`filled ${range.length} bytes at offset ${range.offset} with ${pattern}`);
      return;
    }
    case "verify": {
      const mismatch = run(() => mapping.verify(flags.verify!, range.offset, range.length));
      const pattern = formatPattern(flags.verify!);
      if (out.json) {
        out.data({
          action,
          ...common,
          pattern,
          match: mismatch === null,
          mismatch: mismatch === null ? null : {
            offset: mismatch.offset,
            expected: hexBytes(mismatch.expected),
            actual: hexBytes(mismatch.actual),
          },
        });
        if (mismatch !== null) throw new Exit(1);
        return;
      }
      if (mismatch !== null) {
        throw new CliError(
          `Verify against ${pattern} failed at offset ${mismatch.offset} (0x${
            mismatch.offset.toString(16)
          }): ` +
            `expected ${hexBytes(mismatch.expected)}, found ${hexBytes(mismatch.actual)}`,
        );
      }
      out.line(`verified ${range.length} bytes at offset ${range.offset} against ${pattern}`);
      return;
    }
  }
}
