/**
 * `dmabuf bench` on the real kernel with tiny iteration counts: every measurement runs on both sides and the
 * report has the documented shape. The numbers are for the report (deno task bench), not asserted here.
 */
import assert from "node:assert/strict";
import type { BenchReport } from "../../commands/bench/model.ts";
import { runCli } from "../run_cli.ts";
import { hwTest, needs } from "./hw.ts";
import { kernelHas } from "./features.ts";
import { pageAlign } from "../../ffi/page_size.ts";
import { hasGcc } from "../gcc.ts";

hwTest({
  name: "dmabuf bench --json measures system and udmabuf in Deno and C with ratios",
  needs: [needs.systemHeap, needs.udmabuf],
  fn: async () => {
    const { code, stdout, stderr } = await runCli([
      "bench",
      "--json",
      "--heap",
      "system",
      "--heap",
      "udmabuf",
      "--iterations",
      "3",
      "--sizes",
      "4K,64K",
    ]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as BenchReport;
    assert.equal(report.iterations, 3);
    assert.deepEqual(report.cases.map((c) => [c.heap, c.size]), [
      ["system", pageAlign(4096)],
      ["system", pageAlign(65536)],
      ["udmabuf", pageAlign(4096)],
      ["udmabuf", pageAlign(65536)],
    ]);
    const gcc = hasGcc();
    assert.equal(report.reference.available, gcc, report.reference.reason ?? "");
    // Before 6.0 the kernel has no EXPORT_SYNC_FILE: that measurement is left out of every case, said once.
    const exports = kernelHas("sync-file-export-import");
    assert.deepEqual(
      report.notMeasured,
      exports
        ? []
        : [{ name: "exportSyncFile", reason: "kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux 6.0+)" }],
    );
    for (const c of report.cases) {
      assert.equal(c.error, null);
      assert.deepEqual(c.measurements.map((m) => m.name), [
        "allocClose",
        "fill",
        "verify",
        "sync",
        ...(exports ? ["exportSyncFile"] : []),
      ]);
      for (const m of c.measurements) {
        assert.equal(m.deno.error, null, `${c.heap} ${m.name}: ${m.deno.error}`);
        assert.equal(m.deno.stats!.samples, m.kind === "latency" ? 3 : c.bandwidthIterations);
        assert.ok(m.deno.stats!.medianNs > 0);
        if (m.kind === "bandwidth") assert.ok(m.deno.stats!.mibPerSecond! > 0);
        if (gcc) {
          assert.equal(m.c?.error, null, `${c.heap} ${m.name} (C): ${m.c?.error}`);
          assert.equal(
            m.cSingleThread?.error,
            null,
            `${c.heap} ${m.name} (C 1-thread): ${m.cSingleThread?.error}`,
          );
          assert.equal(m.cSingleThread!.stats!.samples, m.c!.stats!.samples);
          assert.ok(typeof m.ratio === "number" && m.ratio > 0);
          assert.equal(typeof m.goalMet, "boolean");
        }
      }
    }
  },
});

hwTest({
  name: "dmabuf bench prints a table with a row per measurement",
  needs: [needs.systemHeap],
  fn: async () => {
    const { code, stdout } = await runCli([
      "bench",
      "--heap",
      "system",
      "--iterations",
      "2",
      "--sizes",
      "4K",
      "--no-reference",
    ]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /\nHEAP +SIZE +MEASUREMENT +DENO +C +C 1-THREAD +DENO\/C +GOAL\n/);
    for (
      const label of [
        "alloc+close",
        "mmap+fill",
        "mmap+verify",
        "DMA_BUF_IOCTL_SYNC",
        ...(kernelHas("sync-file-export-import") ? ["EXPORT_SYNC_FILE+close"] : []),
      ]
    ) {
      assert.match(stdout, new RegExp(`\\nsystem +4 KiB +${label.replaceAll("+", "\\+")} `));
    }
    if (!kernelHas("sync-file-export-import")) {
      assert.doesNotMatch(stdout, /\nsystem +4 KiB +EXPORT_SYNC_FILE/);
      assert.match(
        stdout,
        /\nEXPORT_SYNC_FILE\+close not measured: kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE \(Linux 6\.0\+\)\n/,
      );
    }
    assert.match(stdout, /C reference: --no-reference/);
  },
});
