import { assertEquals, assertIncludes, assertThrows } from "../assert.ts";
import { UsageError } from "../../commands/toolkit/errors.ts";
import { memfdCreate } from "../../ffi/fd.ts";
import { hexdump, mapAction, type MapFlags, resolveRange } from "../../commands/map.ts";
import { runCli } from "../run_cli.ts";

const base: MapFlags = { json: false, verbose: false, color: "never", read: false, noSync: false };

Deno.test("hexdump: hexdump -C layout, printable ASCII, repeated lines as *, end offset", () => {
  const bytes = new Uint8Array(64);
  bytes.set(new TextEncoder().encode("dma-buf!"), 0);
  assertEquals(hexdump(bytes, 0x1000), [
    "00001000  64 6d 61 2d 62 75 66 21  00 00 00 00 00 00 00 00  |dma-buf!........|",
    "00001010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|",
    "*",
    "00001040",
  ]);
  assertEquals(hexdump(Uint8Array.from([0x41, 0x0a, 0xff])), [
    "00000000  41 0a ff                                          |A..|",
    "00000003",
  ]);
});

Deno.test("resolveRange: defaults, the hexdump limit, and ranges outside the buffer", () => {
  assertEquals(resolveRange(8192, {}), { offset: 0, length: 8192 });
  assertEquals(resolveRange(8192, { offset: 4096 }), { offset: 4096, length: 4096 });
  assertEquals(resolveRange(65536, { limit: 4096 }), { offset: 0, length: 4096 });
  assertEquals(resolveRange(65536, { length: 8192, limit: 4096 }), { offset: 0, length: 8192 });
  assertThrows(() => resolveRange(4096, { offset: 4096 }), UsageError, "Offset 4096 is outside the buffer");
  assertThrows(() => resolveRange(4096, { offset: 4000, length: 200 }), UsageError, "Range 4000+200");
});

Deno.test("mapAction: read by default and with --out; two actions are a usage error", () => {
  assertEquals(mapAction(base), "read");
  assertEquals(mapAction({ ...base, out: "x" }), "read");
  assertEquals(mapAction({ ...base, fill: { kind: "zero" } }), "fill");
  assertThrows(
    () => mapAction({ ...base, read: true, verify: { kind: "zero" } }),
    UsageError,
    "got --read, --verify",
  );
  assertThrows(
    () => mapAction({ ...base, fill: { kind: "zero" }, out: "x" }),
    UsageError,
    "--out goes with --read",
  );
  assertEquals(mapAction({ ...base, read: true, out: "x" }), "read");
});

Deno.test("dmabuf map --fd N of a memfd exits 1 saying what it is", async () => {
  using memfd = memfdCreate("map-cli", 4096n);
  const { code, stdout, stderr } = await runCli(["map", "--fd", String(memfd.fd), "--read"]);
  assertEquals([code, stdout], [1, ""]);
  assertEquals(stderr, `dmabuf: fd ${memfd.fd} is not a dma-buf: it is /memfd:map-cli (deleted)\n`);
});

Deno.test("dmabuf map: usage errors exit 2 before anything is opened", async () => {
  for (
    const args of [
      ["map"],
      ["map", "--fd", "3", "--size", "4K"],
      ["map", "--fd", "3", "--fill", "zero", "--verify", "zero"],
      ["map", "--fd", "3", "--fill", "purple"],
      ["map", "--fd", "3", "--offset", "-1"],
      ["map", "--fd", "3", "--fill", "zero", "--out", "x"],
      ["map", "--pid", "1"],
    ]
  ) {
    const { code, stderr } = await runCli(args);
    assertEquals(code, 2, `${args.join(" ")}: ${stderr}`);
    assertEquals(stderr.split("\n").length, 2, stderr);
  }
});

Deno.test("dmabuf map --fd of an fd that is not open exits 1", async () => {
  const { code, stderr } = await runCli(["map", "--fd", "999999", "--read"]);
  assertEquals(code, 1);
  assertIncludes(stderr, "fd 999999 is not open in this process");
});

Deno.test("map --image: incomplete or clashing image flags exit 2 before any buffer is touched", async () => {
  const cases: [string[], string][] = [
    [["--image", "/tmp/x.png", "--width", "4", "--height", "2"], "dmabuf: --image needs --fourcc\n"],
    [["--fd", "3", "--fourcc", "yuyv"], "dmabuf: --fourcc go with --image FILE\n"],
    [
      ["--image", "/tmp/x.png", "--fourcc", "NV12", "--width", "4", "--height", "2", "--read"],
      "dmabuf: --image does not go with --read: the frame's size sets the range\n",
    ],
  ];
  for (const [args, stderr] of cases) {
    const result = await runCli(["map", ...args]);
    assertEquals([result.code, result.stdout, result.stderr], [2, "", stderr]);
  }
  const help = await runCli(["map", "--help"]);
  assertIncludes(help.stdout, "YU12/I420/YUV420/IYUV");
});

Deno.test("map --write, --out and --image paths are checked before any buffer is selected", async () => {
  const cases: [string[], string][] = [
    [
      ["--write", "/nonexistent/in"],
      "dmabuf: Cannot read /nonexistent/in: ENOENT (No such file or directory)\n",
    ],
    [["--write", "/"], "dmabuf: Cannot read /: EISDIR (Is a directory)\n"],
    [["--out", "/tmp"], "dmabuf: Cannot write /tmp: EISDIR (Is a directory)\n"],
    [
      ["--image", "/nonexistent/x.png", "--fourcc", "NV12", "--width", "4", "--height", "2"],
      "dmabuf: Cannot write /nonexistent/x.png: ENOENT (No such file or directory)\n",
    ],
  ];
  // fd 999999 is not open: reaching the selection would say so instead.
  for (const [args, stderr] of cases) {
    const result = await runCli(["map", "--fd", "999999", ...args]);
    assertEquals([result.code, result.stdout, result.stderr], [1, "", stderr]);
  }
  const empty = Deno.makeTempFileSync();
  try {
    const result = await runCli(["map", "--fd", "999999", "--write", empty]);
    assertEquals([result.code, result.stderr], [2, `dmabuf: Nothing to write: ${empty} is empty\n`]);
  } finally {
    Deno.removeSync(empty);
  }
});
