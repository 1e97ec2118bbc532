/**
 * `deno task bench:cold`: the cold paths of the CLI against their goals (issue 11), as ratios, not as a timed
 * test. Each command is a fresh process, run in rounds (one of each per round, so load drifts alike) under
 * `/usr/bin/time` for its peak RSS; medians are compared.
 *
 *     deno run -A tests/bench/cold_paths.ts [--rounds N]
 *
 * Goals: `dmabuf --help` ≤ 1.3× `deno eval 0`; `dmabuf stat --input` of a 10,000-buffer bufinfo (human and
 * `--json`) ≤ 50 ms over `dmabuf --version`, with peak RSS ≤ 1.3× that of `--version`. The board bundle's
 * `--help` is measured too (bin/dmabuf and lib/dmabuf/ as `deno task dist` builds them, with this Deno as
 * lib/deno) and held to the same 1.3×.
 *
 * Also measured: the floor of stat's job in this runtime (`stat_floor.ts`: the same bufinfo through typed
 * arrays and bytes, with no object or string per buffer, doing less than stat) over an empty `deno run`, with
 * and without V8's optimizing compilers. It says what any implementation would cost at least, against what
 * the goals allow over `--version`.
 * @module
 */

import { fileURLToPath } from "node:url";
import { makeBufinfo } from "./stat_bench.ts";
import { bundleCli, launcherScript } from "../../cli/dist/build.ts";
import { VERSION } from "../../cli/app.ts";

const CLI = fileURLToPath(new URL("../../cli/dmabuf", import.meta.url));
const FLOOR = fileURLToPath(new URL("./stat_floor.ts", import.meta.url));
const TIME = "/usr/bin/time";

interface Sample {
  ms: number;
  rssKiB: number;
}

