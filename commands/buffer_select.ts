/**
 * Choosing the dma-buf a command works on, shared by map, sync, info and fence-wait:
 *
 * - `--fd N`: an fd this process inherited (e.g. from `dmabuf alloc --exec`);
 * - `--pid P --fd N`: fd N of another process, duplicated with `pidfd_getfd(2)`;
 * - `--heap NAME --size SIZE` (or `--size` alone, system heap): a fresh buffer.
 *
 * ```ts
 * import { selectBuffer } from "./buffer_select.ts";
 * // route:   parameters: { flags: { ...commonFlags, ...bufferSelectFlags, ... } }
 * // command: using buffer = selectBuffer(flags);
 * ```
 *
 * Every failure is a one-line {@link CliError} (exit 1) or {@link UsageError} (exit 2). The returned buffer
 * is always owned by the caller (inherited fds are duplicated first), so `using` it never closes an fd the
 * process was given.
 * @module
 */

import { CliError, UsageError } from "./toolkit/errors.ts";
import { DmaBuf, NotADmaBufError } from "../ffi/dma_buf.ts";
import { DmaHeap, resolveHeapName, UDMABUF_HEAP } from "../ffi/dma_heap.ts";
import type { Fd } from "../ffi/fd.ts";
import { checkHandedFd } from "./handed_fd.ts";
import { getFdOf } from "../ffi/pidfd.ts";
import { allocUdmabuf, udmabufLimit } from "../ffi/udmabuf.ts";
import { pageAlign } from "../ffi/page_size.ts";
import { formatBytes } from "./toolkit/units.ts";
import { explainHeapError } from "./heap_errors.ts";
import { explainPidError } from "./pid_errors.ts";
import type { BufferSelectFlags } from "./toolkit/flags.ts";

/** The heap a fresh buffer comes from when only `--size` is given. */
export const DEFAULT_HEAP = "system";

/** What a selection names, after checking that the flags make sense together. */
export type BufferSource =
  | { readonly kind: "fd"; readonly fd: number }
  | { readonly kind: "pid"; readonly pid: number; readonly fd: number }
  | { readonly kind: "heap"; readonly heap: string; readonly size: number };

/**
 * Which buffer the flags name.
 * @throws {UsageError} when they name none, or mix an existing fd with a fresh buffer
 */
export function bufferSource(flags: BufferSelectFlags): BufferSource {
  const existing = flags.fd !== undefined || flags.pid !== undefined;
  const fresh = flags.heap !== undefined || flags.size !== undefined;
  if (existing && fresh) {
    throw new UsageError(
      "--fd/--pid select an existing buffer: they cannot be combined with --heap or --size",
    );
  }
  if (flags.pid !== undefined) {
    if (flags.fd === undefined) throw new UsageError(`--pid needs --fd: which fd of pid ${flags.pid} to use`);
    return { kind: "pid", pid: flags.pid, fd: flags.fd };
  }
  if (flags.fd !== undefined) return { kind: "fd", fd: flags.fd };
  if (flags.size !== undefined) return { kind: "heap", heap: flags.heap ?? DEFAULT_HEAP, size: flags.size };
  if (flags.heap !== undefined) {
    throw new UsageError(`--heap needs --size: how large a fresh buffer to allocate from ${flags.heap}`);
  }
  throw new UsageError("Select a buffer: --fd N, --pid P --fd N, or --heap NAME --size SIZE");
}

/** Options of {@link allocateBuffers}. */
export interface AllocateRequest {
  /** Heap name as given (`cma` alias and `udmabuf` accepted). */
  heap: string;
  /** Bytes per buffer (the kernel rounds up to pages). */
  size: number;
  /** How many buffers; default 1. */
  count?: number;
  /** `DMA_BUF_SET_NAME` for each buffer. */
  name?: string;
}

/** Buffers allocated together; disposing closes every one. */
export class BufferSet implements Disposable {
  /** The heap they came from, resolved (`reserved` for `cma`, `udmabuf`). */
  readonly heap: string;
  /** The buffers, in allocation order. */
  readonly buffers: DmaBuf[];

  /** Takes ownership of `buffers`. */
  constructor(heap: string, buffers: DmaBuf[]) {
    this.heap = heap;
    this.buffers = buffers;
  }

  /** Closes every buffer. */
  [Symbol.dispose](): void {
    for (const buffer of this.buffers) buffer[Symbol.dispose]();
  }
}

/**
 * Allocates `count` buffers of `size` bytes from a heap or udmabuf, each named when asked. Nothing stays open
 * when one fails.
 * @throws {CliError} unknown heap (listing the heaps here), EACCES (who may open it, how to get access),
 * ENOMEM (CmaFree, MemAvailable), udmabuf over the driver's size limit
 * @throws {SyscallError} other kernel failures
 */
export function allocateBuffers(request: AllocateRequest): BufferSet {
  const count = request.count ?? 1;
  const buffers: DmaBuf[] = [];
  let resolved = request.heap;
  try {
    if (request.heap === UDMABUF_HEAP) {
      const limit = udmabufLimit();
      if (pageAlign(request.size) > limit) {
        throw new CliError(
          `udmabuf buffers are limited to ${formatBytes(limit)} by the driver (size_limit_mb): ` +
            `${formatBytes(request.size)} is too large`,
          { hint: "use a dma-heap, or load udmabuf with a larger size_limit_mb" },
        );
      }
      for (let i = 0; i < count; i++) {
        const buffer = allocUdmabuf(request.size, request.name ?? "dmabuf");
        buffers.push(buffer);
        if (request.name !== undefined) buffer.setName(request.name);
      }
    } else {
      resolved = resolveHeapName(request.heap);
      using heap = DmaHeap.open(request.heap);
      for (let i = 0; i < count; i++) {
        const buffer = heap.alloc(request.size);
        buffers.push(buffer);
        if (request.name !== undefined) buffer.setName(request.name);
      }
    }
  } catch (error) {
    for (const buffer of buffers) buffer[Symbol.dispose]();
    throw explainHeapError(error, { heap: request.heap, resolved, size: request.size });
  }
  return new BufferSet(resolved, buffers);
}

/** `make()`'s dma-buf, with "not a dma-buf" as a {@link CliError}. */
function dmaBufOr(make: () => DmaBuf): DmaBuf {
  try {
    return make();
  } catch (error) {
    if (error instanceof NotADmaBufError) throw new CliError(error.message, { cause: error });
    throw error;
  }
}

/**
 * The dma-buf the flags name, owned by the caller (close it, e.g. with `using`).
 * @throws {UsageError} for flag combinations that name no buffer or two
 * @throws {CliError} fd not open, not a dma-buf (saying what it is), no such process, no ptrace permission,
 * and the allocation errors of {@link allocateBuffers}
 */
export function selectBuffer(flags: BufferSelectFlags): DmaBuf {
  const source = bufferSource(flags);
  switch (source.kind) {
    case "fd": {
      checkHandedFd(source.fd);
      return dmaBufOr(() => DmaBuf.duplicate(source.fd));
    }
    case "pid": {
      let file: Fd;
      try {
        file = getFdOf({ pid: source.pid, fd: source.fd });
      } catch (error) {
        throw explainPidError(error, "getfd", source);
      }
      return dmaBufOr(() => DmaBuf.from(file));
    }
    case "heap": {
      const set = allocateBuffers({ heap: source.heap, size: source.size });
      return set.buffers[0]!;
    }
  }
}
