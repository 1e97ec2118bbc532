/**
 * The smoke report renderers, checked by tools that do not share the writer's assumptions: TAP by Perl's
 * `prove` (TAP::Harness) and YAML blocks by the `yaml` package, JUnit by `fast-xml-parser` (plus the XML 1.0
 * rules it does not enforce: allowed characters, entity references, one root); escaping of markup and control
 * characters, JSON and human text.
 */
import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import YAML from "yaml";
import { prove, tapParser } from "../../tap_tools.ts";
import {
  type CheckResult,
  escapeXml,
  renderHuman,
  renderJson,
  renderJunit,
  renderReport,
  renderTap,
  type Report,
  summarize,
} from "../../../commands/smoke/report_format.ts";

const NASTY = `a<b & "c" 'd' >e\x01\x1b[31m\ttab\nnew # hash \\ back \ud800 lone \ud83d\ude00 pair \ufffe`;

function result(overrides: Partial<CheckResult>): CheckResult {
  return {
    id: "system/alloc-4KiB",
    group: "system",
    name: "allocate 4 KiB",
    status: "pass",
    reason: null,
    details: {},
    durationMs: 1.25,
    ...overrides,
  };
}

const REPORT: Report = {
  suite: "dmabuf smoke",
  kernel: "6.1.0-test",
  hostname: "board",
  startedAt: "2025-01-02T03:04:05.000Z",
  durationMs: 1234.5,
  results: [
    result({}),
    result({
      id: "system/alloc-len-0",
      name: "DMA_HEAP_IOCTL_ALLOC with len 0 fails with EINVAL",
      status: "fail",
      reason: "DMA_HEAP_IOCTL_ALLOC with len 0 failed with ENOMEM, the kernel documents EINVAL",
      details: { expected: "EINVAL", actual: "ENOMEM", bytes: 0, ok: false, none: null },
    }),
    result({
      id: "system/export-sync-file",
      name: "DMA_BUF_IOCTL_EXPORT_SYNC_FILE of an idle buffer is signalled",
      status: "skip",
      reason: "kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux < 6.0)",
    }),
    result({ id: "udmabuf/open", group: "udmabuf", name: "open /dev/udmabuf" }),
    result({
      id: "udmabuf/nasty",
      group: "udmabuf",
      name: `name ${NASTY}`,
      status: "fail",
      reason: `reason ${NASTY}`,
      details: { [`key ${NASTY}`]: NASTY, actual: "EINVAL" },
    }),
    result({ id: "battery/no-fd-leak", group: "battery", name: "no fd leaked over the run" }),
  ],
};

// ---------------------------------------------------------------------------------------------------------
// TAP 13

interface TapLine {
  ok: boolean;
  number: number;
  description: string;
  directive: string | null;
}

