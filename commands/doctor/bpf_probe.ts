/**
 * Whether the BPF dmabuf iterator (`iter/dmabuf`, kernel/bpf/dmabuf_iter.c, 6.16) is there, without loading a
 * program: its iterator function `bpf_iter_dmabuf` is named in the kernel's BTF, which the iterator's
 * programs need anyway.
 *
 * Where the BTF names it, the BPF loader of `dmabuf stat --source bpf` is then tried (load, attach, read once,
 * close: nothing stays behind), so the reason says whether dmabuf can use it here and, if not, why (no
 * CAP_BPF, the verifier). The doctor check reads only the {@link FeatureProbe} returned here.
 * @module
 */

import { VMLINUX_BTF, vmlinuxHasName } from "../../ffi/btf.ts";
import { bpfIteratorStatus } from "../../ffi/bpf/dmabuf_iter.ts";
import type { FeatureProbe } from "./facts.ts";

/** The BTF name of the iterator's target function (`DEFINE_BPF_ITER_FUNC(dmabuf, ...)`). */
export const BPF_DMABUF_ITER_NAME = "bpf_iter_dmabuf";

/**
 * Probes for the BPF dmabuf iterator: named in the kernel's BTF at `btfPath`, then (when `load` and it is)
 * loaded by dmabuf's own program. Never throws.
 */
export function probeBpfDmabufIter(
  btfPath: string = VMLINUX_BTF,
  load = btfPath === VMLINUX_BTF,
): FeatureProbe {
  try {
    if (!vmlinuxHasName(BPF_DMABUF_ITER_NAME, btfPath)) {
      return { present: false, reason: `${btfPath} does not name ${BPF_DMABUF_ITER_NAME}` };
    }
    const named = `${btfPath} names ${BPF_DMABUF_ITER_NAME}`;
    if (!load) return { present: true, reason: named };
    const status = bpfIteratorStatus();
    return status.available
      ? {
        present: true,
        usable: true,
        reason: `${named}; dmabuf's program loaded and listed ${status.buffers} buffer(s)`,
      }
      : { present: true, usable: false, reason: `${named}, but dmabuf cannot use it here: ${status.reason}` };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return {
        present: false,
        reason: `no ${btfPath}: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF), which the iterator needs`,
      };
    }
    const code = (error as { code?: unknown }).code;
    return {
      present: null,
      reason: `${btfPath}: ${typeof code === "string" ? code : (error as Error).message}`,
    };
  }
}
