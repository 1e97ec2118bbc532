/**
 * `deno task test:lava`: the LAVA tier. LAVA's own dispatcher (Debian's lava-dispatcher, `lava-run`: one job,
 * no server) runs the job a lab submits, tests/lava/dmabuf-job.yaml, with only its URLs replaced by local
 * files ({@link localJob}): the test VM's Linux 6.12 kernel, a ramdisk holding busybox, glibc and the bundle
 * of `deno task dist` (tests/vm/board_root.sh; no Node, no checkout), and a local git repository holding
 * tests/lava/dmabuf-smoke.yaml as it is. The device is LAVA's `qemu` device type, its dictionary
 * (tests/lava/qemu-device.jinja2) rendered with LAVA's own templates from Debian's lava-server package
 * (tests/vm/lava_setup.sh, which also installs the dispatcher) and the job's context, as a server renders it.
 *
 * ```sh
 * deno task test:lava                       # x86_64 device
 * deno task test:lava --arch arm64          # the arm64 board kernel (4 KiB pages)
 * LAVA_OUT=/tmp/lava deno task test:lava    # keep job.yaml, device.yaml, lava-run.log (and the references)
 * ```
 *
 * The verdict comes from what lava-run itself recorded (the `results` records of its log): the job
 * completed (the `lava` suite's `job` case passed; otherwise LAVA's own error line is the failure), every test
 * definition ran to its end, and each definition's cases are exactly those of `dmabuf smoke --json` with the
 * same heaps on the same kernel (run in the test VM with the same bundle; {@link compareCases}): same ids,
 * same results, in the same test sets. On every heap (the first definition) every case must pass; the job's
 * second definition names a heap the device lacks, whose failed case must be there as `fail` while the job
 * still completes. Prints the tests as TAP and a summary line in deno test's format
 * (`ok | N passed | N failed | 0 ignored`) for tests/run_all.sh; exit status 0 when every test passed. A tier
 * that cannot start LAVA fails with the reason.
 * @module
 */

import { parse } from "yaml";
import { fileURLToPath } from "node:url";
import { type Arch, buildBoardRoot, buildBundle, runBuildScript, runMain, VmError } from "../vm/run.ts";
import { splitBoardOutput } from "../vm/test_vm.ts";
import { compareCases, comparisonTap, type ComparisonTest, type SectionOutput, testList } from "./compare.ts";
import { parseDefinition } from "./definition.ts";
import type { LavaRecord } from "../commands/lab/lava_dispatcher.ts";

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
/** The job a lab submits (README "In a lab"). */
export const JOB_FILE = path("dmabuf-job.yaml");
/** The test definition, and where it is in the repository the job names. */
const DEFINITION_FILE = path("dmabuf-smoke.yaml");
const DEFINITION_PATH = "tests/lava/dmabuf-smoke.yaml";
/** The device dictionary, beside this file (the template loader's first directory). */
const DEVICE_DICTIONARY = "qemu-device.jinja2";
const RUNNER = path("../vm/run.ts");
const SETUP_SCRIPT = path("../vm/lava_setup.sh");
const BUILD_SCRIPT = path("../vm/build_kernel.sh");
/** The kernel of the tier: the 6.12 test kernels carry what LAVA's overlay disk needs (virtio-blk, ext2). */
const KERNEL = "6.12";
const PAGE_SIZE = "4k";
const EXIT_USAGE = 2;

/** The URLs of the lab's job, and what the tier puts in their place. */
export const LAB_URLS = {
  kernel: "https://example.org/dmabuf/bzImage",
  ramdisk: "https://example.org/dmabuf/dmabuf-board-x86_64.cpio.gz",
  repository: "https://example.org/dmabuf.git",
} as const;

/** Local files for {@link localJob}: absolute paths. */
export type LocalFiles = Record<keyof typeof LAB_URLS, string>;

