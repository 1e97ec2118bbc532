/**
 * `deno task bench:cold`: the cold paths of the CLI against their goals (issue 11), as ratios, not as a timed
 * test. Each command is a fresh process, run in rounds (one of each per round, so load drifts alike) under
 * `/usr/bin/time` for its peak RSS; medians are compared.
 *
 *     deno run -A tests/bench/cold_paths.ts [--rounds N]
 *
 * Goals: `dmabuf --help` ≤ 1.3× `deno eval 0`; `dmabuf stat --input` of a 10,000-buffer bufinfo (human and
 * `--json`) ≤ 50 ms over `dmabuf --version`, with peak RSS ≤ 1.3× that of `--version`.
 * @module
 */

import { fileURLToPath } from "node:url";
import { makeBufinfo } from "./stat_bench.ts";

const CLI = fileURLToPath(new URL("../../cli/dmabuf", import.meta.url));
const TIME = "/usr/bin/time";

interface Sample {
  ms: number;
  rssKiB: number;
}

/** Runs `argv` once under /usr/bin/time: wall time around the process, and its peak RSS (ru_maxrss). */
async function once(argv: readonly string[]): Promise<Sample> {
  const start = performance.now();
  const { code, stderr } = await new Deno.Command(TIME, {
    args: ["-f", "rss=%M", ...argv],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const ms = performance.now() - start;
  const text = new TextDecoder().decode(stderr);
  const rss = /rss=(\d+)\s*$/.exec(text);
  if (code !== 0 || rss === null) throw new Error(`${argv.join(" ")} failed (${code}): ${text}`);
  return { ms, rssKiB: Number(rss[1]) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const rounds = Deno.args[0] === "--rounds" ? Number(Deno.args[1]) : 15;
const bufinfo = await Deno.makeTempFile({ prefix: "dmabuf-cold-", suffix: ".txt" });
await Deno.writeTextFile(bufinfo, makeBufinfo(10_000));
const size = (await Deno.stat(bufinfo)).size;

const commands: Record<string, readonly string[]> = {
  "deno eval 0": [Deno.execPath(), "eval", "0"],
  "dmabuf --version": [CLI, "--version"],
  "dmabuf --help": [CLI, "--help"],
  "dmabuf stat --input": [CLI, "stat", "--input", bufinfo],
  "dmabuf stat --input --json": [CLI, "stat", "--input", bufinfo, "--json"],
};
const samples = new Map<string, Sample[]>(Object.keys(commands).map((name) => [name, []]));
try {
  // One untimed round fills Deno's caches (transpiled modules, V8 code cache) as any second run finds them.
  for (const argv of Object.values(commands)) await once(argv);
  for (let round = 0; round < rounds; round++) {
    for (const [name, argv] of Object.entries(commands)) samples.get(name)!.push(await once(argv));
  }
} finally {
  await Deno.remove(bufinfo);
}

const ms = (name: string) => median(samples.get(name)!.map((s) => s.ms));
const rss = (name: string) => median(samples.get(name)!.map((s) => s.rssKiB));
const lines = [
  `cold paths, median of ${rounds} rounds (bufinfo: 10,000 buffers, ${(size / 1e6).toFixed(2)} MB)`,
  "",
  "command                       time      peak RSS",
  ...Object.keys(commands).map((name) =>
    `${name.padEnd(28)} ${ms(name).toFixed(1).padStart(7)} ms ${
      (rss(name) / 1024).toFixed(1).padStart(7)
    } MiB`
  ),
  "",
];
const goal = (ok: boolean) => ok ? "meets the goal" : "MISSES the goal";
const helpRatio = ms("dmabuf --help") / ms("deno eval 0");
lines.push(`--help / deno eval 0: ${helpRatio.toFixed(2)}× (goal ≤ 1.3×): ${goal(helpRatio <= 1.3)}`);
for (const name of ["dmabuf stat --input", "dmabuf stat --input --json"]) {
  const over = ms(name) - ms("dmabuf --version");
  const memory = rss(name) / rss("dmabuf --version");
  lines.push(
    `${name} over --version: ${over.toFixed(1)} ms (goal ≤ 50 ms): ${goal(over <= 50)}; ` +
      `peak RSS ${memory.toFixed(2)}× (goal ≤ 1.3×): ${goal(memory <= 1.3)}`,
  );
}
// deno-lint-ignore no-console
console.log(lines.join("\n"));