/** Runs `argv` once under /usr/bin/time: wall time around the process, and its peak RSS (ru_maxrss). */
async function once(argv: readonly string[], env: Record<string, string> = {}): Promise<Sample> {
  const start = performance.now();
  const { code, stderr } = await new Deno.Command(TIME, {
    args: ["-f", "rss=%M", ...argv],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
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

/** An unpacked board bundle in `dir` whose lib/deno is this Deno; returns its bin/dmabuf. */
async function installBundle(dir: string): Promise<string> {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  await bundleCli(`${dir}/lib/dmabuf`);
  await Deno.symlink(Deno.execPath(), `${dir}/lib/deno`);
  const values = { VERSION, ARCH: arch, MACHINE: Deno.build.arch, DENO_VERSION: Deno.version.deno };
  await Deno.writeTextFile(`${dir}/bin/dmabuf`, launcherScript(values), { mode: 0o755 });
  return `${dir}/bin/dmabuf`;
}

const rounds = Deno.args[0] === "--rounds" ? Number(Deno.args[1]) : 15;
const work = await Deno.makeTempDir({ prefix: "dmabuf-cold-" });
const bufinfo = `${work}/bufinfo.txt`;
await Deno.writeTextFile(bufinfo, makeBufinfo(10_000));
const size = (await Deno.stat(bufinfo)).size;
// The same bufinfo with no buffer: what the stat command costs before its first buffer.
const noBuffers = `${work}/no-buffers.txt`;
await Deno.writeTextFile(noBuffers, makeBufinfo(0));
const bundle = await installBundle(`${work}/dmabuf-${VERSION}`);
const empty = `${work}/empty.ts`;
await Deno.writeTextFile(empty, "");

const commands: Record<string, readonly string[]> = {
  "deno eval 0": [Deno.execPath(), "eval", "0"],
  "dmabuf --version": [CLI, "--version"],
  "dmabuf --help": [CLI, "--help"],
  "dmabuf stat --input": [CLI, "stat", "--input", bufinfo],
  "dmabuf stat, no buffers": [CLI, "stat", "--input", noBuffers],
  "dmabuf stat --input --json": [CLI, "stat", "--input", bufinfo, "--json"],
  "dist bundle --help": [bundle, "--help"],
  "deno run (empty module)": [Deno.execPath(), "run", "--quiet", empty],
  "floor of stat's job": [Deno.execPath(), "run", "--quiet", "--allow-read", FLOOR, bufinfo],
  "the floor, no optimizing JIT": [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-read",
    "--v8-flags=--no-opt,--no-maglev",
    FLOOR,
    bufinfo,
  ],
};
// Extra environment by command: the bundle has a Deno cache of its own, as on a board (and the shared cache
// keeps no code cache of a temporary bundle).
const ENV: Record<string, Record<string, string>> = {
  "dist bundle --help": { DENO_DIR: `${work}/deno_dir` },
};
const samples = new Map<string, Sample[]>(Object.keys(commands).map((name) => [name, []]));
try {
  // One untimed round fills Deno's caches (transpiled modules, V8 code cache) as any second run finds them.
  for (const [name, argv] of Object.entries(commands)) await once(argv, ENV[name]);
  for (let round = 0; round < rounds; round++) {
    for (const [name, argv] of Object.entries(commands)) samples.get(name)!.push(await once(argv, ENV[name]));
  }
} finally {
  await Deno.remove(work, { recursive: true });
}

const ms = (name: string) => median(samples.get(name)!.map((s) => s.ms));
const rss = (name: string) => median(samples.get(name)!.map((s) => s.rssKiB));
const lines = [
  `cold paths, median of ${rounds} rounds (bufinfo: 10,000 buffers, ${(size / 1e6).toFixed(2)} MB)`,
  "",
  "command                         time      peak RSS",
  ...Object.keys(commands).map((name) =>
    `${name.padEnd(30)} ${ms(name).toFixed(1).padStart(7)} ms ${
      (rss(name) / 1024).toFixed(1).padStart(7)
    } MiB`
  ),
  "",
];
const goal = (ok: boolean) => ok ? "meets the goal" : "MISSES the goal";
const helpRatio = ms("dmabuf --help") / ms("deno eval 0");
lines.push(`--help / deno eval 0: ${helpRatio.toFixed(2)}× (goal ≤ 1.3×): ${goal(helpRatio <= 1.3)}`);
const bundleRatio = ms("dist bundle --help") / ms("deno eval 0");
lines.push(
  `dist bundle --help / deno eval 0: ${bundleRatio.toFixed(2)}× (goal ≤ 1.3×): ${goal(bundleRatio <= 1.3)}`,
);
for (const name of ["dmabuf stat --input", "dmabuf stat --input --json"]) {
  const over = ms(name) - ms("dmabuf --version");
  const memory = rss(name) / rss("dmabuf --version");
  lines.push(
    `${name} over --version: ${over.toFixed(1)} ms (goal ≤ 50 ms): ${goal(over <= 50)}; ` +
      `peak RSS ${memory.toFixed(2)}× (goal ≤ 1.3×): ${goal(memory <= 1.3)}`,
  );
}
const fixed = ms("dmabuf stat, no buffers") - ms("dmabuf --version");
lines.push(
  `dmabuf stat with no buffers over --version: ${fixed.toFixed(1)} ms (stat's cost before its first buffer)`,
);
const versionMiB = rss("dmabuf --version") / 1024;
const allowed = `+50 ms and +${(0.3 * versionMiB).toFixed(1)} MiB over --version`;
for (const name of ["floor of stat's job", "the floor, no optimizing JIT"]) {
  const over = ms(name) - ms("deno run (empty module)");
  const memory = (rss(name) - rss("deno run (empty module)")) / 1024;
  lines.push(
    `${name} over an empty deno run: +${over.toFixed(1)} ms, +${
      memory.toFixed(1)
    } MiB (the goals allow ${allowed})`,
  );
}
// deno-lint-ignore no-console
console.log(lines.join("\n"));
