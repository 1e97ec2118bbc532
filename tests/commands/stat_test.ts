import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { captureIo, runCli, startCli } from "../run_cli.ts";
import { main } from "../../cli/main.ts";
import { notASnapshot } from "../../commands/stat/snapshot.ts";

const FIXTURES = fileURLToPath(new URL("../ffi/text/fixtures/bufinfo/", import.meta.url));
const fixture = (name: string) => `${FIXTURES}${name}.txt`;

function tempFile(text: string, suffix = ".txt"): string {
  const path = Deno.makeTempFileSync({ prefix: "dmabuf-stat-test-", suffix });
  Deno.writeTextFileSync(path, text);
  return path;
}

/** The rows of the first table in human output (header first), up to the first blank line after it. */
function firstTable(stdout: string): string[] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.includes("INODE"));
  const end = lines.indexOf("", start);
  return lines.slice(start, end);
}

Deno.test("stat --input v6_1.txt prints the source, a table and totals", async () => {
  const { code, stdout, stderr } = await runCli(["stat", "--input", fixture("v6_1")]);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  assert.equal(
    stdout.split("\n")[0],
    `Source: file (${fixture("v6_1")}, bufinfo format v5.19-v6.16)`,
  );
  const table = firstTable(stdout);
  assert.match(table[0]!, /INODE\s+SIZE\s+EXPORTER\s+NAME\s+COUNT\s+ATTACHED\s+FENCES/);
  assert.match(
    table[1]!,
    /^\s+4\s+4 MiB\s+reserved\s+stat-test\s+3\s+vgem\s+1 kernel, 1 read \(signalled\)$/,
  );
  assert.match(table[2]!, /^\s+5\s+1 MiB\s+system\s+<none>\s+2\s+-\s+1 write \(1 unsignalled\)$/);
  assert.match(stdout, /\nEXPORTER\s+BUFFERS\s+SIZE\nreserved\s+1\s+4 MiB\nsystem\s+1\s+1 MiB\n/);
  assert.match(stdout, /\nTotal: 2 buffers, 5 MiB \(5242880 bytes\)\n$/);
});

Deno.test("stat --input --json has the documented shape with exact values", async () => {
  const { code, stdout } = await runCli(["stat", "--input", fixture("v5_10"), "--json", "--sort", "inode"]);
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout), {
    source: "file",
    sourcePath: fixture("v5_10"),
    generation: "v5.10-v5.15",
    buffers: [
      {
        inode: 18,
        size: 4096,
        exporter: "system",
        name: null,
        count: 3,
        flags: 2,
        mode: 0x80007,
        attachments: ["vgem"],
        fences: [
          {
            usage: "exclusive",
            driver: "sw_sync",
            timeline: "deno",
            context: null,
            seq: null,
            signalled: false,
          },
          { usage: "shared", driver: "vgem", timeline: "unbound", context: null, seq: null, signalled: true },
        ],
      },
      {
        inode: 18758,
        size: 1048576,
        exporter: "ion",
        name: "CAMERA",
        count: 1,
        flags: 0,
        mode: 0x80005,
        attachments: [],
        fences: [],
      },
    ],
    totals: {
      count: 2,
      bytes: 1052672,
      byExporter: { system: { count: 1, bytes: 4096 }, ion: { count: 1, bytes: 1048576 } },
    },
    unparsed: [],
  });
});

async function inodes(args: string[]): Promise<number[]> {
  const { code, stdout, stderr } = await runCli([
    "stat",
    "--input",
    fixture("edge_names"),
    "--json",
    ...args,
  ]);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout).buffers.map((b: { inode: number }) => b.inode);
}

Deno.test("stat --sort orders by size (default), inode, exporter, name, count", async () => {
  assert.deepEqual(await inodes([]), [102, 101, 1234567890, 103]);
  assert.deepEqual(await inodes(["--sort", "inode"]), [101, 102, 103, 1234567890]);
  assert.deepEqual(await inodes(["--sort", "exporter"]), [101, 102, 103, 1234567890]);
  assert.deepEqual(await inodes(["--sort", "name"]), [1234567890, 102, 101, 103]);
  assert.deepEqual(await inodes(["--sort", "count"]), [1234567890, 101, 102, 103]);
});

