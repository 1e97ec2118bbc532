/**
 * A memory mapping of a file (a dma-buf, a memfd) as a disposable object. The mapped bytes are never handed
 * out: reads return copies and writes copy in, so nothing can touch the memory after `munmap`.
 * @module
 */

import { check, lastError, libc } from "./libc.ts";
import type { Fd } from "./fd.ts";
import { fillPattern, findMismatch, type Pattern, patternBytes, repeatedByte } from "./pattern.ts";

/** `mmap(2)` protection and flags. */
export const Mmap = {
  PROT_READ: 0x1,
  PROT_WRITE: 0x2,
  MAP_SHARED: 0x01,
  MAP_PRIVATE: 0x02,
} as const;

/** `MAP_FAILED`, `(void *)-1`: mmap returns a pointer object even on failure. */
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/** Options of {@link Mapping.map}. */
export interface MapOptions {
  /** Map writable (`PROT_WRITE`); the fd must be open for writing. Default false. */
  write?: boolean;
  /** Page-aligned offset in the file. Default 0. */
  offset?: number;
  /**
   * `MAP_PRIVATE` instead of `MAP_SHARED`: for files whose mmap refuses shared mappings
   * (`/sys/kernel/btf/vmlinux`). Default false.
   */
  private?: boolean;
}

/** The first differing byte found by {@link Mapping.verify}. */
export interface Mismatch {
  /** Offset in the buffer of the first differing byte. */
  offset: number;
  /** Up to 16 expected bytes from there. */
  expected: Uint8Array;
  /** The bytes found there. */
  actual: Uint8Array;
}

/** Bytes compared per `memcmp` call when verifying a one-byte pattern. */
const REFERENCE_CHUNK = 1 << 16;
const referenceChunks = new Map<number, Uint8Array<ArrayBuffer>>();

/** A {@link REFERENCE_CHUNK}-byte buffer of `value`, made once per value. */
function referenceChunk(value: number): Uint8Array<ArrayBuffer> {
  let chunk = referenceChunks.get(value);
  if (chunk === undefined) {
    chunk = new Uint8Array(REFERENCE_CHUNK).fill(value);
    referenceChunks.set(value, chunk);
  }
  return chunk;
}

/** `pointer + offset`; a new pointer object only when the offset is not 0 (it costs a small allocation). */
function at(pointer: Deno.PointerObject, offset: number): Deno.PointerObject {
  return offset === 0 ? pointer : Deno.UnsafePointer.offset(pointer, offset)!;
}

/** A mapping of `length` bytes of an fd. */
export class Mapping implements Disposable {
  #pointer: Deno.PointerObject | null;
  /**
   * A JavaScript view of the mapping, made on first use by a JS loop: creating one (an external
   * ArrayBuffer) costs more than the mmap itself, and one-byte fills and verifies go through libc instead.
   */
  #view: Uint8Array | null = null;
  /** Mapped length in bytes. */
  readonly length: number;
  /** Offset of the mapping in the file. */
  readonly offset: number;
  /** Whether the mapping is writable. */
  readonly writable: boolean;
  /** What is mapped, for messages. */
  readonly label: string;

  private constructor(
    pointer: Deno.PointerObject,
    length: number,
    offset: number,
    writable: boolean,
    label: string,
  ) {
    this.#pointer = pointer;
    this.length = length;
    this.offset = offset;
    this.writable = writable;
    this.label = label;
  }

  /**
   * `mmap(NULL, length, PROT_READ[|PROT_WRITE], MAP_SHARED (or MAP_PRIVATE), fd, offset)`.
   * @throws {SyscallError} e.g. EINVAL for a range past the end of a dma-buf, EACCES for a read-only fd
   */
  static map(file: Fd, length: number, options: MapOptions = {}): Mapping {
    const writable = options.write ?? false;
    const offset = options.offset ?? 0;
    const prot = Mmap.PROT_READ | (writable ? Mmap.PROT_WRITE : 0);
    const flags = options.private === true ? Mmap.MAP_PRIVATE : Mmap.MAP_SHARED;
    const pointer = libc().mmap(null, BigInt(length), prot, flags, file.fd, BigInt(offset));
    if (pointer === null || Deno.UnsafePointer.value(pointer) === MAP_FAILED) {
      throw lastError("mmap", file.label);
    }
    return new Mapping(pointer, length, offset, writable, file.label);
  }