/** The lab's job with its URLs replaced by `file://` URLs of local files; throws if the job lacks one. */
export function localJob(text: string, files: LocalFiles): string {
  let job = text;
  for (const [key, url] of Object.entries(LAB_URLS) as [keyof typeof LAB_URLS, string][]) {
    if (!job.includes(url)) throw new Error(`The job has no ${url} (${key}) to replace`);
    job = job.replaceAll(url, `file://${files[key]}`);
  }
  return job;
}

/**
 * What the job changes for LAVA's qemu device type with `arch: arm64` (qemu-system-aarch64, the `virt`
 * machine): the architecture in the context, and the console, the PL011 UART. Its kernel and ramdisk are
 * the arm64 ones ({@link localJob}).
 */
export const ARM64_CHANGES = [
  ["arch: amd64", "arch: arm64"],
  ["console=ttyS0,115200", "console=ttyAMA0"],
] as const;

/** The job for the arm64 QEMU device ({@link ARM64_CHANGES}); throws if the job lacks a text to change. */
export function arm64Job(text: string): string {
  let job = text;
  for (const [from, to] of ARM64_CHANGES) {
    if (job.split(from).length !== 2) throw new Error(`The job does not hold "${from}" once`);
    job = job.replace(from, to);
  }
  return job;
}

/** The parts of a LAVA job this tier reads. */
interface Job {
  context?: Record<string, unknown>;
  actions: {
    test?: { definitions: { name: string; path: string; parameters?: Record<string, string> }[] };
  }[];
}

/** One test definition of the job, as LAVA names its results. */
export interface JobDefinition {
  /** LAVA's suite name: `<index>_<name>`, the index counting the job's definitions from 0. */
  suite: string;
  name: string;
  /** The heaps `HEAPS` names (the job's parameter, else the definition's default); empty for all. */
  heaps: string[];
}

/** The job's context (the variables the device dictionary is rendered with) and its test definitions. */
export function readJob(
  text: string,
  definitionText: string,
): { context: Record<string, unknown>; definitions: JobDefinition[] } {
  const job = parse(text) as Job;
  const defaults = parseDefinition(definitionText).params ?? {};
  const definitions = job.actions.flatMap((action) => action.test?.definitions ?? []).map(
    (definition, index) => {
      const heaps = String(definition.parameters?.HEAPS ?? defaults.HEAPS ?? "");
      return {
        suite: `${index}_${definition.name}`,
        name: definition.name,
        heaps: heaps.split(",").filter((heap) => heap !== ""),
      };
    },
  );
  return { context: job.context ?? {}, definitions };
}

/** One `results` record of lava-run's log. */
export interface LavaResult {
  definition: string;
  case: string;
  result: string;
  set?: string;
  error_msg?: string;
  error_type?: string;
}

/**
 * The `results` records of lava-run's log: one YAML flow mapping per line (`- {"dt": ..., "lvl": "results",
 * "msg": {...}}`, lava_common/log.py), read with a YAML parser.
 */
export function parseLavaLog(text: string): LavaResult[] {
  const results: LavaResult[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes('"lvl": "results"')) continue;
    const entry = parse(line.replace(/^- /, "")) as { lvl?: string; msg?: LavaResult };
    if (entry?.lvl === "results" && entry.msg !== undefined) results.push(entry.msg);
  }
  return results;
}

/**
 * Why the job is not complete, from lava-run's records and exit status: LAVA's own error (`Job error:
 * login-action timed out after 58 seconds`), or null when the lava suite's `job` case passed.
 */
export function jobIncomplete(results: readonly LavaResult[], status: number): string | null {
  const job = results.filter((result) => result.definition === "lava" && result.case === "job");
  if (job.length !== 1) return `lava-run recorded ${job.length} job results (exit status ${status})`;
  if (job[0]!.result !== "pass") {
    return `${job[0]!.error_type ?? "Unknown"} error: ${job[0]!.error_msg ?? "(no error message)"}`;
  }
  return status === 0 ? null : `lava-run exit status ${status}`;
}

