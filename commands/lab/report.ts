/**
 * What a test battery reports (`dmabuf smoke`), the model every rendering of it reads: human text and JSON in
 * `commands/smoke/report_format.ts`, TAP, JUnit, KTAP and LAVA here in `commands/lab/`.
 * @module
 */

/** The outcome of one check. */
export type CheckStatus = "pass" | "fail" | "skip";

/** A scalar detail of a check, shown as TAP YAML diagnostics, JUnit text and JSON fields. */
export type Detail = string | number | boolean | null;

/** One check's result. */
export interface CheckResult {
  /** Stable identifier, e.g. `system/alloc-4KiB`. */
  id: string;
  /** What was checked (the heap it ran on), e.g. `system`; `battery` for whole-run checks. */
  group: string;
  /** What the check does, in words, e.g. `allocate 4 KiB`. */
  name: string;
  /** Passed, failed, or skipped. */
  status: CheckStatus;
  /** Why it failed or was skipped (one line); null when it passed. */
  reason: string | null;
  /** Measured values and errno names, e.g. `{ expected: "EINVAL", actual: "ENOMEM" }`. */
  details: Record<string, Detail>;
  /** How long the check took, in milliseconds. */
  durationMs: number;
}

/** The whole run. */
export interface Report {
  /** What ran, e.g. `dmabuf smoke`. */
  suite: string;
  /** `uname -r` of the kernel under test. */
  kernel: string;
  /** The machine's name (JUnit `hostname`). */
  hostname: string;
  /** ISO 8601 start time. */
  startedAt: string;
  /** Wall time of the run in milliseconds. */
  durationMs: number;
  /** Every check in the order it ran. */
  results: CheckResult[];
}

/** Counts of a report's results. */
export interface Summary {
  /** All checks. */
  total: number;
  /** Checks that passed. */
  passed: number;
  /** Checks that failed. */
  failed: number;
  /** Checks skipped for a missing feature. */
  skipped: number;
}

/** Counts passed, failed and skipped checks. */
export function summarize(results: readonly CheckResult[]): Summary {
  const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
  return { total: results.length, passed: count("pass"), failed: count("fail"), skipped: count("skip") };
}

/** Milliseconds in a second, for the formats that give times in seconds. */
export const MS_PER_SECOND = 1000;
