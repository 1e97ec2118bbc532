/**
 * `dmabuf smoke` on the real kernel: passes in every format, and fails with exit 1 and a readable line when
 * pointed at a device that is not a dma-heap (`--heap-dir /dev --heap null`: /dev/null opens, but
 * DMA_HEAP_IOCTL_ALLOC on it fails with ENOTTY). In-process through runCli, one battery per case.
 */
import assert from "node:assert/strict";
import { runCli } from "../run_cli.ts";
import { hwTest, needs } from "./hw.ts";
import { kernelHas } from "./features.ts";

const NEEDS = [needs.systemHeap, needs.cmaHeap, needs.udmabuf, needs.bufinfo];

/**
 * The checks a kernel without `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` (before 6.0) skips: one per target; none on
 * kernels with it. Every other check must pass everywhere.
 */
function exportSkips(targets: number): number {
  return kernelHas("sync-file-export-import") ? 0 : targets;
}

/** The skip line of the export check, as TAP and the human report give the reason. */
const EXPORT_SKIP_REASON = "kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux < 6.0)";

hwTest({
  name:
    "dmabuf smoke passes on this kernel (human): every heap and udmabuf, skips only where the kernel lacks " +
    "EXPORT_SYNC_FILE (before 6.0), exit 0",
  needs: NEEDS,
  fn: async () => {
    const { code, stdout, stderr } = await runCli(["smoke"]);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^dmabuf smoke on Linux /);
    for (const heap of ["system", "udmabuf"]) assert.match(stdout, new RegExp(`\\n${heap}:\\n`));
    const targets = Deno.readDirSync("/dev/dma_heap").toArray().length + 1;
    assert.match(stdout, new RegExp(`\\n\\d+ passed, 0 failed, ${exportSkips(targets)} skipped \\(`));
    assert.doesNotMatch(stdout, /FAIL/);
    // Not a terminal: no progress line.
    assert.equal(stderr, "");
  },
});

hwTest({
  name: "dmabuf smoke --format tap is valid TAP 13 with every test ok",
  needs: NEEDS,
  fn: async () => {
    const { code, stdout } = await runCli(["smoke", "--heap", "system", "--format", "tap"]);
    assert.equal(code, 0, stdout);
    const lines = stdout.trimEnd().split("\n");
    assert.equal(lines[0], "TAP version 13");
    const plan = /^1\.\.(\d+)$/.exec(lines[1]!);
    assert.ok(plan, lines[1]);
    const tests = lines.slice(2);
    assert.equal(tests.length, Number(plan[1]));
    tests.forEach((line, i) => {
      if (!line.includes("EXPORT_SYNC_FILE") || exportSkips(1) === 0) {
        assert.match(line, new RegExp(`^ok ${i + 1} - [^#]*$`));
      } else {
        assert.match(
          line,
          new RegExp(`^ok ${i + 1} - system: [^#]* # SKIP ${EXPORT_SKIP_REASON.replace(/[()+<]/g, "\\$&")}$`),
        );
      }
    });
    assert.ok(tests.some((t) => t.includes("system: DMA_BUF_IOCTL_EXPORT_SYNC_FILE")));
  },
});

hwTest({
  name: "dmabuf smoke --format junit --output FILE writes JUnit XML with no failures",
  needs: NEEDS,
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const file = `${dir}/smoke.xml`;
      const { code, stdout, stderr } = await runCli([
        "smoke",
        "--heap",
        "udmabuf",
        "--format",
        "junit",
        "--output",
        file,
      ]);
      assert.equal(code, 0, stderr);
      assert.equal(stdout, "");
      assert.match(
        stderr,
        new RegExp(`passed, 0 failed, ${exportSkips(1)} skipped; junit report written to `),
      );
      const xml = Deno.readTextFileSync(file);
      assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="dmabuf smoke" /);
      assert.match(xml, / failures="0" /);
      assert.match(xml, /<testsuite name="udmabuf" /);
      assert.doesNotMatch(xml, /<failure/);
      assert.equal(xml.match(/<skipped /g)?.length ?? 0, exportSkips(1));
      // Balanced: every opened testcase is closed or self-closed.
      const open = xml.match(/<testcase /g)?.length ?? 0;
      assert.ok(open > 0);
      assert.equal(
        (xml.match(/<testcase [^>]*\/>/g)?.length ?? 0) + (xml.match(/<\/testcase>/g)?.length ?? 0),
        open,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

hwTest({
  name: "dmabuf smoke --json reports every check passed with its details",
  needs: NEEDS,
  fn: async () => {
    const { code, stdout } = await runCli(["smoke", "--heap", "cma", "--json"]);
    assert.equal(code, 0, stdout);
    const report = JSON.parse(stdout);
    assert.equal(report.summary.failed, 0);
    assert.equal(report.summary.skipped, exportSkips(1));
    assert.ok(report.summary.passed >= 20);
    const ids: string[] = report.results.map((r: { id: string }) => r.id);
    assert.ok(ids.includes("battery/no-fd-leak"));
    const lenZero = report.results.find((r: { id: string }) => r.id.endsWith("/alloc-len-0"));
    assert.deepEqual(lenZero.details, { expected: "EINVAL", actual: "EINVAL" });
  },
});

hwTest({
  name: "dmabuf smoke --heap-dir /dev --heap null fails with exit 1 and the ioctl's errno",
  needs: NEEDS,
  fn: async () => {
    const human = await runCli(["smoke", "--heap-dir", "/dev", "--heap", "null"]);
    assert.equal(human.code, 1);
    assert.equal(human.stderr, "");
    assert.match(
      human.stdout,
      /\n {2}FAIL {2}allocate 4 KiB: ioctl\(DMA_HEAP_IOCTL_ALLOC\) on \/dev\/null failed: ENOTTY/,
    );
    assert.match(
      human.stdout,
      /DMA_HEAP_IOCTL_ALLOC with len 0 failed with ENOTTY, the kernel documents EINVAL/,
    );
    assert.match(human.stdout, /\n\d+ passed, [1-9]\d* failed, \d+ skipped/);

    const tap = await runCli(["smoke", "--heap-dir", "/dev", "--heap", "null", "--format", "tap"]);
    assert.equal(tap.code, 1);
    assert.match(
      tap.stdout,
      /\nnot ok 3 - null: allocate 4 KiB\n {2}---\n {2}message: "ioctl\(DMA_HEAP_IOCTL_ALLOC\)/,
    );
    assert.match(tap.stdout, /\nok 4 - null: .* # SKIP allocation of 4 KiB failed earlier: ENOTTY\n/);
  },
});

hwTest({
  name: "dmabuf smoke --heap with a heap that does not exist fails its open check with ENOENT",
  needs: NEEDS,
  fn: async () => {
    const { code, stdout } = await runCli(["smoke", "--heap", "no-such-heap", "--format", "json"]);
    assert.equal(code, 1);
    const report = JSON.parse(stdout);
    const open = report.results.find((r: { id: string }) => r.id === "no-such-heap/open");
    assert.equal(open.status, "fail");
    assert.equal(open.details.actual, "ENOENT");
  },
});
