/**
 * The one runner of `dmabuf smoke`'s checks: a check is data (`{ id, group, name, requires, run }`); the
 * runner runs them in order and skips a check whose prerequisite did not pass, naming that prerequisite, so
 * one fault is reported once.
 * @module
 */

import { SyscallError } from "../../ffi/errno.ts";
import type { CheckResult, Detail } from "../lab/report.ts";

/** A check gives up as "skipped" by throwing this with the reason. */
export class Skip extends Error {
  /** Makes the skip with `reason`. */
  constructor(reason: string) {
    super(reason);
    this.name = "Skip";
  }
}

/** A check fails with a one-line reason and details (errno names, offsets) by throwing this. */
export class CheckFailure extends Error {
  /** Values that explain the failure. */
  readonly details: Record<string, Detail>;
  /** Makes the failure. */
  constructor(reason: string, details: Record<string, Detail> = {}) {
    super(reason);
    this.name = "CheckFailure";
    this.details = details;
  }
}

/** One check of the battery. */
export interface Check {
  /** Stable identifier, e.g. `system/alloc-4KiB`. */
  id: string;
  /** The heap it runs on, or the battery's own group. */
  group: string;
  /** What it does, in words. */
  name: string;
  /** Ids of earlier checks this one needs; when one did not pass, this one is skipped naming it. */
  requires: readonly string[];
  /** How a dependent's skip reason names this check (`allocation of 4 KiB`); its {@link name} by default. */
  subject?: string;
  /** Runs the check: returns details on success, throws {@link Skip} or {@link CheckFailure} (or anything). */
  run: () => Record<string, Detail> | void;
}

/** Runs one check and records its outcome and time; never throws. */
export function runCheck(check: Check): CheckResult {
  const start = performance.now();
  const done = (status: CheckResult["status"], reason: string | null, details: Record<string, Detail>) => ({
    id: check.id,
    group: check.group,
    name: check.name,
    status,
    reason,
    details,
    durationMs: performance.now() - start,
  });
  try {
    return done("pass", null, check.run() ?? {});
  } catch (error) {
    if (error instanceof Skip) return done("skip", error.message, {});
    if (error instanceof CheckFailure) return done("fail", error.message, error.details);
    const errno = error instanceof SyscallError ? error.code : null;
    const message = error instanceof Error ? error.message : String(error);
    return done("fail", message.split("\n", 1)[0] ?? message, errno === null ? {} : { actual: errno });
  }
}

/**
 * Why `check` cannot run: the skip reason for the first prerequisite that did not pass (a failed one named
 * with what it saw, a skipped one passing its own reason on), or null when all passed.
 * @throws {Error} when a prerequisite has not run before `check` (the battery is out of order)
 */
export function blockedBy(
  check: Check,
  results: ReadonlyMap<string, { check: Check; result: CheckResult }>,
): string | null {
  for (const id of check.requires) {
    const earlier = results.get(id);
    if (earlier === undefined) {
      throw new Error(`check ${check.id} requires ${id}, which has not run before it`);
    }
    const { result } = earlier;
    if (result.status === "pass") continue;
    const subject = earlier.check.subject ?? earlier.check.name;
    if (result.status === "skip") return result.reason ?? `${subject} was skipped`;
    // The errno a failure saw says it best; otherwise the first line of its reason.
    const why = typeof result.details.actual === "string" ? result.details.actual : result.reason;
    return `${subject} failed earlier: ${why}`;
  }
  return null;
}

/** Hooks of {@link runChecks}. */
export interface RunHooks {
  /** Called before a check runs (not for one skipped by a prerequisite). */
  starting?: (check: Check, index: number) => void;
  /** Called with each result as soon as it is known. */
  done?: (result: CheckResult, index: number) => void;
}

/** Runs the checks in order, skipping those whose prerequisites did not pass; never throws for a check. */
export function runChecks(checks: readonly Check[], hooks: RunHooks = {}): CheckResult[] {
  const seen = new Map<string, { check: Check; result: CheckResult }>();
  return checks.map((check, index) => {
    const blocked = blockedBy(check, seen);
    let result: CheckResult;
    if (blocked === null) {
      hooks.starting?.(check, index);
      result = runCheck(check);
    } else {
      result = {
        id: check.id,
        group: check.group,
        name: check.name,
        status: "skip",
        reason: blocked,
        details: {},
        durationMs: 0,
      };
    }
    seen.set(check.id, { check, result });
    hooks.done?.(result, index);
    return result;
  });
}
