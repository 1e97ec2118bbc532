import { buildCommand } from "@stricli/core";
import { heapSetFlags } from "./heap_set_flags.ts";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import { parseCount, parsePattern, parseSize } from "../../commands/toolkit/parse.ts";
import type { BenchFlags } from "../../commands/bench/mod.ts";

/** `dmabuf bench`: latency and bandwidth of dma-buf operations, against a C reference. */
export const benchCommand = buildCommand<BenchFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/bench/mod.ts")).bench,
  parameters: {
    flags: {
      ...commonFlags,
      ...heapSetFlags,
      iterations: {
        kind: "parsed",
        parse: parseCount,
        default: "200",
        placeholder: "N",
        brief: "Latency samples per measurement; bandwidth passes are capped at 256 MiB moved (at least 3)",
      },
      sizes: {
        kind: "parsed",
        parse: parseSize,
        optional: true,
        variadic: ",",
        placeholder: "SIZE,...",
        brief: "Buffer sizes, comma-separated (default 4K,1M,16M; capped as smoke caps them)",
      },
      pattern: {
        kind: "parsed",
        parse: parsePattern,
        optional: true,
        placeholder: "PATTERN",
        brief: "Fill/verify pattern: zero, a byte (default 0xa5), counter, random:SEED",
      },
      reference: {
        kind: "boolean",
        default: true,
        withNegated: true,
        brief:
          "Build (gcc -O2 -pthread, cached in ~/.cache/dmabuf) and run the C reference; --no-reference skips it",
      },
      format: {
        kind: "enum",
        values: ["human", "json", "lava"] as const,
        optional: true,
        brief:
          "Output: human (default), json (same as --json), lava (LAVA signals: MEASUREMENT= in ns or MiB/s)",
      },
    },
  },
  docs: {
    brief: "Measure dma-buf operation latency and bandwidth, against a C reference",
    fullDescription: [
      "For every heap (or each --heap) and udmabuf, and each size: alloc+close latency; mmap+fill and",
      "mmap+verify bandwidth (each pass maps, brackets the access with DMA_BUF_IOCTL_SYNC and unmaps);",
      "DMA_BUF_IOCTL_SYNC latency; DMA_BUF_IOCTL_EXPORT_SYNC_FILE+close latency. Latencies are the median and",
      "p99 of --iterations samples (SYNC and EXPORT_SYNC_FILE samples time batches of 32 ioctls); bandwidth is",
      "MiB/s from the median pass.",
      "",
      "The same operations are run by a small C program (tests/bench/dmabuf_ref.c, compiled with gcc -O2 -pthread into",
      "${XDG_CACHE_HOME:-~/.cache}/dmabuf on first use) in the same run, and each row shows the Deno/C ratio",
      "and whether it meets the goal: latency <= 1.2x C, bandwidth >= 0.9x C. Without gcc, Deno numbers only.",
      "Goals are reported, not enforced: a missed goal does not change the exit status. C runs twice: with one",
      "idle thread (column C, the one the ratio uses, as Deno is multithreaded and the kernel charges such a",
      "process more per fd syscall) and single-threaded (C 1-THREAD).",
      "",
      "Examples:",
      "  dmabuf bench",
      "  dmabuf bench --heap system --sizes 4K,64M --iterations 1000",
      "  dmabuf bench --json > bench.json",
      "  dmabuf bench --format lava",
      "",
      "Exit status: 0 when every measurement ran; 1 when one failed (the error is shown in its cell) or there",
      "is no heap; 2 on a usage error.",
    ].join("\n"),
  },
});
