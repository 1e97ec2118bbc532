/**
 * `deno task bench:host`: what Deno's FFI and JavaScript add to the operations `dmabuf bench` times, measured
 * natively on any Linux host, heaps or not (the test VM is emulated, so its ratios say little about hardware).
 * Each measurement runs through the project's own code (`ffi/`) and in C (host_overhead.c, built with gcc into
 * the bench's cache like the reference) on the same memfd: an FFI syscall (geteuid), an ioctl checked as `Fd.ioctl` does
 * (FIONREAD), mmap+munmap, and mmap + one-byte fill or verify + munmap. As in `dmabuf bench`, C runs with one
 * idle thread (Deno is multithreaded; column C, the ratio's side) and single-threaded (C 1-THREAD).
 *
 * ```sh
 * deno run -A tests/bench/host_overhead.ts [--iterations N] [--sizes 4096,1048576,16777216]
 * ```
 * @module
 */

import { buildReference, REFERENCE_IDLE_THREADS } from "../../commands/bench/c_reference.ts";
import { LATENCY_BATCH, timeRounds } from "../../commands/bench/deno_side.ts";
import type { Side } from "../../commands/bench/model.ts";
import { formatRatio, formatSide, goalText } from "../../commands/bench/render.ts";
import { compare, sideStats } from "../../commands/bench/stats.ts";
import { processIo } from "../../commands/toolkit/streams.ts";
import { check, libc } from "../../ffi/libc.ts";
import { geteuid, memfdCreate } from "../../ffi/fd.ts";
import { Mapping } from "../../ffi/mapping.ts";
import { pageSize } from "../../ffi/page_size.ts";
import type { Pattern } from "../../ffi/pattern.ts";

const SOURCE = new URL("./host_overhead.c", import.meta.url);
/** `FIONREAD` (asm-generic/ioctls.h): bytes left to read, which regular files (a memfd) answer. */
const FIONREAD = 0x541bn;
const PATTERN: Pattern = { kind: "byte", value: 0xa5 };
const WARMUP_ROUNDS = 10;
const MiB = 1024 * 1024;

interface Options {
  iterations: number;
  sizes: number[];
}

function parseArgs(args: string[]): Options {
  const options: Options = { iterations: 200, sizes: [pageSize(), MiB, 16 * MiB] };
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i], args[i + 1]];
    if (name === "--iterations" && Number(value) >= 1) options.iterations = Number(value);
    else if (name === "--sizes" && value) options.sizes = value.split(",").map(Number);
    else throw new Error(`usage: host_overhead.ts [--iterations N] [--sizes BYTES,...] (at "${name}")`);
  }
  if (options.sizes.some((s) => !Number.isInteger(s) || s <= 0 || s % pageSize() !== 0)) {
    throw new Error("--sizes: whole pages only");
  }
  return options;
}

/** Deno's samples per measurement, named as the C side names them. */
function measureDeno(options: Options): Map<string, number[]> {
  const { iterations } = options;
  const out = new Map<string, number[]>();
  using memfd = memfdCreate("host-overhead", BigInt(Math.max(...options.sizes)));
  const arg = new Uint8Array(4);
  const batch = (op: () => void) => () => {
    for (let j = 0; j < LATENCY_BATCH; j++) op();
  };
  out.set("geteuid", timeRounds(WARMUP_ROUNDS, iterations, LATENCY_BATCH, batch(() => geteuid())));
  out.set(
    "ioctl",
    timeRounds(
      WARMUP_ROUNDS,
      iterations,
      LATENCY_BATCH,
      batch(() => check(libc().ioctl(memfd.fd, FIONREAD, arg), "ioctl(FIONREAD)", memfd.label)),
    ),
  );
  out.set("mapUnmap", timeRounds(WARMUP_ROUNDS, iterations, 1, () => Mapping.map(memfd, pageSize()).unmap()));
  for (const size of options.sizes) {
    out.set(
      `fill:${size}`,
      timeRounds(WARMUP_ROUNDS, iterations, 1, () => {
        const map = Mapping.map(memfd, size, { write: true });
        try {
          map.fill(PATTERN);
        } finally {
          map[Symbol.dispose]();
        }
      }),
    );
    out.set(
      `verify:${size}`,
      timeRounds(WARMUP_ROUNDS, iterations, 1, () => {
        const map = Mapping.map(memfd, size);
        try {
          if (map.verify(PATTERN) !== null) throw new Error(`verify of ${size} bytes found a mismatch`);
        } finally {
          map[Symbol.dispose]();
        }
      }),
    );
  }
  return out;
}