Deno.test("stat --exporter, --name GLOB and --min-size filter, and totals follow the filter", async () => {
  assert.deepEqual(await inodes(["--exporter", "linux,cma"]), [101]);
  assert.deepEqual(await inodes(["--name", "front*"]), [101]);
  assert.deepEqual(await inodes(["--name", "line?\nline[0-9]"]), [103]);
  assert.deepEqual(await inodes(["--min-size", "1M"]), [102, 101]);
  assert.deepEqual(await inodes(["--exporter", "nope"]), []);
  const unnamed = await runCli(["stat", "--input", fixture("v6_1"), "--name", "<none>", "--json"]);
  const doc = JSON.parse(unnamed.stdout);
  assert.deepEqual(doc.buffers.map((b: { inode: number }) => b.inode), [5]);
  assert.deepEqual(doc.totals, {
    count: 1,
    bytes: 1048576,
    byExporter: { system: { count: 1, bytes: 1048576 } },
  });
});

Deno.test("stat --name '[z-a]' (a glob that makes no matcher) is a usage error naming the pattern", async () => {
  for (const glob of ["[z-a]", "x[9-0]*"]) {
    const { code, stdout, stderr } = await runCli(["stat", "--input", fixture("v6_1"), "--name", glob]);
    assert.equal(code, 2, stderr);
    assert.equal(stdout, "");
    assert.match(
      stderr,
      new RegExp(`^dmabuf: .*Invalid name pattern "${RegExp.escape(glob)}": range out of order`),
    );
    assert.doesNotMatch(stderr, /internal error/);
  }
  const open = await runCli(["stat", "--input", fixture("v6_1"), "--name", "["]);
  assert.equal(open.code, 2);
  assert.equal(
    open.stderr,
    'dmabuf: --name: Invalid name pattern "[": [ without a closing ] (a literal [ is [[])\n',
  );
});

Deno.test("stat table stays aligned with long names, TABs and newlines in names", async () => {
  const long = "a-very-long-buffer-name-31-char";
  const text = Deno.readTextFileSync(fixture("edge_names")).replace("front buffer 0", long);
  const { stdout } = await runCli(["stat", "--input", tempFile(text)]);
  const table = firstTable(stdout);
  assert.equal(table.length, 5);
  const header = table[0]!;
  for (const column of ["NAME", "ATTACHED", "FENCES"]) { // left-aligned: every cell starts under the header
    const at = header.indexOf(column);
    for (const row of table.slice(1)) {
      assert.ok(row[at - 1] === " " && row[at] !== " ", `${column} column in ${JSON.stringify(row)}`);
    }
  }
  const countEnd = header.indexOf("COUNT") + "COUNT".length; // right-aligned: every cell ends under it
  for (const row of table.slice(1)) {
    assert.ok(row[countEnd - 1] !== " " && row[countEnd] === " ", `COUNT column in ${JSON.stringify(row)}`);
  }
  assert.ok(table.every((row) => !row.includes("\t")));
  assert.ok(table.some((row) => row.includes(long)));
});

Deno.test("stat --input garbage exits 1 with a one-line message", async () => {
  const { code, stdout, stderr } = await runCli(["stat", "--input", fixture("garbage")]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `dmabuf: ${fixture("garbage")} is not a bufinfo or a dmabuf stat --json document: ` +
      "no 'Dma-buf Objects:' line, header or buffer row found\n",
  );
  const empty = await runCli(["stat", "--input", tempFile("")]);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /it is empty\n$/);
  const missing = await runCli(["stat", "--input", "/nonexistent/bufinfo"]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    "dmabuf: Cannot read /nonexistent/bufinfo: ENOENT (No such file or directory)\n",
  );
});

