/**
 * Whether the BPF dmabuf iterator (`iter/dmabuf`, kernel/bpf/dmabuf_iter.c, 6.16) is there, without loading a
 * program: its iterator function `bpf_iter_dmabuf` is named in the kernel's BTF, which the iterator's
 * programs need anyway.
 *
 * This is the seam for the BPF loader (`dmabuf stat --source bpf`): once it is merged, its own probe (which
 * can also load and attach the program, and so see a missing CAP_BPF) replaces the body of
 * {@link probeBpfDmabufIter}. The doctor check reads only the {@link FeatureProbe} returned here.
 * @module
 */

import { VMLINUX_BTF, vmlinuxHasName } from "../../ffi/btf.ts";
import type { FeatureProbe } from "./facts.ts";

/** The BTF name of the iterator's target function (`DEFINE_BPF_ITER_FUNC(dmabuf, ...)`). */
export const BPF_DMABUF_ITER_NAME = "bpf_iter_dmabuf";

/** Probes for the BPF dmabuf iterator in the kernel's BTF at `btfPath`. Never throws. */
export function probeBpfDmabufIter(btfPath: string = VMLINUX_BTF): FeatureProbe {
  try {
    return vmlinuxHasName(BPF_DMABUF_ITER_NAME, btfPath)
      ? { present: true, reason: `${btfPath} names ${BPF_DMABUF_ITER_NAME}` }
      : { present: false, reason: `${btfPath} does not name ${BPF_DMABUF_ITER_NAME}` };
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
