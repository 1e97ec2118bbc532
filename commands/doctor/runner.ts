/**
 * The one runner of `dmabuf doctor`'s checks. A check is data (`{ id, section, title, requires, run }`) whose
 * `run` decides a verdict from the gathered facts alone; the runner runs them in order and skips a check
 * whose prerequisite was not `ok`, passing on that prerequisite's fix, so one cause is reported once and
 * every verdict that is not `ok` carries a fix.
 * @module
 */

import type { Facts } from "./facts.ts";

/** A verdict: `ok`, `warn` (works, but something is missing or restricted), `fail`, `skip` (not decided). */
export type Status = "ok" | "warn" | "fail" | "skip";

/** Raw values behind a verdict (bytes, pages, modes), for `--json`. */
export type CheckData = Record<string, number | string | boolean | null>;

/** What a check decided. Every verdict but `ok` has a fix: a line the user can apply. */
export type Verdict =
  | {
    /** Nothing to fix. */
    status: "ok";
    /** What was seen, in one line. */
    summary: string;
    /** More of what was seen, or absent. */
    detail?: string;
    /** Raw values. */
    data?: CheckData;
  }
  | {
    /** Something to fix (`fail`, `warn`), or a reason it could not be decided (`skip`). */
    status: "warn" | "fail" | "skip";
    /** What was seen, in one line. */
    summary: string;
    /** More of what was seen, or absent. */
    detail?: string;
    /** The fix: a kernel option, a command-line parameter, a udev rule, a mount command, a group to join. */
    fix: string;
    /** Raw values. */
    data?: CheckData;
  };

/** The parts of the report, in order. */
export const SECTIONS = {
  kernel: "Kernel support",
  features: "Version-gated features",
  access: "Access",
  cma: "CMA",
  limits: "Limits",
  alloc: "Allocation",
} as const;

/** A section of the report. */
export type Section = keyof typeof SECTIONS;

/** One check. */
export interface DoctorCheck {
  /** Stable identifier, documented in the README (`kernel.debugfs`, `access.system`). */
  id: string;
  /** The section it is reported in. */
  section: Section;
  /** What it checks, in words. */
  title: string;
  /** Ids of earlier checks that must be `ok` for this one to run. */
  requires: readonly string[];
  /** Decides the verdict from the facts. */
  run: (facts: Facts) => Verdict;
}

/** A check's result, as reported (and as `--json` prints each check). */
export interface DoctorResult {
  /** The check's id. */
  id: string;
  /** `ok`, `warn`, `fail` or `skip`. */
  status: Status;
  /** What was seen. */
  summary: string;
  /** More of what was seen, or null. */
  detail: string | null;
  /** The fix, or null when the status is `ok`. */
  fix: string | null;
  /** The section. */
  section: Section;
  /** What the check checks. */
  title: string;
  /** Raw values. */
  data: CheckData;
}

/** The fix for a check that could not decide because the program failed, not the system. */
const BUG_FIX = "this is a bug in dmabuf: report it with the output of dmabuf doctor --json";

function result(check: DoctorCheck, verdict: Verdict): DoctorResult {
  return {
    id: check.id,
    status: verdict.status,
    summary: verdict.summary,
    detail: verdict.detail ?? null,
    fix: verdict.status === "ok" ? null : verdict.fix,
    section: check.section,
    title: check.title,
    data: verdict.data ?? {},
  };
}

/**
 * Runs the checks in order on `facts`. A check whose prerequisite is not `ok` is skipped naming it, with its
 * fix; a check that throws fails naming the error. Never throws for a check.
 * @throws {Error} when a check requires one that has not run before it (the list is out of order)
 */
export function runDoctorChecks(checks: readonly DoctorCheck[], facts: Facts): DoctorResult[] {
  const done = new Map<string, DoctorResult>();
  return checks.map((check) => {
    let outcome: DoctorResult | undefined;
    for (const id of check.requires) {
      const earlier = done.get(id);
      if (earlier === undefined) {
        throw new Error(`check ${check.id} requires ${id}, which has not run before it`);
      }
      if (earlier.status === "ok") continue;
      outcome = result(check, {
        status: "skip",
        summary: `needs ${id}, which is ${earlier.status}: ${earlier.summary}`,
        fix: earlier.fix ?? BUG_FIX,
      });
      break;
    }
    if (outcome === undefined) {
      try {
        outcome = result(check, check.run(facts));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcome = result(check, { status: "fail", summary: `could not decide: ${message}`, fix: BUG_FIX });
      }
    }
    done.set(check.id, outcome);
    return outcome;
  });
}

/** How many results have each status. */
export function countStatuses(results: readonly DoctorResult[]): Record<Status, number> {
  const counts: Record<Status, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) counts[r.status]++;
  return counts;
}