/** Builds host_overhead.c into the cache (once per version), or fails with gcc's reason. */
async function buildC(): Promise<string> {
  const built = await buildReference((name) => Deno.env.get(name), SOURCE);
  if (built.binary === null) throw new Error(built.reason ?? "the C side could not be built");
  return built.binary;
}

async function measureC(
  binary: string,
  options: Options,
  idleThreads: number,
): Promise<Map<string, number[]>> {
  const result = await new Deno.Command(binary, {
    args: [
      ...["--iterations", String(options.iterations), "--batch", String(LATENCY_BATCH)],
      ...["--warmup", String(WARMUP_ROUNDS), "--idle-threads", String(idleThreads)],
      ...["--sizes", options.sizes.join(",")],
    ],
  }).output();
  if (!result.success) throw new Error(`host_overhead failed: ${new TextDecoder().decode(result.stderr)}`);
  return new Map(
    Object.entries(JSON.parse(new TextDecoder().decode(result.stdout)) as Record<string, number[]>),
  );
}

const LABELS: Record<string, string> = {
  geteuid: "geteuid (FFI floor)",
  ioctl: "ioctl FIONREAD, checked",
  mapUnmap: "mmap+munmap 4 KiB",
};

function label(name: string): string {
  const [kind, size] = name.split(":");
  if (size === undefined) return LABELS[name] ?? name;
  const bytes = Number(size);
  const shown = bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / 1024} KiB`;
  return `mmap+${kind}+munmap ${shown}`;
}

/** The table, one row per measurement: the three sides, and the Deno/C ratio against the goal. */
export function renderTable(
  deno: Map<string, number[]>,
  c: Map<string, number[]>,
  single: Map<string, number[]>,
): string {
  const rows = ["| MEASUREMENT | DENO | C | C 1-THREAD | DENO/C | GOAL |", "|---|---|---|---|---|---|"];
  for (const [name, samples] of deno) {
    const size = name.includes(":") ? Number(name.split(":")[1]) : null;
    const kind = size === null ? "latency" : "bandwidth";
    const [d, ref, one] = [samples, c.get(name) ?? [], single.get(name) ?? []].map((s): Side => ({
      stats: sideStats(s, size),
      error: null,
    }));
    const { ratio, goalMet } = compare(kind, d!, ref!);
    const cells = [d!, ref!, one!].map((side) => formatSide(side, kind));
    const shownRatio = ratio === null ? "-" : formatRatio(kind, ratio);
    rows.push(`| ${label(name)} | ${cells.join(" | ")} | ${shownRatio} | ${goalText({ kind, goalMet })} |`);
  }
  return rows.join("\n");
}

async function main(args: string[]): Promise<number> {
  const options = parseArgs(args);
  const binary = await buildC();
  const deno = measureDeno(options);
  const c = await measureC(binary, options, REFERENCE_IDLE_THREADS);
  const single = await measureC(binary, options, 0);
  processIo().stdout.write(
    `# Deno FFI overhead on ${Deno.osRelease()} (${Deno.build.arch}), ${options.iterations} samples, ` +
      `medians; syscalls in batches of ${LATENCY_BATCH}\n\n${renderTable(deno, c, single)}\n`,
  );
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    processIo().stderr.write(`host_overhead: ${error instanceof Error ? error.message : error}\n`);
    Deno.exit(1);
  }
}
