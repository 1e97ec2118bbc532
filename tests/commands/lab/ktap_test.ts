/**
 * KTAP of smoke reports: the exact text, streaming equal to rendering, and — the real check — the kernel's
 * own parser, `tools/testing/kunit/kunit.py parse`, reading every test with the report's counts and no error.
 * kunit.py comes from a kernel tree in the VM cache or from /usr/src/linux-source-*.tar.xz; without either
 * the parser tests are reported as ignored with that reason. With `DMABUF_KERNEL_TREES` (npm test, after the
 * VM tiers) a kernel it names without a kunit.py in the cache fails (tests/kernel_trees.ts).
 */
import assert from "node:assert/strict";
import { ktapDialect, KtapStream, renderKtap } from "../../../commands/lab/ktap.ts";
import { type Report, summarize } from "../../../commands/lab/report.ts";
import { ALL_PASS, MIXED, NO_HEAPS, report, result } from "./fixtures.ts";
import { assertKunitSummary, findKunits, KUNIT_MISSING, kunitCases, kunitParse } from "./kunit.ts";
import { missingTrees, requiredTrees } from "../../kernel_trees.ts";

Deno.test("renderKtap writes nested groups, SKIP directives and failure diagnostics", () => {
  assert.equal(
    renderKtap(MIXED),
    [
      "KTAP version 1",
      "1..4",
      "  KTAP version 1",
      "  # Subtest: system",
      "  1..4",
      "  ok 1 open",
      "  ok 2 alloc-4KiB",
      "  # alloc-16MiB: ioctl(DMA_HEAP_IOCTL_ALLOC) failed: ENOMEM # no memory",
      "  # alloc-16MiB: second line TAB",
      "  #   expected: a buffer",
      "  #   actual: ENOMEM",
      "  #   note: Subtest: not a header",
      "  not ok 3 alloc-16MiB",
      "  ok 4 export-sync-file # SKIP needs Linux 6.0 # or later",
      "  # system: pass:2 fail:1 skip:1 total:4",
      "not ok 1 system",
      "  KTAP version 1",
      "  # Subtest: linux_cma",
      "  1..3",
      "  ok 1 open",
      "  ok 2 alloc_4_KiB__1",
      "  ok 3 alloc_4_KiB__1-2",
      "  # linux_cma: pass:3 fail:0 skip:0 total:3",
      "ok 2 linux_cma",
      "  KTAP version 1",
      "  # Subtest: udmabuf",
      "  1..2",
      "  ok 1 open # SKIP no /dev/udmabuf",
      "  ok 2 alloc-4KiB # SKIP",
      "  # udmabuf: pass:0 fail:0 skip:2 total:2",
      "ok 3 udmabuf # SKIP all 2 checks skipped",
      "  KTAP version 1",
      "  # Subtest: battery",
      "  1..2",
      "  ok 1 heaps-present",
      "  ok 2 no-fd-leak",
      "  # battery: pass:2 fail:0 skip:0 total:2",
      "ok 4 battery",
      "# Totals: pass:7 fail:1 skip:3 total:11",
      "",
    ].join("\n"),
  );
});