/**
 * Judges a LAVA run: lava-run's own records (`results`, its exit status `status`) against the references,
 * `dmabuf smoke --json` with each definition's heaps (by suite).
 */
export function judgeLava(
  results: readonly LavaResult[],
  status: number,
  definitions: readonly JobDefinition[],
  references: ReadonlyMap<string, SectionOutput>,
): ComparisonTest[] {
  const { tests, test } = testList();
  const lava = results.filter((result) => result.definition === "lava");
  const incomplete = jobIncomplete(results, status);
  test(
    "lava: the job completed (lava-run exits 0, the lava suite's job case passed)",
    incomplete === null ? [] : [incomplete],
  );
  for (const definition of definitions) {
    const ended = lava.filter((result) => result.case === definition.suite);
    test(
      `lava: ${definition.suite} ran to its end (lava suite case ${definition.suite} pass)`,
      ended.length === 1 && ended[0]!.result === "pass"
        ? []
        : [`recorded ${ended.map((result) => result.result).join(", ") || "nothing"}`],
    );
    const records: LavaRecord[] = results.filter((result) => result.definition === definition.suite)
      .map((result) => ({ case: result.case, result: result.result, set: result.set ?? null }));
    const reference = references.get(definition.suite) ?? { text: "", status: undefined };
    for (const check of compareCases(records, reference)) {
      tests.push({ ...check, description: `${definition.suite}: ${check.description}` });
    }
    if (definition.heaps.length === 0) {
      const notPassed = records.filter((record) => record.result !== "pass");
      test(
        `${definition.suite}: every case passed (every heap of the device, and udmabuf)`,
        notPassed.map((record) => `${record.case}: ${record.result}`),
      );
    } else {
      const failed = records.filter((record) => record.result === "fail").map((record) => record.case);
      const heaps = definition.heaps.join(",");
      const which = failed.length > 0 ? ` (${failed.join(", ")})` : "";
      test(
        `${definition.suite}: a heap of HEAPS=${heaps} the device lacks is a failed case${which}`,
        failed.length > 0 ? [] : ["LAVA recorded no failed case: name a heap the device lacks in HEAPS"],
      );
    }
  }
  return tests;
}

/** The shell script that prints `dmabuf smoke --json` for each definition, as `@@text SUITE` sections. */
export function referenceScript(dmabuf: string, definitions: readonly JobDefinition[]): string {
  return definitions.map((definition) => {
    const heaps = definition.heaps.map((heap) => ` --heap '${heap}'`).join("");
    return `echo '@@text ${definition.suite}'; '${dmabuf}' smoke --json${heaps}; echo "@@exit $?"`;
  }).join("\n");
}

/** An error that ends the tier before LAVA's verdict: one line. */
class TierError extends Error {}

const encoder = new TextEncoder();

function note(message: string): void {
  Deno.stderr.writeSync(encoder.encode(`test:lava: ${message}\n`));
}

/** Runs a command with stdout piped (stderr shown); returns its output and exit status. */
async function capture(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<SectionOutput> {
  const result = await new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  })
    .output();
  return { text: new TextDecoder().decode(result.stdout), status: result.code };
}

/** Runs a build script and returns the value it printed for `key`. */
async function buildValue(args: string[], key: string, what: string): Promise<string> {
  const value = (await runBuildScript(args))?.get(key);
  if (value === undefined) throw new TierError(`Cannot prepare ${what}: see the messages above`);
  return value;
}

/** Times a stage of the tier on stderr. */
async function stage<T>(name: string, body: () => Promise<T>): Promise<T> {
  const start = performance.now();
  note(`${name}...`);
  const value = await body();
  note(`${name}: ${Math.round((performance.now() - start) / 1000)} s`);
  return value;
}

