/**
 * KTAP version 1 (the kernel's Documentation/dev-tools/ktap.rst) of a smoke run, as KernelCI and
 * `tools/testing/kunit/kunit.py parse` read it (on kernels before 6.1 in the TAP version 14 dialect their
 * own KUnit wrote and their kunit.py reads: {@link KtapDialect}): one nested subtest per group (heap, udmabuf, battery) with
 * its own version line, `# Subtest:` line and plan, indented by two spaces; `ok N name # SKIP reason`;
 * failure diagnostics as `# name: ...` lines right before the `not ok` line, as KUnit prints them.
 *
 * Test names are the check ids without their group (`alloc-4KiB`), groups the heap names, both mapped to
 * letters, digits, `_ - .` ({@link safeName}): kunit.py takes a result line's name up to the first `#`, and
 * matches a group's `# Subtest:` name against its result line, so neither may hold `#` or spaces.
 *
 * Streaming: KTAP needs each group's plan before its first result and a group's results together, but the
 * battery group's two checks run first and last. Groups are therefore written in the order their last
 * check runs (the heaps in run order, then battery), each result as soon as its group is the one being
 * written; a result of a later group waits (in practice only `battery/heaps-present`, until the end).
 * {@link renderKtap} is the same stream over a finished report, so streamed and rendered text are equal.
 * @module
 */

import type { CheckResult, Report } from "./report.ts";
import { checkPart, safeName, textLines, UniqueNames } from "./names.ts";
import { kernelAtLeast } from "../../ffi/kernel_release.ts";

/**
 * The two shapes the kernel's own KUnit has written, each read by the kunit.py of its kernels:
 * - `ktap1` (KUnit from 6.1 at the latest): `KTAP version 1`, a version line per subtest, `ok N name`, a
 *   `# name: pass:N ...` line per subtest;
 * - `tap14` (KUnit of 5.10): `TAP version 14`, no nested version lines, `ok N - name`, no per-subtest totals.
 *   5.10's kunit.py accepts nothing else: it starts at the first line ending in `TAP version N` and cuts
 *   everything before `TAP` off every later line (so `KTAP version 1` costs each line its first character),
 *   wants exactly `TAP version 14`, a ` - ` in every result line, and a subtest's result right after its last
 *   case. KTAP v1 (ktap.rst) lists `TAP version 14` among the version lines parsers accept, a description may
 *   be any text without `#`, and every later kunit.py (6.1, 7.2) reads this shape too.
 */
export type KtapDialect = "ktap1" | "tap14";

/** The first kernel whose KUnit is known here to write KTAP version 1 (5.10's writes TAP version 14). */
export const KTAP1_KERNEL = "6.1";

/**
 * The dialect of a kernel (`uname -r`): KTAP version 1 where its KUnit writes it; before, TAP version 14,
 * which every kunit.py reads (so a kernel between 5.10 and 6.1 gets the shape all parsers accept).
 */
export function ktapDialect(release: string): KtapDialect {
  return kernelAtLeast(KTAP1_KERNEL, release) ? "ktap1" : "tap14";
}

/** What a stream needs to know of a check before it runs (a smoke `Check` or a `CheckResult`). */
export interface PlannedCheck {
  /** The group (heap) the check belongs to. */
  readonly group: string;
}

const INDENT = "  ";

interface GroupState {
  name: string;
  planned: number;
  names: UniqueNames;
  lines: string[];
  counts: { pass: number; fail: number; skip: number };
  headerWritten: boolean;
}

/** A `# ` diagnostic line; one that would read as a `# Subtest:` header gets a second space. */
function diagnostic(text: string): string {
  return text.startsWith("Subtest:") ? `#  ${text}` : `# ${text}`;
}

/**
 * KTAP of a smoke run, written while it runs: {@link header} before the first check, {@link result} after
 * each, {@link end} after the last. Each returns the text that can be written now.
 */
export class KtapStream {
  readonly #dialect: KtapDialect;
  #groups: GroupState[];
  #byName = new Map<string, GroupState>();
  #current = 0;
  #totals = { pass: 0, fail: 0, skip: 0 };

