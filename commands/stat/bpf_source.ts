/**
 * `dmabuf stat --source bpf`: the system's dma-bufs through the kernel's BPF iterator `iter/dmabuf` (6.16+),
 * in the snapshot shape the other sources produce. Everything bufinfo shows per buffer but the fences.
 * @module
 */

import { type BpfDmabuf, readDmabufsWithBpf } from "../../ffi/bpf/dmabuf_iter.ts";
import { listSnapshot, type Snapshot, type StatBuffer } from "./snapshot.ts";

/** What the bpf source reads, as the source line and `sourcePath` name it. */
export const BPF_SOURCE_PATH = "iter/dmabuf";

function toStatBuffer({ nameUnreadable, ...buffer }: BpfDmabuf): StatBuffer {
  // A BPF program could walk dma_resv's fence list too, but not under its lock as bufinfo does: no fences.
  return { ...buffer, fences: null, ...(nameUnreadable ? { nameKnown: false as const } : {}) };
}

/**
 * A snapshot from `iter/dmabuf`.
 * @throws {BpfUnavailable} naming what is missing (the kernel, BTF, privileges, the verifier)
 */
export function readBpfSnapshot(): Snapshot {
  return listSnapshot("bpf", BPF_SOURCE_PATH, readDmabufsWithBpf().map(toStatBuffer), null);
}
