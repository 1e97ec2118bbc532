/**
 * Benchmark: a 10,000-buffer bufinfo parsed and rendered (goal ≤ 100 ms). A plain timing script, not a test:
 *
 *     deno run -A tests/bench/stat_bench.ts [BUFFERS]
 *
 * Prints the median and worst of several runs for parse alone, for the whole `dmabuf stat --input FILE` in
 * process (read, parse, sort, table, totals), and for `--json`.
 * @module
 */

import { parseBufinfo } from "../../ffi/text/bufinfo.ts";
import { runCli } from "../run_cli.ts";

const EXPORTERS = ["system", "reserved", "linux,cma", "udmabuf", "drm"];
const RUNS = 15;

/** A v5.19+ bufinfo with `count` buffers: mixed exporters, names with spaces, fences and attachments. */
export function makeBufinfo(count: number): string {
  const lines = ["", "Dma-buf Objects:", "size    \tflags   \tmode    \tcount   \texp_name\tino     \tname"];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const size = 4096 * (1 + (i * 7919) % 4096);
    bytes += size;
    const name = i % 3 === 0 ? "<none>" : `buffer ${i} of camera`;
    lines.push(
      [
        String(size).padStart(8, "0"),
        "00000002",
        "00080007",
        String(1 + i % 5).padStart(8, "0"),
        EXPORTERS[i % EXPORTERS.length],
        String(count - i).padStart(8, "0"),
        name,
      ].join("\t"),
    );
    if (i % 4 === 0) lines.push(`\twrite fence:sw_sync deno seq ${i} ${i % 8 === 0 ? "un" : ""}signalled`);
    if (i % 6 === 0) lines.push(`\tread fence:drm_sched gfx seq ${i + 1} signalled`);
    lines.push("\tAttached Devices:");
    if (i % 5 === 0) lines.push("\tvgem");
    lines.push(`Total ${i % 5 === 0 ? 1 : 0} devices attached`, "");
  }
  lines.push("", `Total ${count} objects, ${bytes} bytes`, "");
  return lines.join("\n");
}

async function time(label: string, fn: () => unknown | Promise<unknown>): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)]!;
  // deno-lint-ignore no-console
  console.log(
    `${label}: median ${median.toFixed(1)} ms, min ${samples[0]!.toFixed(1)} ms, max ${
      samples.at(-1)!.toFixed(1)
    } ms`,
  );
}

if (import.meta.main) {
  const count = Number(Deno.args[0] ?? 10_000);
  const text = makeBufinfo(count);
  const path = Deno.makeTempFileSync({ prefix: "dmabuf-bench-", suffix: ".txt" });
  Deno.writeTextFileSync(path, text);
  try {
    // deno-lint-ignore no-console
    console.log(`${count} buffers, ${text.length} bytes of bufinfo, ${RUNS} runs each (first run included)`);
    await time("parseBufinfo", () => parseBufinfo(text));
    await time("dmabuf stat --input FILE (parse + render)", async () => {
      const result = await runCli(["stat", "--input", path]);
      if (result.code !== 0) throw new Error(result.stderr);
    });
    await time("dmabuf stat --input FILE --json", async () => {
      const result = await runCli(["stat", "--input", path, "--json"]);
      if (result.code !== 0) throw new Error(result.stderr);
    });
  } finally {
    Deno.removeSync(path);
  }
}