/** Checks a TAP 13 document line by line; returns the test lines. Throws on anything the spec does not allow. */
function parseTap13(text: string): { plan: number; tests: TapLine[]; yamlBlocks: string[][] } {
  assert.ok(text.endsWith("\n"), "TAP output ends with a newline");
  const lines = text.slice(0, -1).split("\n");
  assert.equal(lines[0], "TAP version 13", "first line is the version");
  const planMatch = /^1\.\.(\d+)(?: # .*)?$/.exec(lines[1] ?? "");
  assert.ok(planMatch, `second line is the plan: ${lines[1]}`);
  const plan = Number(planMatch[1]);
  const tests: TapLine[] = [];
  const yamlBlocks: string[][] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    const test = /^(not ok|ok) (\d+)(?: - (.*?))?(?: # (SKIP|TODO)\b ?(.*))?$/.exec(line);
    if (test) {
      // The description may not contain an unescaped '#': it would start a directive.
      const description = test[3] ?? "";
      assert.ok(!/(^|[^\\])#/.test(description), `unescaped # in description: ${line}`);
      tests.push({
        ok: test[1] === "ok",
        number: Number(test[2]),
        description,
        directive: test[4] === undefined ? null : `${test[4]} ${test[5] ?? ""}`.trim(),
      });
      continue;
    }
    if (line === "  ---") {
      assert.ok(tests.length > 0, "a YAML block follows a test line");
      const block: string[] = [];
      for (i++; i < lines.length && lines[i] !== "  ..."; i++) block.push(lines[i]!);
      assert.equal(lines[i], "  ...", "YAML block is closed with '  ...'");
      for (const yaml of block) assert.ok(yaml.startsWith("  "), `YAML indented under the test: ${yaml}`);
      yamlBlocks.push(block);
      continue;
    }
    assert.fail(`line ${i + 1} is not TAP 13: ${JSON.stringify(line)}`);
  }
  return { plan, tests, yamlBlocks };
}

/** A TAP YAML block (its lines, indented two spaces under the test line) read by the `yaml` package. */
function parseYamlBlock(block: string[]): Record<string, unknown> {
  for (const line of block) assert.ok(line.startsWith("  "), `YAML indented under the test: ${line}`);
  const document = YAML.parseDocument(block.map((line) => line.slice(2)).join("\n"), { strict: true });
  assert.deepEqual(document.errors.map((e) => e.message), []);
  return document.toJS() as Record<string, unknown>;
}

Deno.test("prove (TAP::Harness) reads renderTap's document: 6 tests, 2 failed (2 and 5), 1 skipped, no parse errors", async () => {
  const { code, output } = await prove(renderTap(REPORT));
  assert.notEqual(code, 0, output);
  assert.doesNotMatch(output, /Parse errors|unknown|Bad plan/i);
  assert.match(output, /Failed tests?:\s+2, 5\b/);
  assert.match(output, /Failed 2\/6 subtests/);
  assert.match(output, /\(less 1 skipped subtest: 3 okay\)/);
});

Deno.test("TAP::Parser reads renderTap's document: version 13, the plan, which passed, failed and skipped", async () => {
  assert.deepEqual(await tapParser(renderTap(REPORT)), {
    version: "13",
    plan: "1..6",
    tests_run: "6",
    passed: "1,3,4,6",
    failed: "2,5",
    skipped: "3",
    parse_errors: "",
  });
});

Deno.test("prove passes a report without failures", async () => {
  const passing = { ...REPORT, results: REPORT.results.filter((r) => r.status !== "fail") };
  const { code, output } = await prove(renderTap(passing));
  assert.equal(code, 0, output);
  assert.match(output, /All tests successful/);
  assert.match(output, /Result: PASS/);
  assert.doesNotMatch(output, /Parse errors/i);
  assert.equal((await tapParser(renderTap(passing))).skipped, "2");
});

Deno.test("prove reads an empty battery as a skipped plan", async () => {
  const { code, output } = await prove(renderTap({ ...REPORT, results: [] }));
  assert.equal(code, 0, output);
  assert.match(output, /skipped/i);
  assert.doesNotMatch(output, /Parse errors/i);
});

Deno.test("renderTap writes the version line, a plan matching the count, and numbers tests from 1", () => {
  const { plan, tests } = parseTap13(renderTap(REPORT));
  assert.equal(plan, REPORT.results.length);
  assert.deepEqual(tests.map((t) => t.number), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(tests.map((t) => t.ok), [true, false, true, true, false, true]);
  assert.equal(tests[0]!.description, "system: allocate 4 KiB");
});

Deno.test("renderTap marks skips as ok with a # SKIP directive and the reason", () => {
  const { tests } = parseTap13(renderTap(REPORT));
  assert.equal(tests[2]!.ok, true);
  assert.equal(tests[2]!.directive, "SKIP kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux < 6.0)");
  assert.equal(tests.filter((t) => t.directive !== null).length, 1);
});

Deno.test("renderTap puts a YAML block with message and data under each failure", () => {
  const { yamlBlocks } = parseTap13(renderTap(REPORT));
  assert.equal(yamlBlocks.length, 2);
  const first = parseYamlBlock(yamlBlocks[0]!);
  assert.equal(
    first.message,
    "DMA_HEAP_IOCTL_ALLOC with len 0 failed with ENOMEM, the kernel documents EINVAL",
  );
  assert.equal(first.id, "system/alloc-len-0");
  assert.deepEqual(first.data, { expected: "EINVAL", actual: "ENOMEM", bytes: 0, ok: false, none: null });
});

Deno.test("renderTap keeps hostile text on one line, escapes # and round-trips it through YAML", () => {
  const text = renderTap(REPORT);
  const { tests, yamlBlocks } = parseTap13(text);
  assert.ok(tests[4]!.description.includes("\\#"), tests[4]!.description);
  assert.ok(!tests[4]!.description.includes("\n"));
  const yaml = parseYamlBlock(yamlBlocks[1]!);
  assert.equal(yaml.message, `reason ${NASTY}`);
  assert.deepEqual(yaml.data, { [`key ${NASTY}`]: NASTY, actual: "EINVAL" });
});

Deno.test("renderTap of no checks is a valid skipped plan", () => {
  const { plan, tests } = parseTap13(renderTap({ ...REPORT, results: [] }));
  assert.equal(plan, 0);
  assert.equal(tests.length, 0);
});

// ---------------------------------------------------------------------------------------------------------
// JUnit XML: a small XML 1.0 well-formedness reader (elements, attributes, character data, entity and
// character references, the XML declaration), enough for what renderJunit may produce.

interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  text: string;
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

type OrderedNode = Record<string, unknown> & { ":@"?: Record<string, string> };

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true, // decodes character references (&#10;) as XML does
});

function toElement(node: OrderedNode): XmlElement {
  const name = Object.keys(node).find((key) => key !== ":@")!;
  const element: XmlElement = {
    name,
    attributes: new Map(Object.entries(node[":@"] ?? {})),
    children: [],
    text: "",
  };
  for (const child of node[name] as OrderedNode[]) {
    if ("#text" in child) element.text += String(child["#text"]);
    else element.children.push(toElement(child));
  }
  return element;
}

/**
 * Parses XML with fast-xml-parser after its validator accepts it, and enforces the XML 1.0 rules the validator
 * leaves out: only Char-production characters (also through character references), only the five predefined
 * entities, no `<` in attribute values, exactly one root element.
 */
function parseXml(source: string): XmlElement {
  const valid = XMLValidator.validate(source);
  assert.equal(valid, true, JSON.stringify(valid));
  for (const ch of source) {
    const cp = ch.codePointAt(0)!;
    assert.ok(isXmlChar(cp), `character U+${cp.toString(16)} is not allowed in XML 1.0`);
  }
  for (const [, ref] of source.matchAll(/&([^;]*);/g)) {
    const numeric = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(ref!);
    if (numeric) {
      const cp = numeric[1]!.startsWith("x") ? parseInt(numeric[1]!.slice(1), 16) : Number(numeric[1]);
      assert.ok(isXmlChar(cp), `&${ref}; refers to a character XML 1.0 does not allow`);
    } else assert.ok(["lt", "gt", "amp", "quot", "apos"].includes(ref!), `undeclared entity &${ref};`);
  }
  for (const [value] of source.matchAll(/=\s*("[^"]*"|'[^']*')/g)) {
    assert.ok(!value!.includes("<"), `"<" in an attribute value: ${value}`);
  }
  const roots = (xmlParser.parse(source) as OrderedNode[]).filter((node) => !("?xml" in node));
  assert.equal(roots.length, 1, "one root element");
  return toElement(roots[0]!);
}

function elements(root: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.name === name) found.push(e);
    e.children.forEach(walk);
  };
  walk(root);
  return found;
}