/** A local git repository holding the definition at its path in dmabuf's repository, as a lab clones it. */
async function definitionRepository(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/tests/lava`, { recursive: true });
  await Deno.copyFile(DEFINITION_FILE, `${dir}/${DEFINITION_PATH}`);
  // Whatever the user's git configuration: an author, and no signing.
  const config = ["user.name=dmabuf", "user.email=dmabuf@localhost", "commit.gpgsign=false"];
  const git = ["-C", dir, ...config.flatMap((setting) => ["-c", setting])];
  const commands = [["init", "-q"], ["add", "."], ["commit", "-q", "-m", "dmabuf's LAVA test definition"]];
  for (const args of commands) {
    const { status } = await capture("git", [...git, ...args]);
    if (status !== 0) throw new TierError(`git ${args[0]} failed in ${dir}`);
  }
}

/** Renders the device dictionary with LAVA's device-type templates and the job's context, as a server does. */
async function renderDevice(deviceTypes: string, context: Record<string, unknown>): Promise<string> {
  const program = [
    "import json, sys, jinja2",
    "own, types, name, context = sys.argv[1:]",
    "loader = jinja2.FileSystemLoader([own, types])",
    "env = jinja2.Environment(loader=loader, trim_blocks=True, autoescape=False)",
    "print(env.get_template(name).render(**json.loads(context)))",
  ].join("\n");
  const args = ["-c", program, path("."), deviceTypes, DEVICE_DICTIONARY, JSON.stringify(context)];
  const { text, status } = await capture("python3", args);
  if (status !== 0) throw new TierError(`Cannot render the device dictionary ${DEVICE_DICTIONARY}`);
  return text;
}

/** Installs LAVA's dispatcher if needed and finds its device-type templates (lava_setup.sh). */
async function setUpLava(): Promise<{ deviceTypes: string; cache: string }> {
  const values = await runBuildScript([SETUP_SCRIPT]);
  const deviceTypes = values?.get("device_types");
  const cache = values?.get("cache");
  if (deviceTypes === undefined || cache === undefined) {
    throw new TierError("Cannot set up LAVA's dispatcher: see the messages above");
  }
  return { deviceTypes, cache };
}

/** Runs the tier in `work` (a directory the test VM sees); returns its tests. */
async function runTier(arch: Arch, work: string, deviceTypes: string): Promise<ComparisonTest[]> {
  const kernel = await stage(`the ${arch} Linux ${KERNEL} kernel`, () =>
    buildValue(
      [BUILD_SCRIPT, "--kernel", KERNEL, "--arch", arch, "--page-size", PAGE_SIZE],
      "kernel",
      `the ${arch} ${KERNEL} kernel`,
    ));
  const { tarball, ramdisk } = await stage(`the ${arch} bundle and ramdisk`, async () => {
    const tarball = await buildBundle(arch, `${work}/dist`);
    return { tarball, ramdisk: await buildBoardRoot(arch, tarball) };
  });
  const repository = `${work}/dmabuf.git`;
  await definitionRepository(repository);
  const labJob = await Deno.readTextFile(JOB_FILE);
  const jobText = localJob(arch === "arm64" ? arm64Job(labJob) : labJob, { kernel, ramdisk, repository });
  await Deno.writeTextFile(`${work}/job.yaml`, jobText);
  const { context, definitions } = readJob(jobText, await Deno.readTextFile(DEFINITION_FILE));
  await Deno.writeTextFile(`${work}/device.yaml`, await renderDevice(deviceTypes, context));

  const log = `${work}/lava-run.log`;
  const { status } = await stage(`lava-run (log: ${log})`, () =>
    capture("sh", [
      "-c",
      'exec "$@" >"$LOG" 2>&1',
      "sh",
      "lava-run",
      ...["--job-id", String(Deno.pid), "--output-dir", `${work}/output`, "--device", `${work}/device.yaml`],
      `${work}/job.yaml`,
    ], { LOG: log, LIBGUESTFS_BACKEND_SETTINGS: "force_tcg" }));

  // The references: smoke --json with the same heaps on the same kernel, with the same bundle.
  const references = await stage(`smoke --json in the test VM (${arch} Linux ${KERNEL})`, async () => {
    let dmabuf = "dmabuf"; // on the arm64 board's PATH
    const vm = ["--kernel", KERNEL, "--require-hw"];
    if (arch === "x86_64") {
      await Deno.mkdir(`${work}/bundle`);
      const { status } = await capture("tar", ["-xzf", tarball, "-C", `${work}/bundle`]);
      if (status !== 0) throw new TierError(`Cannot unpack ${tarball}`);
      const [dir] = [...Deno.readDirSync(`${work}/bundle`)];
      dmabuf = `${work}/bundle/${dir!.name}/bin/dmabuf`;
    } else vm.push("--arch", arch, "--page-size", PAGE_SIZE);
    const output = await capture(Deno.execPath(), [
      ...["run", "--allow-all", "--no-prompt", RUNNER, ...vm, "--", "sh", "-c"],
      referenceScript(dmabuf, definitions),
    ]);
    const sections = splitBoardOutput(output.text).sections;
    for (const section of sections) {
      await Deno.writeTextFile(`${work}/smoke-${section.name}.json`, section.text);
    }
    return new Map(sections.map((section) => [section.name, { text: section.text, status: section.status }]));
  });
  const results = parseLavaLog(await Deno.readTextFile(log));
  const incomplete = jobIncomplete(results, status ?? 1);
  if (incomplete !== null) note(`LAVA did not complete the job: ${incomplete}`);
  return judgeLava(results, status ?? 1, definitions, references);
}

/** Copies what a person or a tool reads afterwards to LAVA_OUT. */
async function keep(work: string, out: string): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  for await (const entry of Deno.readDir(work)) {
    if (entry.isFile && /^(job\.yaml|device\.yaml|lava-run\.log|smoke-.*\.json)$/.test(entry.name)) {
      await Deno.copyFile(`${work}/${entry.name}`, `${out}/${entry.name}`);
    }
  }
  note(`kept job.yaml, device.yaml, lava-run.log and the smoke --json references in ${out}`);
}

function parseArch(args: string[]): Arch {
  if (args.length === 0) return "x86_64";
  if (args.length === 2 && args[0] === "--arch" && (args[1] === "x86_64" || args[1] === "arm64")) {
    return args[1];
  }
  throw new VmError(`Unexpected arguments "${args.join(" ")}": expected --arch x86_64|arm64`, EXIT_USAGE);
}

async function main(args: string[]): Promise<number> {
  const arch = parseArch(args);
  const label = `LAVA tier: ${arch} Linux ${KERNEL}`;
  const start = performance.now();
  let tests: ComparisonTest[];
  let work: string | undefined;
  try {
    const { deviceTypes, cache } = await stage("LAVA's dispatcher and device-type templates", setUpLava);
    work = await Deno.makeTempDir({ dir: cache, prefix: "run-" });
    tests = await runTier(arch, work, deviceTypes);
  } catch (error) {
    if (!(error instanceof TierError || error instanceof VmError)) throw error;
    note(error.message);
    tests = [{ ok: false, description: "the LAVA tier ran", diagnostics: [error.message] }];
  } finally {
    const out = Deno.env.get("LAVA_OUT");
    if (work !== undefined) {
      if (out) await keep(work, out);
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  }
  Deno.stdout.writeSync(encoder.encode(comparisonTap(tests)));
  const failed = tests.filter((test) => !test.ok).length;
  const seconds = Math.round((performance.now() - start) / 1000);
  Deno.stdout.writeSync(
    encoder.encode(
      `${failed === 0 ? "ok" : "FAILED"} | ${tests.length - failed} passed | ${failed} failed | 0 ignored ` +
        `(${label}, ${seconds} s)\n`,
    ),
  );
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) await runMain("test:lava", main);