Deno.test("KtapStream writes each result as soon as its group is current, and equals renderKtap", () => {
  const stream = new KtapStream(MIXED.results);
  let text = stream.header();
  assert.equal(text, "KTAP version 1\n1..4\n");
  const pieces = MIXED.results.map((r) => stream.result(r));
  // battery/heaps-present waits for its group (written last); system/open comes out at once.
  assert.equal(pieces[0], "");
  assert.match(pieces[1]!, /^ {2}KTAP version 1\n {2}# Subtest: system\n {2}1\.\.4\n {2}ok 1 open\n$/);
  text += pieces.join("") + stream.end();
  assert.equal(text, renderKtap(MIXED));
});

Deno.test("KtapStream rejects a result of a group it was not told about", () => {
  const stream = new KtapStream([{ group: "system" }]);
  assert.throws(() => stream.result(result({ id: "x/y", group: "x" })), /no planned group/);
});

Deno.test("KtapStream cut short leaves the group open, so a parser sees the missing tests", () => {
  const stream = new KtapStream(MIXED.results);
  const text = stream.header() + stream.result(MIXED.results[1]!) + stream.end();
  assert.ok(!/^ok 1 system$/m.test(text));
  assert.match(text, /# Totals: pass:1 fail:0 skip:0 total:1\n$/);
});

// ---------------------------------------------------------------------------------------------------------
// kunit.py

const STATUS_WORD = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;

const kunits = await findKunits();

/** The sample as if it ran on `release`, so it is written in that kernel's dialect. */
function onKernel(sample: Report, release: string): Report {
  return { ...sample, kernel: release };
}

const required = requiredTrees();
if (required !== null) {
  Deno.test(`every kernel the VM tiers build has its kunit.py (${Deno.env.get("DMABUF_KERNEL_TREES")})`, () => {
    // One kunit.py per kernel version, whatever the architecture of the build it came from.
    const have = kunits.flatMap((k) => required.map((r) => ({ arch: r.arch, version: k.release })));
    assert.deepEqual(missingTrees(required, have), [], "kernels without a kunit.py in the cache");
  });
}

if (kunits.length === 0) {
  Deno.test({
    name: `kunit.py parse reads the smoke reports (ignored: ${KUNIT_MISSING})`,
    ignore: true,
    fn() {},
  });
}
for (const kunit of kunits) {
  for (const [label, sample] of [["pass", ALL_PASS], ["mixed", MIXED], ["no heaps", NO_HEAPS]] as const) {
    Deno.test(
      `kunit.py parse of Linux ${kunit.release} reads every test of the ${label} report in its kernel's dialect ` +
        `(${ktapDialect(kunit.release)}), counts equal, no error`,
      async () => {
        const text = renderKtap(onKernel(sample, kunit.release));
        const { code, stdout, stderr, json } = await kunitParse(kunit.path, text);
        assert.equal(stderr, "", stderr);
        const counts = summarize(sample.results);
        assertKunitSummary(stdout, counts);
        assert.equal(code, counts.failed > 0 ? 1 : 0, stdout);
        // Every check, under its group, with its status.
        assert.deepEqual(kunitCases(json).sort(), renderKtapNames(onKernel(sample, kunit.release)).sort());
      },
    );
  }
  Deno.test(`kunit.py parse of Linux ${kunit.release} of an empty report says no tests ran, without crashing`, async () => {
    const { code, stdout, stderr } = await kunitParse(kunit.path, renderKtap(report([], kunit.release)));
    assert.equal(stderr, "");
    assert.match(stdout, /0 tests run|no tests run/);
    assert.doesNotMatch(stdout, /Traceback|\[CRASHED\]/);
    assert.equal(code, 1);
  });
}

Deno.test("renderKtap writes the TAP version 14 dialect for kernels before 6.1, which 5.10's kunit.py reads", () => {
  assert.equal(ktapDialect("5.10.223"), "tap14");
  assert.equal(ktapDialect("6.0.19"), "tap14");
  assert.equal(ktapDialect("6.1.0-test"), "ktap1");
  assert.equal(ktapDialect("7.2.13"), "ktap1");
  assert.equal(
    renderKtap(onKernel(MIXED, "5.10.223")),
    [
      "TAP version 14",
      "1..4",
      "  # Subtest: system",
      "  1..4",
      "  ok 1 - open",
      "  ok 2 - alloc-4KiB",
      "  # alloc-16MiB: ioctl(DMA_HEAP_IOCTL_ALLOC) failed: ENOMEM # no memory",
      "  # alloc-16MiB: second line TAB",
      "  #   expected: a buffer",
      "  #   actual: ENOMEM",
      "  #   note: Subtest: not a header",
      "  not ok 3 - alloc-16MiB",
      "  ok 4 - export-sync-file # SKIP needs Linux 6.0 # or later",
      "not ok 1 - system",
      "  # Subtest: linux_cma",
      "  1..3",
      "  ok 1 - open",
      "  ok 2 - alloc_4_KiB__1",
      "  ok 3 - alloc_4_KiB__1-2",
      "ok 2 - linux_cma",
      "  # Subtest: udmabuf",
      "  1..2",
      "  ok 1 - open # SKIP no /dev/udmabuf",
      "  ok 2 - alloc-4KiB # SKIP",
      "ok 3 - udmabuf # SKIP all 2 checks skipped",
      "  # Subtest: battery",
      "  1..2",
      "  ok 1 - heaps-present",
      "  ok 2 - no-fd-leak",
      "ok 4 - battery",
      "# Totals: pass:7 fail:1 skip:3 total:11",
      "",
    ].join("\n"),
  );
});

/** `group/name STATUS` of every check as the KTAP names them, read back from the KTAP text itself. */
function renderKtapNames(sample: Report): string[] {
  const lines = renderKtap(sample).split("\n");
  const out: string[] = [];
  let group = "";
  const statuses = new Map(sample.results.map((r, i) => [i, STATUS_WORD[r.status]]));
  let index = 0;
  const order = new KtapOrder(sample);
  for (const line of lines) {
    const header = /^ {2}# Subtest: (.*)$/.exec(line);
    if (header) group = header[1]!;
    const test = /^ {2}(?:not )?ok \d+ (?:- )?([^ #]+)/.exec(line);
    if (test) out.push(`${group}/${test[1]} ${statuses.get(order.original(index++))}`);
  }
  return out;
}

/** Maps the n-th test line of the KTAP text back to the report's result index (groups are reordered). */
class KtapOrder {
  #order: number[];
  constructor(sample: Report) {
    const last = new Map<string, number>();
    sample.results.forEach((r, i) => last.set(r.group, i));
    const groups = [...last.entries()].sort((a, b) => a[1] - b[1]).map(([g]) => g);
    this.#order = groups.flatMap((g) => sample.results.flatMap((r, i) => r.group === g ? [i] : []));
  }
  original(n: number): number {
    return this.#order[n]!;
  }
}
