import { assertEquals, assertIncludes } from "../assert.ts";
import { buildReference, cacheDir } from "../../commands/bench/c_reference.ts";
import { bandwidthIterations } from "../../commands/bench/deno_side.ts";
import { type BenchReport, GOALS, type Side } from "../../commands/bench/model.ts";
import { benchRows, formatRatio, renderBenchMarkdown } from "../../commands/bench/render.ts";
import { compare, median, percentile, sideStats } from "../../commands/bench/stats.ts";

const MiB = 1024 * 1024;

Deno.test("median: middle value, mean of the middle two, NaN when empty", () => {
  assertEquals(median([1, 2, 9]), 2);
  assertEquals(median([1, 2, 4, 9]), 3);
  assertEquals(Number.isNaN(median([])), true);
});

Deno.test("percentile: nearest rank, clamped to the samples", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assertEquals(percentile(hundred, 99), 99);
  assertEquals(percentile(hundred, 100), 100);
  assertEquals(percentile([5, 7], 99), 7);
  assertEquals(percentile([5], 1), 5);
});

Deno.test("sideStats: sorts the samples; bandwidth in MiB/s from the median time", () => {
  assertEquals(sideStats([3e6, 1e6, 2e6], MiB), {
    samples: 3,
    medianNs: 2e6,
    p99Ns: 3e6,
    mibPerSecond: 500,
  });
  assertEquals(sideStats([100], null).mibPerSecond, null);
});

function side(medianNs: number, mibPerSecond: number | null = null): Side {
  return { stats: { samples: 1, medianNs, p99Ns: medianNs, mibPerSecond }, error: null };
}

Deno.test("compare: latency goal is Deno/C <= 1.2, bandwidth goal is Deno/C >= 0.9, inclusive", () => {
  assertEquals(compare("latency", side(120), side(100)), { ratio: 1.2, goalMet: true });
  assertEquals(compare("latency", side(121), side(100)).goalMet, false);
  assertEquals(compare("bandwidth", side(1, 90), side(1, 100)), { ratio: 0.9, goalMet: true });
  assertEquals(compare("bandwidth", side(1, 89), side(1, 100)).goalMet, false);
  assertEquals(compare("latency", side(1), null), { ratio: null, goalMet: null });
  assertEquals(compare("latency", { stats: null, error: "ENOMEM" }, side(1)), { ratio: null, goalMet: null });
});

Deno.test("formatRatio rounds away from the goal, so a missed goal never shows the goal's value", () => {
  assertEquals(formatRatio("bandwidth", 0.899), "0.89x");
  assertEquals(formatRatio("bandwidth", 0.9), "0.90x");
  assertEquals(formatRatio("latency", 1.201), "1.21x");
  assertEquals(formatRatio("latency", 1.2), "1.20x");
  assertEquals(formatRatio("latency", 0.5), "0.50x");
});

Deno.test("bandwidthIterations: capped at 256 MiB moved, at least 3, at most the iterations", () => {
  assertEquals(bandwidthIterations(200, 4096), 200);
  assertEquals(bandwidthIterations(200, 16 * MiB), 16);
  assertEquals(bandwidthIterations(200, 512 * MiB), 3);
  assertEquals(bandwidthIterations(2, 512 * MiB), 2);
});

