/**
 * What dmabuf's iterator program writes per dma-buf: the tool's own binary record layout, version 1, in the
 * machine's byte order (little-endian on x86_64 and arm64), and its parser. Every record starts with the same
 * 8-byte header, so a reader can tell a record it does not know from garbage:
 *
 * | offset | field                                                                     |
 * | ------ | ------------------------------------------------------------------------- |
 * | 0      | `u32 magic` = {@link RECORD_MAGIC} (`"dmab"`)                             |
 * | 4      | `u8 version` = {@link RECORD_VERSION}                                     |
 * | 5      | `u8 kind`: {@link RecordKind}                                             |
 * | 6      | `u16 length` of the whole record                                          |
 *
 * A buffer record ({@link BufferRecord}) is followed by one attachment record per attached device, and by
 * one with status {@link AttachmentStatus.LIST_TRUNCATED} when the program stopped walking the list at its
 * bound. The parser checks every length against the bytes that are there and throws {@link RecordError}.
 * @module
 */

/** `"dmab"` as a little-endian u32. */
export const RECORD_MAGIC = 0x62616d64;
/** The layout version this file writes and reads. */
export const RECORD_VERSION = 1;
/** `sizeof` the common header. */
export const RECORD_HEADER_SIZE = 8;

/** Record kinds. */
export const RecordKind = {
  /** One dma-buf. */
  BUFFER: 1,
  /** One device attached to the buffer of the last BUFFER record. */
  ATTACHMENT: 2,
} as const;

/** Bytes of an exporter name kept, with its NUL (exporter names are module or driver names: short). */
export const EXP_NAME_CAPACITY = 128;
/** `DMA_BUF_NAME_LEN`: the kernel keeps at most 31 bytes of a name and its NUL. */
export const NAME_CAPACITY = 32;
/** Bytes of a device name kept, with its NUL (`dev_name()`, e.g. `vivid.0`, `0000:00:02.0`). */
export const DEVICE_NAME_CAPACITY = 64;

/**
 * The buffer record, v1 (208 bytes): header @0, `u64 inode` @8 (`file->f_inode->i_ino`), `u64 size` @16,
 * `u64 file_ref` @24 (the raw reference counter of `file`, see the source for its meaning), `u32 f_flags` @32,
 * `u32 f_mode` @36, `s32 exp_name_len` @40 and `s32 name_len` @44 (what `bpf_probe_read_kernel_str`
 * returned: bytes copied with the NUL, or a negative errno; `name_len` 0 = no name), `char
 * exp_name[128]` @48, `char name[32]` @176.
 */
export const BufferRecord = {
  SIZE: 208,
  INODE: 8,
  SIZE_FIELD: 16,
  FILE_REF: 24,
  FLAGS: 32,
  MODE: 36,
  EXP_NAME_LEN: 40,
  NAME_LEN: 44,
  EXP_NAME: 48,
  NAME: 176,
} as const;

/**
 * The attachment record, v1 (80 bytes): header @0, `s32 name_len` @8 (as for the buffer's names), `u32 status`
 * @12 ({@link AttachmentStatus}), `char name[64]` @16.
 */
export const AttachmentRecord = {
  SIZE: 80,
  NAME_LEN: 8,
  STATUS: 12,
  NAME: 16,
} as const;

/** An attachment record's status. */
export const AttachmentStatus = {
  /** A device: its name follows. */
  DEVICE: 0,
  /** The program stopped at its bound before the end of the list: more devices are attached. */
  LIST_TRUNCATED: 1,
  /** Reading the list failed (it changed under the walk): the devices listed so far may be all or not. */
  LIST_UNREADABLE: 2,
} as const;

/** One dma-buf as the iterator saw it. */
export interface IteratedBuffer {
  /** `file_inode(dmabuf->file)->i_ino`. */
  inode: number;
  /** `dmabuf->size`. */
  size: number;
  /** `dmabuf->file`'s raw reference counter (its meaning depends on the kernel; see the source). */
  fileRef: bigint;
  /** `file->f_flags`. */
  flags: number;
  /** `file->f_mode`. */
  mode: number;
  /** `dmabuf->exp_name`; null when it could not be read. */
  exporter: string | null;
  /** `dmabuf->name`; null when unnamed. */
  name: string | null;
  /** Whether `name` could not be read (it was freed or renamed under the read). */
  nameUnreadable: boolean;
  /** `dev_name()` of each attached device, in list order. */
  attachments: string[];
  /** False when the program could not walk the whole attachment list. */
  attachmentsComplete: boolean;
}