Deno.test("the XML checker rejects what is not well-formed", () => {
  assert.throws(() => parseXml("<a><b></a></b>"));
  assert.throws(() => parseXml(`<a x="1" x="2"/>`));
  assert.throws(() => parseXml("<a>&bogus;</a>"));
  assert.throws(() => parseXml("<a>a & b</a>"));
  assert.throws(() => parseXml("<a>\x01</a>"));
  assert.throws(() => parseXml("<a>&#1;</a>"));
  assert.throws(() => parseXml(`<a x="<"/>`));
  assert.throws(() => parseXml("<a/><b/>"));
  assert.deepEqual(parseXml(`<a x="&lt;&#10;"> t &amp; </a>`).attributes.get("x"), "<\n");
});

Deno.test("renderJunit is well-formed XML with testsuites, one testsuite per heap and a testcase per check", () => {
  const root = parseXml(renderJunit(REPORT));
  assert.equal(root.name, "testsuites");
  assert.equal(root.attributes.get("tests"), "6");
  assert.equal(root.attributes.get("failures"), "2");
  assert.equal(root.attributes.get("skipped"), "1");
  assert.equal(root.attributes.get("errors"), "0");
  const suites = elements(root, "testsuite");
  assert.deepEqual(suites.map((s) => s.attributes.get("name")), ["system", "udmabuf", "battery"]);
  assert.deepEqual(suites.map((s) => s.attributes.get("tests")), ["3", "2", "1"]);
  assert.equal(suites[0]!.attributes.get("hostname"), "board");
  assert.equal(elements(root, "testcase").length, 6);
  const property = elements(root, "property")[0]!;
  assert.equal(property.attributes.get("value"), "6.1.0-test");
});

