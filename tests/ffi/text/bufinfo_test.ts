import assert from "node:assert/strict";
import { parseBufinfo } from "../../../ffi/text/bufinfo.ts";

const FIXTURES = new URL("./fixtures/bufinfo/", import.meta.url);

/** Fixture name → the generation it must be detected as. Expected JSON sits beside each as `<name>.json`. */
const CASES: Record<string, string> = {
  v5_10: "v5.10-v5.15",
  v5_16: "v5.16-v5.18",
  v6_1: "v5.19-v6.16",
  v6_17: "v6.17+",
  edge_names: "v5.19-v6.16",
  empty: "v5.19+",
  truncated: "v5.19+",
  spaces: "v5.19-v6.16",
  garbage: "unknown",
};

function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(`${name}.txt`, FIXTURES));
}

for (const [name, generation] of Object.entries(CASES)) {
  Deno.test(`parseBufinfo ${name}.txt gives the expected JSON`, () => {
    const parsed = parseBufinfo(fixture(name));
    const expected = JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, FIXTURES)));
    assert.deepEqual(JSON.parse(JSON.stringify(parsed)), expected);
    assert.equal(parsed.generation, generation);
  });
}

Deno.test("parseBufinfo 5.10 trailing TAB is an unnamed buffer, 5.19 <none> too, 5.19 empty name stays empty", () => {
  assert.equal(parseBufinfo(fixture("v5_10")).buffers[0]!.name, null);
  assert.equal(parseBufinfo(fixture("v6_1")).buffers[0]!.name, null);
  assert.equal(parseBufinfo(fixture("edge_names")).buffers[3]!.name, "");
});

Deno.test("parseBufinfo keeps exporters with commas, names with spaces, TABs and newlines, wide numbers", () => {
  const [a, b, c, d] = parseBufinfo(fixture("edge_names")).buffers;
  assert.equal(a!.exporter, "linux,cma");
  assert.equal(a!.name, "front buffer 0");
  assert.equal(a!.size, 134217728);
  assert.equal(b!.name, "a\tb");
  assert.equal(b!.size, 4294967296);
  assert.equal(c!.name, "line1\nline2");
  assert.equal(d!.inode, 1234567890);
  assert.equal(d!.count, 123456789);
});

Deno.test("parseBufinfo maps 6.17+ placeholder names and empty names of signalled fences to null", () => {
  const [first, second] = parseBufinfo(fixture("v6_17")).buffers;
  assert.deepEqual(first!.fences[0], {
    usage: "write",
    driver: null,
    timeline: null,
    context: null,
    seq: 5809165,
    signalled: true,
  });
  assert.deepEqual(second!.fences[1], {
    usage: "write",
    driver: "sw_sync",
    timeline: "my timeline",
    context: null,
    seq: 4,
    signalled: false,
  });
});

Deno.test("parseBufinfo reads CRLF copies like the original", () => {
  const text = fixture("v6_1");
  assert.deepEqual(parseBufinfo(text.replaceAll("\n", "\r\n")), parseBufinfo(text));
});

Deno.test("parseBufinfo reports unparsed lines with their numbers and keeps going", () => {
  const text = fixture("v6_1").replace(
    "\tAttached Devices:\n\tvgem",
    "\tAttached Devices:\n\tvgem\nnonsense here",
  );
  const parsed = parseBufinfo(text);
  assert.equal(parsed.buffers.length, 2);
  assert.deepEqual(parsed.unparsed, [{ line: 14, text: "nonsense here" }]);
});

Deno.test("parseBufinfo on empty text and on non-bufinfo is not recognized", () => {
  assert.equal(parseBufinfo("").recognized, false);
  assert.equal(parseBufinfo("\n\n").recognized, false);
  assert.equal(parseBufinfo(fixture("garbage")).recognized, false);
  assert.equal(parseBufinfo('{"source": "debugfs"}').recognized, false);
});

