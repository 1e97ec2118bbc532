/**
 * Benchmark: `dmabuf stat --source bpf` (the BPF iterator) against `--source debugfs` (bufinfo) on the same
 * 1,000 and 10,000 buffers. A plain timing script, not a test; it needs root, vgem, debugfs and a kernel with
 * iter/dmabuf (6.16+, BTF), so run it in the 7.2 test VM:
 *
 *     deno task vm --kernel 7.2 -- deno run -A tests/bench/stat_bpf_bench.ts [COUNTS...]
 *
 * The buffers are vgem exports whose fds are closed at once (only vgem's PRIME cache holds them, as a GPU
 * driver holds its buffers; no fd limit, no page allocated), every third one named. Per count it prints the
 * median of several runs of each source two ways — whole CLI processes (`cli/dmabuf stat --source S --json`
 * to /dev/null: Deno's start, the BTF, the verifier, reading, rendering) and the command in this process
 * (`runCli`, after one warm-up: the source and rendering alone) — and bpf's time as a ratio of debugfs's.
 *
 * Under QEMU TCG (the test VM has no KVM) every instruction is emulated: absolute times are many times a real
 * machine's, and work done in the kernel (the verifier, the iterator, bufinfo's seq_file) and in JavaScript
 * are slowed by different factors, so the ratios are indicative only.
 * @module
 */

import { runCli } from "../run_cli.ts";
import { CLI_PATH } from "../run_cli.ts";
import { Vgem } from "../../ffi/vgem.ts";

/** Runs per source and mode. */
const RUNS = 5;
/** A 64x16 dumb buffer at 32 bpp: one 4 KiB page. */
const DUMB = { width: 64, height: 16 } as const;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function inProcess(source: string): Promise<number> {
  const start = performance.now();
  const result = await runCli(["stat", "--source", source, "--json"]);
  const ms = performance.now() - start;
  if (result.code !== 0) throw new Error(`stat --source ${source}: ${result.stderr}`);
  return ms;
}

async function cold(source: string): Promise<number> {
  const start = performance.now();
  const result = await new Deno.Command(CLI_PATH, {
    args: ["stat", "--source", source, "--json"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (result.code !== 0) {
    throw new Error(`stat --source ${source}: ${new TextDecoder().decode(result.stderr)}`);
  }
  return ms;
}

/** Medians of `RUNS` runs of each source, alternating so drift hits both alike. */
async function measure(run: (source: string) => Promise<number>): Promise<{ debugfs: number; bpf: number }> {
  const samples = { debugfs: [] as number[], bpf: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    samples.debugfs.push(await run("debugfs"));
    samples.bpf.push(await run("bpf"));
  }
  return { debugfs: median(samples.debugfs), bpf: median(samples.bpf) };
}

/** The number of buffers the system has now, as bufinfo counts them. */
async function systemBuffers(): Promise<number> {
  const result = await runCli(["stat", "--source", "debugfs", "--json"]);
  return JSON.parse(result.stdout).totals.count;
}

function line(label: string, m: { debugfs: number; bpf: number }): string {
  return `  ${label}: debugfs ${m.debugfs.toFixed(0)} ms, bpf ${m.bpf.toFixed(0)} ms, bpf/debugfs ${
    (m.bpf / m.debugfs).toFixed(2)
  }`;
}

if (import.meta.main) {
  const counts = Deno.args.length > 0 ? Deno.args.map(Number) : [1_000, 10_000];
  const log = (text: string) => {
    // deno-lint-ignore no-console
    console.log(text);
  };
  log(`kernel ${Deno.osRelease()}, ${RUNS} runs per source and mode, medians`);
  log(
    "TCG caveat: under QEMU without KVM every instruction is emulated; kernel and JavaScript work slow down",
  );
  log("by different factors, so these ratios are indicative, not what a real machine shows.");
  using vgem = Vgem.open();
  await inProcess("bpf"); // loads the modules and the BTF once, as a long-running process would have
  let made = 0;
  for (const count of counts) {
    for (; made < count; made++) {
      const { handle } = vgem.createDumb(DUMB);
      using buffer = vgem.exportDmaBuf(handle);
      if (made % 3 === 0) buffer.setName(`bench ${made}`);
    }
    log(`${await systemBuffers()} buffers in the system (${count} vgem exports held by the kernel):`);
    log(line("whole CLI process", await measure(cold)));
    log(line("in process       ", await measure(inProcess)));
  }
}
