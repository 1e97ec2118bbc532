/**
 * `deno task test:vm`: the real-kernel tiers in the test VM (run.ts), on any of its kernels and architectures.
 *
 * ```sh
 * deno task test:vm                                 # x86_64, Linux 6.1: deno test tests/kernel/
 * deno task test:vm --kernel 6.12 -- --filter smoke # x86_64, Linux 6.12; after --: deno test arguments
 * deno task test:vm --arch arm64 --page-size 16k    # the board tier on arm64 6.12 with 16 KiB pages
 * ```
 *
 * On x86_64 the guest runs `deno test tests/kernel/` with DMABUF_REQUIRE_HW=1 (missing hardware fails).
 * On the arm64 board there is no checkout and no test runner, only busybox and the bundle: the guest runs
 * tests/board/tier.sh (`dmabuf smoke --format tap`, then the lab scenario tests/board/scenario.sh, both TAP),
 * and this process checks each TAP stream strictly — a plan, every test numbered in order, as many as
 * planned — and that the guest had the page size asked for. The tier also runs the LAVA test definition
 * tests/lava/dmabuf-smoke.yaml as LAVA would (its run.sh, written here by tests/lava/definition.ts with the
 * board's bundle as job parameters, under busybox sh with the lava-test-case/lava-test-set recorders on
 * PATH) and `dmabuf smoke --json`; this process reads the run's console as LAVA's dispatcher does and
 * compares the cases with the JSON report ({@link compareLavaRun}), a third TAP stream, `lava`. It then prints a summary line in deno test's
 * format (`ok | N passed | N failed | N ignored`, skips as ignored) for tests/run_all.sh. Exit status: 0 when
 * everything passed and nothing was skipped, else 1 (or the VM runner's own failure status).
 * @module
 */

import { parseOptions, runMain, VmError } from "./run.ts";
import { parseDefinition, runScript } from "../lava/definition.ts";
import { dispatcherRead, type LavaRecord } from "../commands/lab/lava_dispatcher.ts";
import {
  compareCases,
  comparisonTap,
  type ComparisonTest,
  RUN_LEVEL_CASES,
  type SectionOutput,
  testList,
} from "../lava/compare.ts";
import { fileURLToPath } from "node:url";