/** mulberry32: a small seeded PRNG, so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  "\t",
  "\n",
  " ",
  "0",
  "9",
  "f",
  ":",
  ",",
  "<",
  ">",
  "-",
  "\r",
  "\u00e9",
  "\0",
  "Total ",
  " fence:",
];

function mutate(text: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  let out = text;
  const steps = 1 + pick(6);
  for (let s = 0; s < steps; s++) {
    const at = pick(out.length + 1);
    switch (pick(6)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + 1 + pick(8));
        break;
      case 1:
        out = out.slice(0, at) + ALPHABET[pick(ALPHABET.length)]! + out.slice(at);
        break;
      case 2: {
        const lines = out.split("\n");
        const i = pick(lines.length);
        lines.splice(pick(lines.length), 0, lines[i]!);
        out = lines.join("\n");
        break;
      }
      case 3:
        out = out.slice(0, at);
        break;
      case 4: {
        const lines = out.split("\n");
        const i = pick(lines.length);
        const j = pick(lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        out = lines.join("\n");
        break;
      }
      default:
        out = out.slice(0, at) + String(pick(10 ** pick(25))) + out.slice(at);
    }
  }
  return out;
}

Deno.test("parseBufinfo never throws on mutated fixtures (seeded fuzz)", () => {
  const seed = 0x5eed;
  const random = prng(seed);
  const sources = Object.keys(CASES).map(fixture);
  for (let i = 0; i < 5000; i++) {
    const input = mutate(sources[i % sources.length]!, random);
    let parsed;
    try {
      parsed = parseBufinfo(input);
    } catch (error) {
      throw new Error(`seed ${seed}, iteration ${i}: threw ${error} on ${JSON.stringify(input)}`);
    }
    const lineCount = input.split("\n").length;
    for (const u of parsed.unparsed) assert.ok(u.line >= 1 && u.line <= lineCount, `iteration ${i}`);
    for (const b of parsed.buffers) {
      assert.ok(
        Number.isFinite(b.size) && Number.isFinite(b.inode) && Number.isFinite(b.count),
        `iteration ${i}`,
      );
    }
  }
});

Deno.test("parseBufinfo reads row numbers in both bases and of any width up to 2^53, and refuses a field that is not one", () => {
  const text = [
    "size\tflags\tmode\tcount\texp_name\tino\tname",
    "0009007199254740991\t0000000A\t000fFfFf\t00000001\tsystem\t00000000000000000009007199254740991\tbig",
    "4096\t1FFFFFFFFFFFFF\t0\t1\t\t5",
    "4096\t2g\t7\t1\tx\t7\tbad hex",
    "4096\t\t7\t1\tx\t8\tempty flags",
    "4096\t2\t7\t1\tx\t9x\tbad inode",
  ].join("\n\n"); // Blank lines between: a line right after a row would continue its name.
  const { buffers, unparsed } = parseBufinfo(text);
  assert.deepEqual(buffers.map((b) => [b.size, b.flags, b.mode, b.count, b.exporter, b.inode, b.name]), [
    [9007199254740991, 10, 0xfffff, 1, "system", 9007199254740991, "big"],
    [4096, 0x1fffffffffffff, 0, 1, "", 5, ""],
  ]);
  assert.deepEqual(unparsed.map((u) => u.line), [7, 9, 11]);
});

Deno.test("parseBufinfo refuses rows with a size, count, inode or flags beyond 2^53, saying why, in both row shapes", () => {
  const rows = [
    "9007199254740993\t2\t80007\t1\tsystem\t5\tsize",
    "4096\t2\t80007\t12345678901234567890\tsystem\t6\tcount",
    "4096\t2\t80007\t1\tsystem\t99999999999999999999\tinode",
    "4096\tDEADBEEFCAFE12\t80007\t1\tsystem\t7\tflags",
    "9007199254740993 2 80007 1 system 8 spaced",
  ];
  const { buffers, unparsed } = parseBufinfo(
    ["size\tflags\tmode\tcount\texp_name\tino\tname", ...rows].join("\n\n"),
  );
  assert.equal(buffers.length, 0);
  assert.deepEqual(unparsed.map((u) => [u.line, u.text]), rows.map((row, i) => [3 + 2 * i, row]));
  for (const u of unparsed) assert.match(u.reason ?? "", /beyond 2\^53/);
});

Deno.test("parseBufinfo keeps fence contexts, seqnos and the byte total exact beyond 2^53 (BigInt)", () => {
  const text = [
    "size\tflags\tmode\tcount\texp_name\tino\tname",
    "4096\t2\t80007\t1\tsystem\t5\t<none>",
    "\twrite fence:18446744073709551615:18446744073709551614 tl drv unsignalled",
    "\tread fence:drv tl seq 9007199254740993 signalled",
    "\tkernel fence:3:9007199254740991 tl drv unsignalled",
    "\tAttached Devices:",
    "Total 0 devices attached",
    "",
    "Total 1 objects, 36893488147419103232 bytes",
  ].join("\n");
  const { buffers, totals } = parseBufinfo(text);
  const [a, b, c] = buffers[0]!.fences;
  assert.equal(a!.context, 18446744073709551615n);
  assert.equal(a!.seq, 18446744073709551614n);
  assert.equal(b!.seq, 9007199254740993n);
  assert.equal(c!.context, 3);
  assert.equal(c!.seq, 9007199254740991);
  assert.equal(totals!.bytes, 36893488147419103232n);
});

Deno.test("parseBufinfo reads device totals and the attachments header in place only in their exact shape", () => {
  const text = [
    "Total 1 devices attached", // before any buffer: not understood
    "size\tflags\tmode\tcount\texp_name\tino\tname",
    "4096\t2\t80007\t1\tsystem\t5\ta",
    "\tAttached Devices:\r",
    "\tvgem\r",
    "Total 1 devices attached\r",
    "",
    "4096\t2\t80007\t1\tsystem\t6\tb",
    "\tAttached Devices:",
    "Total x devices attached", // not a number: not understood
    "Total  devices attached",
    "Total 0 devices attached",
    "",
    "\tAttached Devices: ", // a header with a trailing space is still one (the general path trims it)
    "Total 12 objects, 8192 bytes",
  ].join("\n");
  const parsed = parseBufinfo(text);
  assert.deepEqual(parsed.buffers.map((b) => [b.inode, b.attachments]), [[5, ["vgem"]], [6, []]]);
  assert.deepEqual(parsed.unparsed.map((u) => [u.line, u.text]), [
    [1, "Total 1 devices attached"],
    [10, "Total x devices attached"],
    [11, "Total  devices attached"],
  ]);
  assert.deepEqual(parsed.totals, { objects: 12, bytes: 8192 });
});

Deno.test("parseBufinfo gives buffers without fences or attachments lists that cannot be pushed to", () => {
  const { buffers } = parseBufinfo("4096\t2\t80007\t1\tsystem\t5\ta\n\n4096\t2\t80007\t1\tsystem\t6\tb\n");
  assert.deepEqual(buffers.map((b) => [b.fences, b.attachments]), [[[], []], [[], []]]);
  // One shared empty list: frozen, so a push fails instead of giving every buffer the entry.
  assert.throws(() => buffers[0]!.attachments.push("vgem"), TypeError);
  assert.deepEqual(buffers[1]!.attachments, []);
});

Deno.test("parseBufinfo reads a spaced copy whose only TAB is at its end, row after row", () => {
  // Every row's TAB search runs to the last line; the rows before it reuse that search (one pass, not one
  // per row: 20,000 such rows took 399 ms before and 60 ms after).
  const rows = ["size flags mode count exp_name ino name"];
  for (let i = 0; i < 500; i++) rows.push(`4096 00000002 00080007 00000001 system ${i + 1} spaced ${i}`, "");
  rows.push("4096\t2\t80007\t1\tsystem\t9999\ttabbed", "");
  const { buffers, unparsed } = parseBufinfo(rows.join("\n"));
  assert.equal(buffers.length, 501);
  assert.deepEqual(unparsed, []);
  assert.deepEqual(buffers.slice(-2).map((b) => [b.inode, b.name]), [[500, "spaced 499"], [9999, "tabbed"]]);
});
