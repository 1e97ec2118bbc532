/**
 * `dmabuf doctor`: why this board cannot allocate, map or wait — and the fix. Reads the system and tries
 * the allocations (gather.ts), decides each check on those facts (checks/, one runner), and reports a
 * checklist or `--json`. Exits 0 when no check failed, 1 when one did.
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { Exit, ExitCode } from "../toolkit/errors.ts";
import { doctorChecks } from "./checks/mod.ts";
import { gatherFacts } from "./gather.ts";
import { doctorReport, renderDoctor } from "./render.ts";
import { runDoctorChecks } from "./runner.ts";

/** Flags of `dmabuf doctor`. */
export interface DoctorFlags extends CommonFlags {
  /** Only this heap (`cma` is the CMA alias, `udmabuf` selects udmabuf) for the access and allocation checks. */
  readonly heap?: string;
  /** The buffer size to try (bytes); one page when absent. */
  readonly size?: number;
}

/** Runs the checks and reports them. */
export async function doctor(this: DmabufContext, flags: DoctorFlags): Promise<void> {
  const out = this.output(flags);
  const facts = await gatherFacts({ heap: flags.heap ?? null, size: flags.size ?? null });
  const results = runDoctorChecks(doctorChecks(facts), facts);
  if (out.json) out.data(doctorReport(facts, results));
  else renderDoctor(out, facts, results);
  if (results.some((r) => r.status === "fail")) throw new Exit(ExitCode.FAILURE);
}
