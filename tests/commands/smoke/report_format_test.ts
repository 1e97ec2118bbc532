/**
 * The smoke report for people and as JSON, and the dispatch over every format.
 */
import assert from "node:assert/strict";
import { renderHuman, renderJson, renderReport } from "../../../commands/smoke/report_format.ts";
import { summarize } from "../../../commands/lab/report.ts";
import { HOSTILE as REPORT } from "../lab/fixtures.ts";

Deno.test("renderJson is the report plus a summary", () => {
  const parsed = JSON.parse(renderJson(REPORT));
  assert.deepEqual(parsed.summary, { total: 6, passed: 3, failed: 2, skipped: 1 });
  assert.equal(parsed.results.length, 6);
  assert.equal(parsed.results[1].details.actual, "ENOMEM");
  assert.equal(parsed.kernel, "6.1.0-test");
});

Deno.test("renderHuman groups by heap, shows reasons, repeats failures and ends with the counts", () => {
  const text = renderHuman(REPORT);
  assert.match(text, /^dmabuf smoke on Linux 6\.1\.0-test\n/);
  assert.match(text, /\nsystem:\n {2}ok {4}allocate 4 KiB\n/);
  assert.match(text, /\n {2}skip {2}DMA_BUF_IOCTL_EXPORT_SYNC_FILE .*: kernel lacks/);
  assert.match(text, /\nFailed:\n {2}system: DMA_HEAP_IOCTL_ALLOC with len 0 .*ENOMEM/);
  assert.match(text, /\n3 passed, 2 failed, 1 skipped \(1\.23 s\)\n$/);
  // One line per check even with hostile text; no raw escape sequences when colour is off.
  assert.ok(!text.includes("\x1b"));
  assert.ok(!text.includes("\x01"));
});

Deno.test("renderHuman colours status words only when asked", () => {
  assert.ok(renderHuman(REPORT, true).includes("\x1b[32mok"));
  assert.equal(renderReport(REPORT, "human"), renderHuman(REPORT, false));
});

Deno.test("summarize counts each status", () => {
  assert.deepEqual(summarize(REPORT.results), { total: 6, passed: 3, failed: 2, skipped: 1 });
  assert.deepEqual(summarize([]), { total: 0, passed: 0, failed: 0, skipped: 0 });
});
