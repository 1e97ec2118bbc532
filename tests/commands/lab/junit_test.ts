/**
 * JUnit XML of a smoke run, checked by `fast-xml-parser` plus the XML 1.0 rules it does not enforce (allowed
 * characters, entity references, one root); escaping of markup and control characters.
 */
import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { escapeXml, renderJunit } from "../../../commands/lab/junit.ts";
import { HOSTILE as REPORT } from "./fixtures.ts";

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