Deno.test("renderJunit reports failures with message and type, skips with <skipped message>", () => {
  const root = parseXml(renderJunit(REPORT));
  const failures = elements(root, "failure");
  assert.equal(failures.length, 2);
  assert.equal(failures[0]!.attributes.get("type"), "ENOMEM");
  assert.match(failures[0]!.attributes.get("message")!, /documents EINVAL/);
  assert.match(failures[0]!.text, /expected: EINVAL/);
  const skipped = elements(root, "skipped");
  assert.equal(skipped.length, 1);
  assert.equal(
    skipped[0]!.attributes.get("message"),
    "kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux < 6.0)",
  );
});

Deno.test("renderJunit escapes <&\"' and keeps text XML cannot carry visible instead of breaking the document", () => {
  const root = parseXml(renderJunit(REPORT));
  const nasty = elements(root, "testcase").find((t) => t.attributes.get("name")!.startsWith("name "))!;
  const name = nasty.attributes.get("name")!;
  // Markup characters, TAB and LF survive exactly (references are decoded back by the parser).
  assert.ok(name.includes(`a<b & "c" 'd' >e`));
  assert.ok(name.includes("\ttab\nnew # hash \\ back"));
  // Characters XML 1.0 forbids are shown as \uXXXX; a valid surrogate pair is kept.
  assert.ok(name.includes("\\u0001\\u001b[31m"), name);
  assert.ok(name.includes("\\ud800 lone"), name);
  assert.ok(name.includes("\ud83d\ude00 pair"), name);
  assert.ok(name.includes("\\ufffe"), name);
  const failure = elements(nasty, "failure")[0]!;
  assert.ok(failure.attributes.get("message")!.startsWith(`reason a<b & "c"`));
});

Deno.test("escapeXml escapes the five markup characters and line breaks", () => {
  assert.equal(escapeXml(`<&>"'`), "&lt;&amp;&gt;&quot;&apos;");
  assert.equal(escapeXml("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
  assert.equal(escapeXml("\x00\x7f"), "\\u0000\x7f");
});

// ---------------------------------------------------------------------------------------------------------
// JSON and human

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