Deno.test("cacheDir: XDG_CACHE_HOME when absolute, else HOME/.cache when HOME is a directory, else why not", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const home = Deno.makeTempDirSync({ prefix: "dmabuf-home-" });
  try {
    assertEquals(cacheDir(env({ XDG_CACHE_HOME: "/x", HOME: "/h" })), { path: "/x/dmabuf" });
    assertEquals(cacheDir(env({ XDG_CACHE_HOME: "relative", HOME: home })), {
      path: `${home}/.cache/dmabuf`,
    });
    assertEquals(cacheDir(env({})), { reason: "neither XDG_CACHE_HOME nor HOME is set" });
    assertEquals(cacheDir(env({ HOME: "/nonexistent" })), {
      reason: "HOME (/nonexistent) is no directory; set XDG_CACHE_HOME",
    });
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

const REPORT: BenchReport = {
  kernel: "6.1.0",
  arch: "x86_64",
  startedAt: "2026-11-21T00:00:00.000Z",
  iterations: 3,
  latencyBatch: 32,
  pattern: "0xa5",
  clockResolutionNs: 40,
  goals: GOALS,
  reference: {
    available: true,
    binary: "/c/dmabuf_ref",
    compiler: "gcc 12",
    cflags: "-O2 -pthread",
    idleThreads: 1,
    reason: null,
  },
  notMeasured: [],
  cases: [
    {
      heap: "system",
      size: 4096,
      requestedSize: 4096,
      iterations: 3,
      bandwidthIterations: 3,
      error: null,
      measurements: [
        {
          name: "sync",
          kind: "latency",
          deno: side(650),
          c: side(600),
          cSingleThread: side(550),
          ratio: 650 / 600,
          goalMet: true,
        },
        {
          name: "fill",
          kind: "bandwidth",
          deno: { stats: null, error: "ENOMEM" },
          c: side(1, 1000),
          cSingleThread: side(1, 1100),
          ratio: null,
          goalMet: null,
        },
      ],
    },
    {
      heap: "reserved",
      size: 16 * MiB,
      requestedSize: 16 * MiB,
      iterations: 3,
      bandwidthIterations: 3,
      error: "ENOMEM",
      measurements: [],
    },
  ],
};

Deno.test("benchRows: Deno, C with an idle thread, C single-threaded, ratio and goal per measurement", () => {
  assertEquals(benchRows(REPORT), [
    [
      "system",
      "4 KiB",
      "DMA_BUF_IOCTL_SYNC",
      "650 ns (p99 650 ns)",
      "600 ns (p99 600 ns)",
      "550 ns (p99 550 ns)",
      "1.09x",
      "met (<= 1.2)",
    ],
    ["system", "4 KiB", "mmap+fill", "error: ENOMEM", "1000 MiB/s", "1100 MiB/s", "-", "- (>= 0.9)"],
    ["reserved", "16 MiB", "-", "error: ENOMEM", "-", "-", "-", "-"],
  ]);
});

Deno.test("renderBenchMarkdown: header lines, the C runs explained, one table row per measurement", () => {
  const markdown = renderBenchMarkdown(REPORT);
  assertIncludes(markdown, "# dmabuf bench on Linux 6.1.0 (x86_64)\n");
  assertIncludes(markdown, "C is run with 1 idle thread(s), as Deno is multithreaded");
  assertIncludes(markdown, "| HEAP | SIZE | MEASUREMENT | DENO | C | C 1-THREAD | DENO/C | GOAL |\n");
  assertIncludes(markdown, "| system | 4 KiB | DMA_BUF_IOCTL_SYNC | 650 ns (p99 650 ns) |");
  assertEquals(markdown.split("\n").filter((line) => line.startsWith("| ")).length, 4);
});

Deno.test("buildReference removes the partial builds of runs that are gone, not those of running ones", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "dmabuf-bench-cache-" });
  const path = Deno.env.get("PATH") ?? "";
  try {
    Deno.mkdirSync(`${dir}/bin`);
    // A gcc that answers --version and "builds" by creating its output.
    Deno.writeTextFileSync(
      `${dir}/bin/gcc`,
      '#!/bin/sh\n[ "$1" = --version ] && { echo "gcc (fake) 1"; exit 0; }\n' +
        'while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done\n: > "$out"\n',
      { mode: 0o755 },
    );
    Deno.mkdirSync(`${dir}/cache/dmabuf`, { recursive: true });
    const dead = `${dir}/cache/dmabuf/dmabuf_ref-0123456789ab.2147483646.tmp`;
    const alive = `${dir}/cache/dmabuf/dmabuf_ref-0123456789ab.1.tmp`;
    Deno.writeTextFileSync(dead, "");
    Deno.writeTextFileSync(alive, "");
    Deno.env.set("PATH", `${dir}/bin:${path}`);
    const info = await buildReference((name) => name === "XDG_CACHE_HOME" ? `${dir}/cache` : undefined);
    assertEquals([info.available, info.compiler], [true, "gcc (fake) 1"]);
    const left = [...Deno.readDirSync(`${dir}/cache/dmabuf`)].map((e) => e.name).sort();
    assertEquals(
      left,
      [info.binary!.slice(info.binary!.lastIndexOf("/") + 1), "dmabuf_ref-0123456789ab.1.tmp"].sort(),
    );
  } finally {
    Deno.env.set("PATH", path);
    Deno.removeSync(dir, { recursive: true });
  }
});
