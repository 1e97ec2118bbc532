/**
 * Memory outside the JavaScript heap, for a user pointer that a kernel struct holds (`DRM_IOCTL_VERSION`'s
 * `name`, `SYNC_IOC_FILE_INFO`'s `sync_fence_info`).
 *
 * Why not `Deno.UnsafePointer.of(new Uint8Array(n))`: V8 keeps a small typed array's bytes inside the array
 * object on its own heap (up to `--typed-array-max-size-in-heap`, 64 bytes by default), and its garbage
 * collector moves heap objects. The `buffer` FFI type is only guaranteed for the duration of the call it is
 * passed to, and an address copied *into a struct* is not a `buffer` argument at all: nothing pins the array
 * while the kernel writes through that address, so it could write into whatever lives there after a move. libc
 * `calloc` memory never moves and is freed exactly once, on dispose.
 * @module
 */

import { libc } from "./libc.ts";

/** `length` zeroed bytes from libc `calloc`; dispose frees them (idempotent). */
export class NativeMemory implements Disposable {
  /** Size in bytes. */
  readonly length: number;
  #pointer: Deno.PointerObject | null;

  /**
   * Allocates `length` zeroed bytes (at least one).
   * @throws {Error} when calloc fails
   */
  constructor(length: number) {
    const pointer = libc().calloc(BigInt(Math.max(1, length)), 1n);
    if (pointer === null) throw new Error(`Cannot allocate ${length} bytes: calloc returned NULL`);
    this.length = length;
    this.#pointer = pointer;
  }

  /** The address, as a struct's `__u64` pointer field takes it. @throws {Error} after dispose */
  get address(): bigint {
    return Deno.UnsafePointer.value(this.#live());
  }

  /** A copy of the bytes (the copy lives on the JavaScript heap and may move; the memory does not). */
  bytes(): Uint8Array<ArrayBuffer> {
    const copy = new Uint8Array(this.length);
    new Deno.UnsafePointerView(this.#live()).copyInto(copy);
    return copy;
  }

  /**
   * Copies `bytes` into the memory at `offset` (for input a struct points at: instructions, a C string).
   * @throws {RangeError} when they do not fit; {@link Error} after dispose
   */
  write(bytes: Uint8Array, offset = 0): void {
    if (offset < 0 || offset + bytes.length > this.length) {
      throw new RangeError(`Cannot write ${bytes.length} bytes at ${offset} into ${this.length}`);
    }
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(this.#live(), this.length)).set(bytes, offset);
  }

  /** Frees the memory; idempotent. */
  free(): void {
    if (this.#pointer !== null) libc().free(this.#pointer);
    this.#pointer = null;
  }

  /** Frees the memory. */
  [Symbol.dispose](): void {
    this.free();
  }

  #live(): Deno.PointerObject {
    if (this.#pointer === null) throw new Error("NativeMemory used after free");
    return this.#pointer;
  }
}