/** A record stream that is not what the program writes. */
export class RecordError extends Error {
  /** Makes the error. */
  constructor(message: string) {
    super(message);
    this.name = "RecordError";
  }
}

const decoder = new TextDecoder();

/** The string a `bpf_probe_read_kernel_str` result describes: `length` bytes with its NUL (<= `capacity`). */
function readString(bytes: Uint8Array, offset: number, length: number, capacity: number, at: number): string {
  if (length > capacity) {
    throw new RecordError(`record at byte ${at}: string length ${length} exceeds its ${capacity}-byte field`);
  }
  return decoder.decode(bytes.subarray(offset, offset + length - 1));
}

/**
 * Parses the records the iterator program wrote, in order.
 * @throws {RecordError} on a bad magic, an unknown version or kind, a length that is not the kind's, a record
 * cut off by the end of the data, a string length beyond its field, or an attachment before any buffer
 */
export function parseRecords(bytes: Uint8Array): IteratedBuffer[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const buffers: IteratedBuffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + RECORD_HEADER_SIZE > bytes.length) {
      throw new RecordError(`record at byte ${at}: ${bytes.length - at} bytes left, a header is 8`);
    }
    const magic = view.getUint32(at, true);
    if (magic !== RECORD_MAGIC) {
      throw new RecordError(
        `record at byte ${at}: magic 0x${magic.toString(16)}, expected 0x62616d64 ("dmab")`,
      );
    }
    const version = view.getUint8(at + 4);
    if (version !== RECORD_VERSION) {
      throw new RecordError(
        `record at byte ${at}: layout version ${version}, this dmabuf reads ${RECORD_VERSION}`,
      );
    }
    const kind = view.getUint8(at + 5);
    const length = view.getUint16(at + 6, true);
    const expected = kind === RecordKind.BUFFER
      ? BufferRecord.SIZE
      : kind === RecordKind.ATTACHMENT
      ? AttachmentRecord.SIZE
      : null;
    if (expected === null) throw new RecordError(`record at byte ${at}: unknown kind ${kind}`);
    if (length !== expected) {
      throw new RecordError(
        `record at byte ${at}: kind ${kind} is ${expected} bytes, the header says ${length}`,
      );
    }
    if (at + length > bytes.length) {
      throw new RecordError(`record at byte ${at}: ${length} bytes, only ${bytes.length - at} left`);
    }
    if (kind === RecordKind.BUFFER) buffers.push(parseBuffer(bytes, view, at));
    else {
      const last = buffers.at(-1);
      if (last === undefined) throw new RecordError(`record at byte ${at}: an attachment before any buffer`);
      addAttachment(last, bytes, view, at);
    }
    at += length;
  }
  return buffers;
}

function parseBuffer(bytes: Uint8Array, view: DataView, at: number): IteratedBuffer {
  const r = BufferRecord;
  const expLength = view.getInt32(at + r.EXP_NAME_LEN, true);
  const nameLength = view.getInt32(at + r.NAME_LEN, true);
  return {
    inode: Number(view.getBigUint64(at + r.INODE, true)),
    size: Number(view.getBigUint64(at + r.SIZE_FIELD, true)),
    fileRef: view.getBigUint64(at + r.FILE_REF, true),
    flags: view.getUint32(at + r.FLAGS, true),
    mode: view.getUint32(at + r.MODE, true),
    exporter: expLength > 0 ? readString(bytes, at + r.EXP_NAME, expLength, EXP_NAME_CAPACITY, at) : null,
    name: nameLength > 0 ? readString(bytes, at + r.NAME, nameLength, NAME_CAPACITY, at) : null,
    nameUnreadable: nameLength < 0,
    attachments: [],
    attachmentsComplete: true,
  };
}

function addAttachment(buffer: IteratedBuffer, bytes: Uint8Array, view: DataView, at: number): void {
  const r = AttachmentRecord;
  const status = view.getUint32(at + r.STATUS, true);
  if (status === AttachmentStatus.LIST_TRUNCATED || status === AttachmentStatus.LIST_UNREADABLE) {
    buffer.attachmentsComplete = false;
    return;
  }
  if (status !== AttachmentStatus.DEVICE) {
    throw new RecordError(`record at byte ${at}: unknown attachment status ${status}`);
  }
  const length = view.getInt32(at + r.NAME_LEN, true);
  buffer.attachments.push(
    length > 0 ? readString(bytes, at + r.NAME, length, DEVICE_NAME_CAPACITY, at) : "?",
  );
}