  /** A stream for `checks`, in the order they will run, in the dialect of the kernel they run on. */
  constructor(checks: readonly PlannedCheck[], dialect: KtapDialect = "ktap1") {
    this.#dialect = dialect;
    const lastIndex = new Map<string, number>();
    checks.forEach((check, index) => lastIndex.set(check.group, index));
    const groupNames = new UniqueNames();
    this.#groups = [...lastIndex.entries()].sort((a, b) => a[1] - b[1]).map(([group]) => {
      const state: GroupState = {
        name: groupNames.take(safeName(group)),
        planned: checks.filter((c) => c.group === group).length,
        names: new UniqueNames(),
        lines: [],
        counts: { pass: 0, fail: 0, skip: 0 },
        headerWritten: false,
      };
      this.#byName.set(group, state);
      return state;
    });
  }

  /** The version line and the plan: one test per group. */
  header(): string {
    return `${this.#dialect === "ktap1" ? "KTAP version 1" : "TAP version 14"}\n1..${this.#groups.length}\n`;
  }

  /** `N name`, or `N - name` in the tap14 dialect. */
  #numbered(number: number, name: string): string {
    return this.#dialect === "ktap1" ? `${number} ${name}` : `${number} - ${name}`;
  }

  /**
   * Takes the next result; returns the lines that can be written now (possibly none).
   * @throws {Error} when the result's group was not planned, or the group has all its results already
   */
  result(result: CheckResult): string {
    const group = this.#byName.get(result.group);
    if (group === undefined) throw new Error(`KTAP: check ${result.id} is in no planned group`);
    const done = group.counts.pass + group.counts.fail + group.counts.skip;
    if (done >= group.planned) {
      throw new Error(`KTAP: group ${result.group} has all its ${group.planned} results`);
    }
    const number = done + 1;
    const name = group.names.take(safeName(checkPart(result.id, result.group)));
    group.counts[result.status]++;
    this.#totals[result.status]++;
    if (result.status === "pass") {
      group.lines.push(`ok ${this.#numbered(number, name)}`);
    } else if (result.status === "skip") {
      const reason = textLines(result.reason ?? "").join(" ").trim();
      group.lines.push(`ok ${this.#numbered(number, name)} # SKIP${reason === "" ? "" : ` ${reason}`}`);
    } else {
      for (const line of textLines(result.reason ?? "failed")) {
        group.lines.push(diagnostic(`${name}: ${line}`));
      }
      for (const [key, value] of Object.entries(result.details)) {
        for (const line of textLines(`${key}: ${String(value)}`)) group.lines.push(diagnostic(`  ${line}`));
      }
      group.lines.push(`not ok ${this.#numbered(number, name)}`);
    }
    return this.#flush(false);
  }

  /** Whatever is still held back, then the totals; after the last result. */
  end(): string {
    const { pass, fail, skip } = this.#totals;
    return this.#flush(true) +
      `# Totals: pass:${pass} fail:${fail} skip:${skip} total:${pass + fail + skip}\n`;
  }

  /** Writes the current group as far as it has results, and the groups after it once it is complete. */
  #flush(final: boolean): string {
    let out = "";
    while (this.#current < this.#groups.length) {
      const group = this.#groups[this.#current]!;
      if (!group.headerWritten && group.lines.length === 0 && !final) break;
      if (!group.headerWritten) {
        if (this.#dialect === "ktap1") out += `${INDENT}KTAP version 1\n`;
        out += `${INDENT}# Subtest: ${group.name}\n${INDENT}1..${group.planned}\n`;
        group.headerWritten = true;
      }
      out += group.lines.map((line) => `${INDENT}${line}\n`).join("");
      group.lines = [];
      const { pass, fail, skip } = group.counts;
      const done = pass + fail + skip;
      // A group cut short (the run stopped) gets no result line: kunit.py then reports its missing tests.
      if (done < group.planned) {
        if (!final) break;
        this.#current++;
        continue;
      }
      if (this.#dialect === "ktap1") {
        out += `${INDENT}# ${group.name}: pass:${pass} fail:${fail} skip:${skip} total:${done}\n`;
      }
      const numbered = this.#numbered(this.#current + 1, group.name);
      if (fail > 0) out += `not ok ${numbered}\n`;
      else if (skip === done) out += `ok ${numbered} # SKIP all ${done} checks skipped\n`;
      else out += `ok ${numbered}\n`;
      this.#current++;
    }
    return out;
  }
}

/**
 * The KTAP text of a finished report, in the dialect of the kernel it ran on; equal to what a
 * {@link KtapStream} wrote during the run.
 */
export function renderKtap(report: Report): string {
  const stream = new KtapStream(report.results, ktapDialect(report.kernel));
  return stream.header() + report.results.map((r) => stream.result(r)).join("") + stream.end();
}