  /** The mapped pointer after checking that `[offset, offset + length)` may be accessed as asked. */
  #checked(offset: number, length: number, forWrite: boolean): Deno.PointerObject {
    if (this.#pointer === null) throw new Error(`Mapping of ${this.label} is unmapped`);
    if (forWrite && !this.writable) throw new Error(`Mapping of ${this.label} is read-only`);
    if (
      !Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 ||
      offset + length > this.length
    ) {
      throw new RangeError(
        `Range ${offset}+${length} is outside the ${this.length}-byte mapping of ${this.label}`,
      );
    }
    return this.#pointer;
  }

  #bytes(offset: number, length: number, forWrite: boolean): Uint8Array {
    const pointer = this.#checked(offset, length, forWrite);
    this.#view ??= new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, this.length));
    return this.#view.subarray(offset, offset + length);
  }

  /** A copy of `length` bytes from `offset` (default: the whole mapping). */
  read(offset = 0, length = this.length - offset): Uint8Array {
    return this.#bytes(offset, length, false).slice();
  }

  /** Copies `data` into the mapping at `offset`. */
  write(offset: number, data: Uint8Array): void {
    this.#bytes(offset, data.length, true).set(data);
  }

  /** Writes `pattern` over `[offset, offset + length)` (default: the whole mapping). */
  fill(pattern: Pattern, offset = 0, length = this.length - offset): void {
    const byte = repeatedByte(pattern);
    if (byte !== null) {
      libc().memset(at(this.#checked(offset, length, true), offset), byte, BigInt(length));
      return;
    }
    fillPattern(this.#bytes(offset, length, true), pattern, this.offset + offset);
  }

  /** Checks `[offset, offset + length)` against `pattern`; the first difference, or null when all match. */
  verify(pattern: Pattern, offset = 0, length = this.length - offset): Mismatch | null {
    const byte = repeatedByte(pattern);
    const index = byte !== null
      ? this.#findByteMismatch(byte, pattern, offset, length)
      : findMismatch(this.#bytes(offset, length, false), pattern, this.offset + offset);
    if (index === -1) return null;
    const shown = Math.min(16, length - index);
    return {
      offset: offset + index,
      expected: patternBytes(pattern, this.offset + offset + index, shown),
      actual: this.read(offset + index, shown),
    };
  }

  /**
   * {@link findMismatch} for one repeated byte: libc `memcmp` against a chunk of that byte does the scan
   * (vectorised, as C would), and only a chunk that differs is searched byte by byte.
   */
  #findByteMismatch(byte: number, pattern: Pattern, offset: number, length: number): number {
    const pointer = this.#checked(offset, length, false);
    const reference = referenceChunk(byte);
    for (let done = 0; done < length; done += reference.length) {
      const n = Math.min(reference.length, length - done);
      const start = at(pointer, offset + done);
      if (libc().memcmp(start, reference, BigInt(n)) !== 0) {
        const chunk = this.#bytes(offset + done, n, false);
        return done + findMismatch(chunk, pattern, this.offset + offset + done);
      }
    }
    return -1;
  }

  /** Whether the mapping is still in place. */
  get mapped(): boolean {
    return this.#pointer !== null;
  }

  /** `munmap(2)`; idempotent. @throws {SyscallError} */
  unmap(): void {
    if (this.#pointer === null) return;
    const pointer = this.#pointer;
    this.#pointer = null;
    this.#view = null;
    check(libc().munmap(pointer, BigInt(this.length)), "munmap", this.label);
  }

  /** Unmaps, swallowing errors. */
  [Symbol.dispose](): void {
    try {
      this.unmap();
    } catch {
      // munmap of a range we mapped cannot fail short of a bug; the view is already gone either way
    }
  }
}