const RUNNER = fileURLToPath(new URL("run.ts", import.meta.url));
const BOARD_FILES = [
  "../board/tier.sh",
  "../board/scenario.sh",
  "../lava/lava-test-case",
  "../lava/lava-test-set",
].map((path) => fileURLToPath(new URL(path, import.meta.url)));
const DEFINITION = fileURLToPath(new URL("../lava/dmabuf-smoke.yaml", import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL("../../package.json", import.meta.url));
/** Where board_root.sh unpacks the bundle on the board (`/opt/dmabuf-<version>/bin/dmabuf`). */
const BOARD_BUNDLE_ROOT = "/opt";
/** The run.sh of the definition on the job share (tier.sh runs it). */
const DEFINITION_SCRIPT = "dmabuf-smoke-run.sh";

/** One test line of a TAP stream. */
export interface TapTest {
  number: number;
  ok: boolean;
  skip: boolean;
  description: string;
}

/** A TAP stream checked strictly: its tests and everything wrong with its structure. */
export interface TapReport {
  plan: number | undefined;
  tests: TapTest[];
  /** Structural problems (no plan, numbering, count, stray lines); each counts as a failure. */
  problems: string[];
}

/** Parses TAP (version 13, with YAML blocks) strictly. */
export function parseTap(text: string): TapReport {
  const report: TapReport = { plan: undefined, tests: [], problems: [] };
  let inYaml = false;
  for (const line of text.split("\n")) {
    if (inYaml) {
      if (/^\s+\.\.\.$/.test(line)) inYaml = false;
      continue;
    }
    if (line === "" || line.startsWith("#") || line === "TAP version 13") continue;
    if (/^\s+---$/.test(line)) {
      inYaml = true;
      continue;
    }
    const plan = /^1\.\.(\d+)(\s+#.*)?$/.exec(line);
    if (plan) {
      if (report.plan !== undefined) report.problems.push(`a second plan: ${line}`);
      report.plan = Number(plan[1]);
      continue;
    }
    const test = /^(not ok|ok) (\d+)(?: - )?(.*?)(?: # (SKIP|skip)\b.*)?$/.exec(line);
    if (test) {
      const number = Number(test[2]);
      if (number !== report.tests.length + 1) {
        report.problems.push(`test ${number} where ${report.tests.length + 1} was due`);
      }
      report.tests.push({ number, ok: test[1] === "ok", skip: test[4] !== undefined, description: test[3]! });
      continue;
    }
    report.problems.push(`not TAP: ${line}`);
  }
  if (report.plan === undefined) report.problems.push("no plan (1..N)");
  else if (report.plan !== report.tests.length) {
    report.problems.push(`planned ${report.plan} tests, ${report.tests.length} ran`);
  }
  return report;
}

/** A section of the board tier's output: between `@@tap NAME` (or `@@text NAME`) and `@@exit STATUS`. */
export interface BoardSection {
  name: string;
  /** `tap` for a TAP stream, `text` for other output (the LAVA run's console, a JSON report). */
  kind: "tap" | "text";
  text: string;
  /** The exit status of the section's command, or undefined when its end never came. */
  status: number | undefined;
}

/** Splits the board tier's output into its machine line and TAP sections. */
export function splitBoardOutput(text: string): { machine: string | undefined; sections: BoardSection[] } {
  let machine: string | undefined;
  const sections: BoardSection[] = [];
  let current: BoardSection | undefined;
  for (const line of text.split("\n")) {
    const start = /^@@(tap|text) (\S+)$/.exec(line);
    const exit = /^@@exit (\d+)$/.exec(line);
    if (line.startsWith("@@machine ")) machine = line.slice("@@machine ".length);
    else if (start) {
      sections.push(
        current = { name: start[2]!, kind: start[1] as "tap" | "text", text: "", status: undefined },
      );
    } else if (exit && current) {
      current.status = Number(exit[1]);
      current = undefined;
    } else if (current) current.text += `${line}\n`;
  }
  return { machine, sections };
}

/** Totals of the board tier. */
export interface BoardVerdict {
  passed: number;
  failed: number;
  skipped: number;
  /** One line per failure, skip or problem. */
  notes: string[];
}

/**
 * Compares a run of the LAVA definition (`run`: its console as LAVA reads it, and run.sh's exit status) with
 * `dmabuf smoke --json` on the same board (`smoke`): the run starts and ends (STARTRUN, ENDRUN, exit 0); the
 * dispatcher (tests/commands/lab/lava_dispatcher.ts) reads it without error; test sets are paired; every
 * smoke check is exactly one case, id `<group>.<check>` as commands/lab/names.ts maps and uniquifies them,
 * with the JSON's result, in its group's test set; each run-level case is there once, passed, outside any
 * set; and there is no other case. Failing checks do not fail these tests, a result that differs does.
 */
export function compareLavaRun(
  run: SectionOutput,
  smoke: SectionOutput,
  runLevelCases: readonly string[] = RUN_LEVEL_CASES,
): ComparisonTest[] {
  const { tests, test } = testList();

  const lines = run.text.split("\n");
  const startRun = lines.findIndex((line) => /<LAVA_SIGNAL_STARTRUN \S+ \S+>/.test(line));
  const endRun = lines.findIndex((line) => /<LAVA_SIGNAL_ENDRUN \S+ \S+>/.test(line));
  const runProblems: string[] = [];
  if (run.status !== 0) runProblems.push(`run.sh exit status ${run.status ?? "none (it never finished)"}`);
  if (startRun < 0) runProblems.push("no STARTRUN signal");
  if (endRun < 0) runProblems.push("no ENDRUN signal");
  else if (endRun < startRun) runProblems.push("ENDRUN before STARTRUN");
  test("definition: run.sh exits 0, between STARTRUN and ENDRUN", runProblems);

  let records: LavaRecord[] = [];
  try {
    records = dispatcherRead(run.text);
    test(`definition: LAVA's dispatcher reads its ${records.length} cases without error`, []);
  } catch (error) {
    test("definition: LAVA's dispatcher reads its cases without error", [(error as Error).message]);
  }

  const setProblems: string[] = [];
  let open: string | null = null;
  for (const match of run.text.matchAll(/<LAVA_SIGNAL_TESTSET (START \S+|STOP)>/g)) {
    const name = match[1] === "STOP" ? null : match[1]!.slice("START ".length);
    if (name !== null && open !== null) setProblems.push(`START ${name} while ${open} is open`);
    if (name === null && open === null) setProblems.push("STOP with no set open");
    open = name;
  }
  if (open !== null) setProblems.push(`${open} is never stopped`);
  test("definition: each test set START is closed by a STOP before the next", setProblems);

  tests.push(...compareCases(records, smoke, runLevelCases));
  return tests;
}

/** The `lava` stream of the board tier: its `lava-run` and `smoke-json` sections compared. */
export function lavaSection(sections: BoardSection[]): BoardSection {
  const output = (name: string): SectionOutput => {
    const section = sections.find((s) => s.name === name);
    return { text: section?.text ?? "", status: section?.status };
  };
  const tests = compareLavaRun(output("lava-run"), output("smoke-json"));
  return {
    name: "lava",
    kind: "tap",
    text: comparisonTap(tests),
    status: tests.every((test) => test.ok) ? 0 : 1,
  };
}

/**
 * Judges the board tier's output: the smoke and scenario TAP streams and the LAVA comparison
 * ({@link lavaSection}) present and clean, on the page size asked for.
 */
export function judgeBoard(text: string, pageSize: string): BoardVerdict {
  const verdict: BoardVerdict = { passed: 0, failed: 0, skipped: 0, notes: [] };
  const { machine, sections } = splitBoardOutput(text);
  const fail = (note: string) => {
    verdict.failed++;
    verdict.notes.push(note);
  };
  if (!machine?.startsWith("aarch64 ")) fail(`not an aarch64 guest: ${machine ?? "no machine line"}`);
  else if (!machine.endsWith(` page=${pageSize}`)) fail(`page size asked ${pageSize}, guest says ${machine}`);
  const streams = [...sections.filter((s) => s.kind === "tap"), lavaSection(sections)];
  for (const name of ["smoke", "scenario", "lava"]) {
    const section = streams.find((s) => s.name === name);
    if (!section) {
      fail(`${name}: no output`);
      continue;
    }
    const report = parseTap(section.text);
    for (const test of report.tests) {
      if (test.skip) {
        verdict.skipped++;
        verdict.notes.push(`${name}: skipped ${test.number} - ${test.description}`);
      } else if (test.ok) verdict.passed++;
      else fail(`${name}: not ok ${test.number} - ${test.description}`);
    }
    for (const problem of report.problems) fail(`${name}: ${problem}`);
    const failedTests = report.tests.some((test) => !test.ok);
    if (section.status === undefined) fail(`${name}: never finished`);
    else if ((section.status === 0) === failedTests) {
      fail(`${name}: exit status ${section.status} does not match its TAP results`);
    }
  }
  return verdict;
}

const encoder = new TextEncoder();

function printLine(line: string): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}

/** Streams a child's stdout to ours while keeping a copy. */
async function tee(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    let done = 0;
    while (done < chunk.length) done += await Deno.stdout.write(chunk.subarray(done));
  }
  return text + decoder.decode();
}

async function main(args: string[]): Promise<number> {
  const split = args.indexOf("--");
  const vmArgs = split < 0 ? args : args.slice(0, split);
  const testArgs = split < 0 ? [] : args.slice(split + 1);
  const options = parseOptions(vmArgs);
  if (options.command.length > 0) {
    throw new VmError(`Unexpected argument "${options.command[0]}": deno test arguments go after --`, 2);
  }
  const runner = ["run", "--allow-all", "--no-prompt", RUNNER, ...vmArgs, "--require-hw"];
  if (options.arch === "x86_64") {
    const command = [
      "deno",
      "test",
      "--allow-all",
      "--no-prompt",
      "--no-check",
      ...testArgs,
      "tests/kernel/",
    ];
    const child = new Deno.Command(Deno.execPath(), {
      args: [...runner, "--", ...command],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    return (await child.status).code;
  }
  if (testArgs.length > 0) throw new VmError("The board tier takes no test arguments", 2);
  // The definition's run.sh as LAVA writes it, the job's parameters pointing at the board's bundle.
  const scriptDir = await Deno.makeTempDir({ prefix: "dmabuf-board-lava-" });
  let output: string;
  let status: Deno.CommandStatus;
  try {
    const script = `${scriptDir}/${DEFINITION_SCRIPT}`;
    const version = (JSON.parse(await Deno.readTextFile(PACKAGE_JSON)) as { version: string }).version;
    await Deno.writeTextFile(
      script,
      runScript(parseDefinition(await Deno.readTextFile(DEFINITION)), {
        overrides: { DMABUF_ROOT: BOARD_BUNDLE_ROOT, DMABUF_VERSION: version },
      }),
    );
    const files = [...BOARD_FILES, script];
    const child = new Deno.Command(Deno.execPath(), {
      args: [...runner, ...files.flatMap((file) => ["--file", file]), "--", "sh", "/job/tier.sh"],
      stdin: "null",
      stdout: "piped",
    }).spawn();
    output = await tee(child.stdout);
    status = await child.status;
  } finally {
    await Deno.remove(scriptDir, { recursive: true });
  }
  const lava = lavaSection(splitBoardOutput(output).sections);
  printLine(`@@tap lava (on the host: the LAVA run's cases against smoke --json)`);
  Deno.stdout.writeSync(encoder.encode(lava.text));
  printLine(`@@exit ${lava.status}`);
  const verdict = judgeBoard(output, options.pageSize);
  const label = `board tier: arm64 ${options.kernel}, ${options.pageSize} pages`;
  for (const note of verdict.notes) printLine(`${label}: ${note}`);
  const clean = verdict.failed === 0 && verdict.skipped === 0 && status.success;
  if (!status.success && verdict.failed === 0) verdict.failed++;
  printLine(
    `${
      clean ? "ok" : "FAILED"
    } | ${verdict.passed} passed | ${verdict.failed} failed | ${verdict.skipped} ignored (${label})`,
  );
  return clean ? 0 : 1;
}

if (import.meta.main) await runMain("test:vm", main);
