/**
 * The `map --image` glue on fake buffers: flag checks, the one read of exactly the frame, the SYNC READ
 * bracket around it, the fit error (exit 2), the report, and `map`'s wiring through stricli with the real
 * flag specs over a fake buffer (the real `map --image` needs a kernel buffer: tests/kernel/map_image_test.ts).
 */
import { buildApplication, buildCommand, buildRouteMap, run } from "@stricli/core";
import { assertEquals, assertIncludes, assertThrows } from "../../assert.ts";
import { UsageError } from "../../../commands/toolkit/errors.ts";
import {
  type CommonFlags,
  commonFlags,
  type DmabufContext,
  makeContext,
} from "../../../commands/toolkit/context.ts";
import { exitCodeOf } from "../../../cli/errors.ts";
import { parseOffset } from "../../../commands/toolkit/parse.ts";
import { text } from "../../../cli/text.ts";
import {
  dmaBufSource,
  type FrameSource,
  imageRequest,
  readImage,
  reportImage,
  type SyncableBuffer,
  writeImage,
} from "../../../commands/image/map_image.ts";
import { type ImageFlags, imageFlags, imageHelpLines } from "../../../commands/image/flags.ts";
import { decodePng, pixelRows } from "./png_decode.ts";
import { captureIo } from "../../run_cli.ts";

/** A YUYV 4x2 frame: black, white, 75% grey pairs; the bytes around it are 0xee. */
const FRAME = [16, 128, 16, 128, 235, 128, 235, 128, 180, 128, 180, 128, 16, 128, 235, 128];

/** A source over `bytes` that records its reads. */
function fakeSource(bytes: number[]): FrameSource & { reads: [number, number][] } {
  const data = Uint8Array.from(bytes);
  const reads: [number, number][] = [];
  return {
    size: data.length,
    reads,
    read(offset, length) {
      reads.push([offset, length]);
      return data.slice(offset, offset + length);
    },
  };
}

/** A path that cannot be written: its directory is a regular file (this test file). */
const UNWRITABLE = `${new URL(import.meta.url).pathname}/x.png`;
const BASE = { image: UNWRITABLE, fourcc: "yuy2", width: 4, height: 2 } as const;

Deno.test("imageRequest: defaults, canonical fourcc, and no request without --image", () => {
  assertEquals(imageRequest({}), undefined);
  assertEquals(imageRequest({ ...BASE, offset: 64, stride: 16, range: "full" }), {
    path: UNWRITABLE,
    fourcc: "YUYV",
    width: 4,
    height: 2,
    stride: 16,
    offset: 64,
    range: "full",
  });
  assertEquals(imageRequest(BASE)?.range, "limited");
  assertEquals(imageRequest(BASE)?.offset, 0);
});

Deno.test("imageRequest: usage errors name the flags", () => {
  assertThrows(() => imageRequest({ fourcc: "NV12" }), UsageError, "--fourcc go with --image FILE");
  assertThrows(
    () => imageRequest({ image: "a.png", width: 4 }),
    UsageError,
    "--image needs --fourcc, --height",
  );
  assertThrows(
    () => imageRequest({ ...BASE, read: true, length: 4 }),
    UsageError,
    "--image does not go with --read, --length",
  );
  assertThrows(() => imageRequest({ ...BASE, fourcc: "H264" }), UsageError, 'Unknown fourcc "H264"');
  assertThrows(() => imageRequest({ ...BASE, stride: 4 }), UsageError, "Stride 4 is too small for YUYV");
});

Deno.test("readImage: one read of exactly the frame at the offset; report fields", () => {
  const source = fakeSource([0xee, 0xee, 0xee, ...FRAME, 0xee]);
  const { png, report } = readImage(source, imageRequest({ ...BASE, offset: 3 })!);
  assertEquals(source.reads, [[3, 16]]);
  assertEquals(report, {
    path: UNWRITABLE,
    width: 4,
    height: 2,
    stride: 8,
    fourcc: "YUYV",
    offset: 3,
    bytesRead: 16,
    range: "limited",
    size: 20,
  });
  const black = [0, 0, 0], white = [255, 255, 255], grey = [191, 191, 191];
  assertEquals(pixelRows(decodePng(png)), [[black, black, white, white], [grey, grey, black, white]]);
});

Deno.test("readImage: a frame that does not fit is a usage error naming the numbers; nothing read", () => {
  const source = fakeSource([...FRAME]);
  const error = assertThrows(() => readImage(source, imageRequest({ ...BASE, offset: 8 })!), UsageError);
  assertEquals(error.exitCode, 2);
  assertEquals(
    error.message,
    "Frame does not fit in the buffer: offset 8 + frame 16 bytes (YUYV 4x2 with stride 8) = 24 > " +
      "buffer size 16",
  );
  assertEquals(source.reads, []);
});

/** A fake dma-buf that logs map, CPU-access bracket and read calls. */
function fakeBuffer(bytes: number[], failRead = false): SyncableBuffer & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    size: () => bytes.length,
    beginCpuAccess: (access) => {
      log.push(`sync start ${access}`);
      return { [Symbol.dispose]: () => void log.push(`sync end ${access}`) };
    },
    map: () => {
      log.push("map");
      return {
        read: (offset, length) => {
          log.push(`read ${offset}+${length}`);
          if (failRead) throw new Error("read failed");
          return Uint8Array.from(bytes.slice(offset, offset + length));
        },
        [Symbol.dispose]: () => void log.push("unmap"),
      };
    },
  };
}

