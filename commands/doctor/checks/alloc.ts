/**
 * Allocation: a buffer of `--size` (one page by default) from each heap this run looks at, mapped read-write
 * inside a `DMA_BUF_IOCTL_SYNC` bracket, then freed. A CMA heap's failure is explained by {@link cmaFailure};
 * a second name of a CMA area already tried (7.2's legacy heap name) is not tried again.
 * @module
 */

import { formatBytes, formatDuration } from "../../toolkit/units.ts";
import { UDMABUF_HEAP } from "../../../ffi/dma_heap.ts";
import { formatMemoryLeft } from "../../heap_errors.ts";
import type { Facts } from "../facts.ts";
import type { DoctorCheck, Verdict } from "../runner.ts";
import { cmaAreaOf, cmaDuplicateOf, isCmaHeap, nodeOf, targets, trialOf } from "../model.ts";
import { cmaFailure } from "./cma.ts";

function allocCheck(facts: Facts, heap: string): Verdict {
  const duplicate = cmaDuplicateOf(facts, heap);
  if (duplicate !== null) {
    return {
      status: "ok",
      summary: `the same CMA area as ${duplicate} (${cmaAreaOf(facts, heap)?.name}): tried there, not twice`,
      data: { sameAs: duplicate },
    };
  }
  const trial = trialOf(facts, heap);
  if (trial === undefined) {
    return {
      status: "skip",
      summary: "no allocation was tried",
      fix: "this is a bug in dmabuf: report it with the output of dmabuf doctor --json",
    };
  }
  const what = formatBytes(trial.size);
  const data = { size: trial.size, allocError: trial.allocError, mapError: trial.mapError, ms: trial.ms };
  if (trial.notTried !== null) {
    return {
      status: "fail",
      summary: `${what} was not tried: ${trial.notTried}`,
      fix: "ask for less than MemAvailable, or free memory first",
      data: { ...data, notTried: trial.notTried },
    };
  }
  if (trial.allocError === null && trial.mapError === null) {
    return {
      status: "ok",
      summary: `allocated ${what} in ${formatDuration(trial.ms)}, mapped it read-write inside ` +
        "DMA_BUF_IOCTL_SYNC, freed it",
      data,
    };
  }
  if (trial.allocError === null) {
    return {
      status: "fail",
      summary: `allocated ${what}, but mapping it failed: ${trial.mapError}`,
      fix:
        "this heap's buffers cannot be mapped by the CPU (a protected or device-only heap): hand them to " +
        "devices only, or allocate CPU-visible buffers from another heap",
      data,
    };
  }
  if (isCmaHeap(facts, heap)) {
    const verdict = cmaFailure(facts, trial, cmaAreaOf(facts, heap));
    return { ...verdict, data: { ...data, ...verdict.data } };
  }
  if (trial.allocError === "ENOMEM") {
    return {
      status: "fail",
      summary: `allocating ${what} failed with ENOMEM (${formatMemoryLeft(facts.memory)})`,
      fix: `free memory, or ask for less than MemAvailable`,
      data,
    };
  }
  const device = heap === UDMABUF_HEAP ? "udmabuf" : `the ${heap} heap`;
  return {
    status: "fail",
    summary: `allocating ${what} from ${device} failed with ${trial.allocError}`,
    fix: `look for ${device}'s message in dmesg`,
    data,
  };
}

/** The allocation checks for the heaps this run looks at, each after its access check. */
export function allocChecks(facts: Facts): DoctorCheck[] {
  return targets(facts).map((name) => ({
    id: `alloc.${name}`,
    section: "alloc",
    title: `allocate ${facts.request.size === null ? "a page" : formatBytes(facts.request.size)} from ` +
      `${nodeOf(facts, name).path}, map it, free it`,
    requires: name === UDMABUF_HEAP ? [`access.${name}`, "limits.udmabuf"] : [`access.${name}`],
    run: (f: Facts) => allocCheck(f, name),
  }));
}
