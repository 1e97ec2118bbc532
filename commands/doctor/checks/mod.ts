/**
 * The whole battery of `dmabuf doctor`, in run order: kernel support, version-gated features, access, CMA,
 * limits, allocation. The heap-specific checks (access, allocation) are made for the heaps the facts name.
 * @module
 */

import type { Facts } from "../facts.ts";
import type { DoctorCheck } from "../runner.ts";
import { accessChecks } from "./access.ts";
import { allocChecks } from "./alloc.ts";
import { cmaChecks } from "./cma.ts";
import { featureChecks } from "./features.ts";
import { kernelChecks } from "./kernel.ts";
import { limitChecks } from "./limits.ts";

/** Every check for a run on `facts`. */
export function doctorChecks(facts: Facts): DoctorCheck[] {
  return [
    ...kernelChecks(),
    ...featureChecks(),
    ...accessChecks(facts),
    ...cmaChecks(),
    ...limitChecks(),
    ...allocChecks(facts),
  ];
}
