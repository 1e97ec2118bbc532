/**
 * `deno task bench`: runs `dmabuf bench --json` in the test VM and writes report.json and report.md to a new
 * directory outside the checkout (`${TMPDIR:-/tmp}/dmabuf-bench-<date>/`), whose path it prints last.
 *
 * ```sh
 * deno run -A tests/bench/run_vm_bench.ts [BENCH ARGS...]     # e.g. --iterations 500 --heap system
 * deno task bench --kernel 6.12 --iterations 500              # VM axes first: --kernel, --arch, --page-size
 * deno task bench --arch arm64 --page-size 16k                # on the emulated arm64 board (slow: TCG)
 * ```
 *
 * The guest's root is read-only, so the report travels as the guest's stdout and the files are written here.
 * Under TCG the VM runner gives the guest the host's TSC rate, so latencies are not 0 or 4 ms jiffies.
 * The exit status is the bench's (1 when a measurement failed; the report is still written).
 * @module
 */

import { fileURLToPath } from "node:url";
import type { BenchReport } from "../../commands/bench/model.ts";
import { renderBenchMarkdown } from "../../commands/bench/render.ts";

const RUNNER = fileURLToPath(new URL("../vm/run.ts", import.meta.url));
/** `dmabuf-bench-20250102-030405`. */
export function reportDirName(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `dmabuf-bench-${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** The VM runner's options that choose the guest (each with a value), taken from the front of the arguments. */
const VM_AXES = ["--kernel", "--arch", "--page-size"];

/** Splits leading `--kernel/--arch/--page-size VALUE` (or `=VALUE`) off the bench arguments. */
export function splitVmAxes(args: readonly string[]): { vm: string[]; bench: string[] } {
  let i = 0;
  while (i < args.length) {
    const arg = args[i]!;
    if (VM_AXES.includes(arg)) i += 2;
    else if (VM_AXES.some((axis) => arg.startsWith(`${axis}=`))) i += 1;
    else break;
  }
  return { vm: args.slice(0, i), bench: args.slice(i) };
}

async function main(args: string[]): Promise<number> {
  const { vm, bench } = splitVmAxes(args);
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "--allow-all", "--no-prompt", RUNNER, ...vm],
      ...["--", "dmabuf", "bench", "--json", ...bench],
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  });
  const result = await command.output();
  const stdout = new TextDecoder().decode(result.stdout);
  let report: BenchReport;
  try {
    report = JSON.parse(stdout) as BenchReport;
  } catch {
    Deno.stderr.writeSync(new TextEncoder().encode(
      `bench: no JSON report from the VM (exit ${result.code}); its stdout was:\n${stdout}\n`,
    ));
    return result.code === 0 ? 1 : result.code;
  }
  const root = Deno.env.get("TMPDIR") || "/tmp";
  const dir = `${root}/${reportDirName(new Date())}`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/report.json`, JSON.stringify(report, null, 2) + "\n");
  const markdown = renderBenchMarkdown(report);
  Deno.writeTextFileSync(`${dir}/report.md`, markdown);
  Deno.stdout.writeSync(new TextEncoder().encode(`${markdown}\nbench report written to ${dir}\n`));
  return result.code;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