Deno.test("stat --input of a truncated bufinfo warns about the cut and the unparsed line", async () => {
  const { code, stdout, stderr } = await runCli(["stat", "--input", fixture("truncated"), "--json"]);
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout).unparsed, [{ line: 8, text: "00004096\t000000" }]);
  assert.match(stderr, /warning: 1 lines of .* not understood: line 8: 00004096\\t000000\n/);
  assert.match(stderr, /has no 'Total N objects' line: it looks truncated\n/);
});

Deno.test("stat usage errors: --procs or --source with --input, --compare with --watch", async () => {
  for (
    const args of [
      ["--input", fixture("v6_1"), "--procs"],
      ["--input", fixture("v6_1"), "--source", "sysfs"],
      ["--input", fixture("v6_1"), "--compare", fixture("v6_1"), "--watch", "1s"],
      ["--iterations", "2"],
      ["--sort", "colour"],
      ["--min-size", "-1"],
    ]
  ) {
    const { code, stderr } = await runCli(["stat", ...args]);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
  }
});

/** v6_1 with the unnamed 1 MiB buffer (inode 5) freed and a 64 KiB udmabuf (inode 6) added. */
function laterBufinfo(): string {
  const text = Deno.readTextFileSync(fixture("v6_1"));
  const start = text.indexOf("01048576");
  const end = text.indexOf("00004194304".slice(3));
  return text.slice(0, start) + "00065536\t00000002\t00080007\t00000001\tudmabuf\t00000006\tnew one\n" +
    "\tAttached Devices:\nTotal 0 devices attached\n\n" + text.slice(end).replace(
      "Total 2 objects, 5242880 bytes",
      "Total 2 objects, 4259840 bytes",
    );
}

Deno.test("stat --compare with a saved --json and with a raw bufinfo shows added and freed buffers", async () => {
  const saved = await runCli(["stat", "--input", fixture("v6_1"), "--json"]);
  const savedPath = tempFile(saved.stdout, ".json");
  const later = tempFile(laterBufinfo());
  for (const base of [savedPath, fixture("v6_1")]) {
    const { code, stdout, stderr } = await runCli(["stat", "--input", later, "--compare", base, "--json"]);
    assert.equal(code, 0, stderr);
    const doc = JSON.parse(stdout);
    assert.equal(doc.compareWith, base);
    assert.deepEqual(doc.added.map((b: { inode: number; name: string }) => [b.inode, b.name]), [[
      6,
      "new one",
    ]]);
    assert.deepEqual(doc.freed.map((b: { inode: number }) => b.inode), [5]);
    assert.equal(doc.bytesDelta, 65536 - 1048576);
  }
  const human = await runCli(["stat", "--input", later, "--compare", savedPath]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /\n1 added \(64 KiB\), 1 freed \(1 MiB\), net -960 KiB \(-983040 bytes\)\n/);
  assert.match(human.stdout, /\n\+\s+6\s+64 KiB\s+udmabuf\s+new one/);
  assert.match(human.stdout, /\n-\s+5\s+1 MiB\s+system\s+<none>/);
});

Deno.test("stat --input accepts a saved stat --json as well", async () => {
  const saved = await runCli(["stat", "--input", fixture("edge_names"), "--json"]);
  const again = await runCli(["stat", "--input", tempFile(saved.stdout, ".json"), "--json"]);
  assert.equal(again.code, 0);
  assert.deepEqual(JSON.parse(again.stdout).buffers, JSON.parse(saved.stdout).buffers);
});