Deno.test("dmaBufSource: SYNC START/END READ around the read; END and unmap even when it throws", () => {
  const buffer = fakeBuffer(FRAME);
  readImage(dmaBufSource(buffer, { sync: true }), imageRequest(BASE)!);
  assertEquals(buffer.log, ["map", "sync start read", "read 0+16", "sync end read", "unmap"]);
  const failing = fakeBuffer(FRAME, true);
  assertThrows(() => dmaBufSource(failing, { sync: true }).read(0, 4), Error, "read failed");
  assertEquals(failing.log, ["map", "sync start read", "read 0+4", "sync end read", "unmap"]);
  const unsynced = fakeBuffer(FRAME);
  dmaBufSource(unsynced, { sync: false }).read(0, 4);
  assertEquals(unsynced.log, ["map", "read 0+4", "unmap"]);
});

Deno.test("writeImage writes a PNG pngjs decodes; an unwritable path is a runtime error", () => {
  const path = Deno.makeTempFileSync({ suffix: ".png" });
  try {
    const report = writeImage(fakeSource(FRAME), imageRequest({ ...BASE, image: path })!);
    assertEquals(report.path, path);
    const decoded = decodePng(Deno.readFileSync(path));
    assertEquals([decoded.width, decoded.height], [4, 2]);
  } finally {
    Deno.removeSync(path);
  }
  const error = assertThrows(() => writeImage(fakeSource(FRAME), imageRequest(BASE)!), Error);
  assertIncludes(error.message, `Cannot write ${UNWRITABLE}`);
});

interface RehearsalFlags extends CommonFlags, ImageFlags {
  readonly offset?: number;
  readonly noSync: boolean;
}

/** Runs a stand-in `map` with the real flag specs and the documented wiring, over a fake buffer. */
async function rehearse(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = buildCommand<RehearsalFlags, [], DmabufContext>({
    func(this: DmabufContext, flags: RehearsalFlags): void {
      const image = imageRequest(flags);
      if (image === undefined) return;
      const buffer = fakeBuffer([0xee, ...FRAME]);
      reportImage(this.output(flags), writeImage(dmaBufSource(buffer, { sync: !flags.noSync }), image));
    },
    parameters: {
      flags: {
        ...commonFlags,
        offset: { kind: "parsed", parse: parseOffset, optional: true, brief: "offset" },
        noSync: { kind: "boolean", default: false, withNegated: false, brief: "no sync" },
        ...imageFlags,
      },
    },
    docs: { brief: "map", fullDescription: imageHelpLines().join("\n") },
  });
  const app = buildApplication<DmabufContext>(
    buildRouteMap({ routes: { map: command }, docs: { brief: "t" } }),
    {
      name: "dmabuf",
      scanner: { caseStyle: "allow-kebab-for-camel", allowArgumentEscapeSequence: true },
      documentation: { caseStyle: "convert-camel-to-kebab" },
      localization: { text },
      determineExitCode: exitCodeOf,
    },
  );
  const captured = captureIo({ env: {} });
  const { io } = captured;
  const process = {
    stdout: io.stdout,
    stderr: io.stderr,
    env: { STRICLI_SKIP_VERSION_CHECK: "1" },
    exitCode: null as number | string | null,
  };
  await run(app, args, { ...makeContext(io, () => new AbortController().signal), process });
  // As cli/main.ts's exitStatus: stricli's scanner failures (-4, -5) are usage errors.
  const code = Number(process.exitCode ?? 0);
  return {
    code: code === -4 || code === -5 ? 2 : code,
    stdout: captured.stdout(),
    stderr: captured.stderr(),
  };
}

Deno.test("wiring rehearsal: map --image flags through stricli, --json, fit error exits 2", async () => {
  const path = Deno.makeTempFileSync({ suffix: ".png" });
  try {
    const ok = await rehearse([
      "map",
      "--image",
      path,
      "--fourcc",
      "YUY2",
      "--width",
      "4",
      "--height",
      "2",
      "--offset",
      "1",
      "--range",
      "limited",
      "--json",
    ]);
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(JSON.parse(ok.stdout), {
      path,
      width: 4,
      height: 2,
      stride: 8,
      fourcc: "YUYV",
      offset: 1,
      bytesRead: 16,
      range: "limited",
      size: 17,
    });
    const human = await rehearse([
      "map",
      "--image",
      path,
      "--fourcc",
      "yuyv",
      "--width",
      "4",
      "--height",
      "2",
    ]);
    assertEquals(human.stdout, `wrote ${path}: YUYV 4x2, stride 8, 16 B from offset 0\n`);
    const misfit = await rehearse([
      "map",
      "--image",
      path,
      "--fourcc",
      "YUYV",
      "--width",
      "4",
      "--height",
      "3",
    ]);
    assertEquals(misfit.code, 2, misfit.stderr);
    assertIncludes(misfit.stderr, "offset 0 + frame 24 bytes (YUYV 4x3 with stride 8) = 24 > buffer size 17");
    const badFourcc = await rehearse([
      "map",
      "--image",
      path,
      "--fourcc",
      "MJPG",
      "--width",
      "4",
      "--height",
      "2",
    ]);
    assertEquals(badFourcc.code, 2);
    assertIncludes(badFourcc.stderr, 'Unknown fourcc "MJPG"');
    const badRange = await rehearse([
      "map",
      "--image",
      path,
      "--fourcc",
      "NV12",
      "--width",
      "4",
      "--height",
      "2",
      "--range",
      "tv",
    ]);
    assertEquals(badRange.code, 2);
    const help = await rehearse(["map", "--help"]);
    assertIncludes(help.stdout, "YU12/I420/YUV420/IYUV");
    assertIncludes(help.stdout, "--range");
  } finally {
    Deno.removeSync(path);
  }
});
