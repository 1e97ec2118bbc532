/**
 * KTAP of smoke reports: the exact text, streaming equal to rendering, and — the real check — the kernel's
 * own parser, `tools/testing/kunit/kunit.py parse`, reading every test with the report's counts and no error.
 * kunit.py comes from a kernel tree in the VM cache or from /usr/src/linux-source-*.tar.xz; without either
 * the parser tests are reported as ignored with that reason.
 */
import assert from "node:assert/strict";
import { KtapStream, renderKtap } from "../../../commands/lab/ktap.ts";
import { type Report, summarize } from "../../../commands/lab/report.ts";
import { ALL_PASS, MIXED, NO_HEAPS, report, result } from "./fixtures.ts";
import { findKunit, KUNIT_MISSING } from "./kunit.ts";

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

interface KunitGroup {
  name: string;
  sub_groups: KunitGroup[];
  test_cases: { name: string; status: string }[];
}

/** Runs `kunit.py parse --json=FILE` on `text`; returns its exit status, stdout and JSON. */
async function kunitParse(kunit: string, text: string) {
  const dir = await Deno.makeTempDir({ prefix: "dmabuf-ktap-" });
  try {
    const input = `${dir}/smoke.ktap`;
    const json = `${dir}/smoke.json`;
    await Deno.writeTextFile(input, text);
    const output = await new Deno.Command("python3", {
      args: [kunit, "parse", `--json=${json}`, input],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    const parsed = JSON.parse(await Deno.readTextFile(json)) as KunitGroup;
    return { code: output.code, stdout, stderr, parsed };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every test case kunit.py reported, as `group/name status`. */
function kunitCases(group: KunitGroup, path: string[] = []): string[] {
  return [
    ...group.test_cases.map((t) => `${[...path, t.name].join("/")} ${t.status}`),
    ...group.sub_groups.flatMap((g) => kunitCases(g, [...path, g.name])),
  ];
}

const STATUS_WORD = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;

const kunit = await findKunit();

for (const [label, sample] of [["pass", ALL_PASS], ["mixed", MIXED], ["no heaps", NO_HEAPS]] as const) {
  Deno.test({
    name: kunit === null
      ? `kunit.py parse reads the ${label} report (ignored: ${KUNIT_MISSING})`
      : `kunit.py parse (${kunit}) reads every test of the ${label} report, counts equal, no error`,
    ignore: kunit === null,
    fn: async () => {
      const { code, stdout, stderr, parsed } = await kunitParse(kunit!, renderKtap(sample));
      assert.equal(stderr, "", stderr);
      const counts = summarize(sample.results);
      assert.match(
        stdout,
        new RegExp(
          `Testing complete\\. Ran ${counts.total} tests: passed: ${counts.passed}` +
            `${counts.failed > 0 ? `, failed: ${counts.failed}` : ""}` +
            `${counts.skipped > 0 ? `, skipped: ${counts.skipped}` : ""}$|` +
            `Testing complete\\. Passed: ${counts.passed}, Failed: ${counts.failed}, Crashed: 0, ` +
            `Skipped: ${counts.skipped}, Errors: 0`,
          "m",
        ),
        stdout,
      );
      assert.doesNotMatch(stdout, /\[CRASHED\]|\[ERROR\]|[Ee]rrors?: [1-9]|missing|could not find/, stdout);
      assert.equal(code, counts.failed > 0 ? 1 : 0, stdout);
      // Every check, under its group, with its status.
      const expected = renderKtapNames(sample);
      assert.deepEqual(kunitCases(parsed).sort(), expected.sort());
    },
  });
}

Deno.test({
  name: kunit === null
    ? `kunit.py parse of an empty report says no tests ran (ignored: ${KUNIT_MISSING})`
    : "kunit.py parse of an empty report says no tests ran, without crashing",
  ignore: kunit === null,
  fn: async () => {
    const { code, stdout, stderr } = await kunitParse(kunit!, renderKtap(report([])));
    assert.equal(stderr, "");
    assert.match(stdout, /0 tests run/);
    assert.doesNotMatch(stdout, /Traceback|\[CRASHED\]/);
    assert.equal(code, 1);
  },
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
    const test = /^ {2}(?:not )?ok \d+ ([^ #]+)/.exec(line);
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