Deno.test("stat --watch on a pipe prints successive reports separated by a blank line, marking changes", async () => {
  const path = tempFile(Deno.readTextFileSync(fixture("v6_1")));
  // Rewrite the file once the first report is out (not at a set time, which a loaded machine can miss): the
  // second report must mark inode 6 as + and inode 5 as -.
  let rewritten = false;
  const onStdout = () => {
    if (rewritten) return;
    rewritten = true;
    Deno.writeTextFileSync(path, laterBufinfo());
  };
  const { code, stdout } = await runCli(["stat", "--input", path, "--watch", "400ms", "--iterations", "2"], {
    onStdout,
  });
  assert.equal(code, 0);
  assert.ok(!stdout.includes("\x1b["), "no escape codes into a pipe");
  const reports = stdout.split(/\n\n(?=Source: )/);
  assert.equal(reports.length, 2);
  assert.match(reports[0]!, /every 0.4 s; Ctrl-C ends/);
  assert.match(reports[1]!, /: 1 appeared \(\+\), 1 disappeared \(-\); Ctrl-C ends/);
  assert.match(reports[1]!, /\n\+\s+6\s+64 KiB\s+udmabuf/);
  assert.match(reports[1]!, /\n-\s+5\s+1 MiB\s+system/);
});

Deno.test("stat --watch 720h waits between reports (longer than setTimeout's 2^31 - 1 ms); SIGINT ends it", async () => {
  const watch = startCli(["stat", "--input", fixture("v6_1"), "--watch", "720h", "--iterations", "2"]);
  const first = await watch.readUntil("Ctrl-C ends");
  // A watch that does not wait has printed its second report and exited by now.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(watch.exited(), false, `stat --watch 720h ended at once:\n${first}`);
  Deno.kill(watch.pid, "SIGINT");
  const { code, stdout, stderr } = await watch.result;
  assert.equal(code, 0, stderr);
  assert.equal(stdout.split("Source: ").length - 1, 1, stdout);
});

Deno.test("stat --watch on a terminal clears the screen before each report", async () => {
  const { code, stdout } = await runCli(
    ["stat", "--input", fixture("v6_1"), "--watch", "100ms", "--iterations", "2", "--color", "never"],
    { terminal: true },
  );
  assert.equal(code, 0);
  assert.equal(stdout.split("\x1b[H\x1b[2J").length, 3);
});

Deno.test("stat --watch --json prints one document per refresh with added and freed inodes", async () => {
  const { code, stdout } = await runCli([
    "stat",
    "--input",
    fixture("v6_1"),
    "--watch",
    "100ms",
    "--iterations",
    "2",
    "--json",
  ]);
  assert.equal(code, 0);
  const docs = stdout.split(/\n(?=\{)/).map((d) => JSON.parse(d));
  assert.equal(docs.length, 2);
  assert.deepEqual(docs[1].added, []);
  assert.deepEqual(docs[1].freed, []);
  assert.equal(docs[1].buffers.length, 2);
});

Deno.test("stat --watch 1h stops, exit 0, as soon as stdout's reader goes away (main's interrupt signal)", async () => {
  const captured = captureIo({
    onStdout: (text) => {
      if (text.includes("Total:")) captured.closeStdout();
    },
  });
  const start = performance.now();
  const code = await main(["stat", "--input", fixture("v6_1"), "--watch", "1h"], captured.io);
  assert.equal(code, 0, captured.stderr());
  assert.ok(performance.now() - start < 5000);
  assert.equal(captured.stdout().split("Total:").length, 2, "one refresh");
});

Deno.test("notASnapshot: binary data, or 4 KiB of text without a bufinfo line, is given up on; JSON and bufinfo pass", () => {
  const start = (text: string) => notASnapshot(new TextEncoder().encode(text));
  assert.equal(start("\0\0\0\0"), "it holds binary data (NUL bytes)");
  assert.equal(
    start("a log line\n".repeat(500)),
    "its first 4096 bytes have no 'Dma-buf Objects:' line, header or buffer row",
  );
  // Shorter than 4 KiB: the whole text decides, as before.
  assert.equal(start("a log line\n"), undefined);
  assert.equal(start(` \r\n {"buffers": ${"[".repeat(5000)}`), undefined);
  const bufinfo = Deno.readTextFileSync(fixture("edge_names"));
  assert.equal(start(bufinfo.repeat(Math.ceil(5000 / bufinfo.length))), undefined);
});

Deno.test("stat --input '' and --compare '' are usage errors", async () => {
  for (const flag of ["--input", "--compare"]) {
    const { code, stderr } = await runCli(["stat", flag, ""]);
    assert.equal(code, 2);
    assert.equal(stderr, `dmabuf: ${flag}: Expected a path, got an empty string\n`);
  }
});

Deno.test("stat --input --json keeps fence contexts and seqnos beyond 2^53 exact (7.2's context:seqno lines)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/bufinfo.txt`;
    await Deno.writeTextFile(
      path,
      [
        "",
        "Dma-buf Objects:",
        "size    \tflags   \tmode    \tcount   \texp_name\tino     \tname",
        "00004096\t00000002\t00080007\t00000001\tsystem\t00000005\t<none>",
        "\twrite fence:18446744073709551615:9007199254740993 deno sw_sync unsignalled",
        "\tread fence:7:3   signalled",
        "\tAttached Devices:",
        "Total 0 devices attached",
        "",
        "",
        "Total 1 objects, 4096 bytes",
        "",
      ].join("\n"),
    );
    const { code, stdout, stderr } = await runCli(["stat", "--input", path, "--json"]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    assert.match(stdout, /"context": 18446744073709551615,\n\s+"seq": 9007199254740993,/);
    const doc = JSON.parse(stdout);
    assert.equal(doc.generation, "context:seqno");
    assert.equal(doc.buffers[0].fences[0].driver, "sw_sync");
    assert.equal(doc.buffers[0].fences[0].timeline, "deno");
    assert.deepEqual(doc.buffers[0].fences[1], {
      usage: "read",
      driver: null,
      timeline: null,
      context: 7,
      seq: 3,
      signalled: true,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stat --json of every bufinfo fixture reads back through the saved-document schema, unchanged", async () => {
  for (const name of ["v5_10", "v5_16", "v6_1", "v6_17", "edge_names", "spaces", "truncated"]) {
    const { code, stdout } = await runCli(["stat", "--input", fixture(name), "--json", "--sort", "inode"]);
    assert.equal(code, 0, name);
    const saved = tempFile(stdout, ".json");
    try {
      const again = await runCli(["stat", "--input", saved, "--json", "--sort", "inode"]);
      assert.equal(again.code, 0, `${name}: ${again.stderr}`);
      assert.deepEqual(JSON.parse(again.stdout).buffers, JSON.parse(stdout).buffers, name);
    } finally {
      Deno.removeSync(saved);
    }
  }
});

Deno.test("stat --watch 0ms is a usage error, as trace --duration 0ms is", async () => {
  for (
    const args of [["stat", "--input", fixture("v6_1"), "--watch", "0ms"], ["trace", "--duration", "0ms"]]
  ) {
    const { code, stdout, stderr } = await runCli(args);
    assert.deepEqual([code, stdout], [2, ""]);
    assert.match(stderr, /^dmabuf: --(watch|duration): Cannot parse duration "0ms": must be more than 0\n$/);
  }
});

Deno.test("stat --input of a saved --json keeps a u64 fence seqno exact, and refuses one of 2^64 or more", async () => {
  const doc = (seq: string) =>
    `{"buffers":[{"inode":5,"size":4096,"exporter":"system","name":null,"count":1,"flags":2,"mode":524295,` +
    `"attachments":[],"fences":[{"usage":"write","driver":"sw_sync","timeline":"deno","context":3,` +
    `"seq":${seq},"signalled":false}]}]}`;
  const saved = tempFile(doc("18446744073709551615"), ".json");
  try {
    const { code, stdout, stderr } = await runCli(["stat", "--input", saved, "--json"]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /"seq": 18446744073709551615,/);
  } finally {
    Deno.removeSync(saved);
  }
  const tooBig = tempFile(doc("18446744073709551616"), ".json");
  try {
    const { code, stderr } = await runCli(["stat", "--input", tooBig, "--json"]);
    assert.equal(code, 1);
    assert.match(stderr, /buffers\[0\]\.fences\[0\]\.seq must be a non-negative integer below 2\^64/);
  } finally {
    Deno.removeSync(tooBig);
  }
});
