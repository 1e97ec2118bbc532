/**
 * `dmabuf map --image` through the real command on a real dma-buf: a heap buffer filled with a known
 * pattern, written as a GREY PNG inside the SYNC READ bracket; the decoded pixels (pngjs, not our encoder)
 * equal the bytes `map --read --out` copies from the same buffer.
 * @module
 */
import assert from "node:assert/strict";
import { CLI_PATH, spawnCli } from "../run_cli.ts";
import { hwTest, needs } from "./hw.ts";
import { decodePng } from "../commands/image/png_decode.ts";

const WIDTH = 64;
const HEIGHT = 32;

hwTest({
  name:
    "map --image writes the frame a decoder reads back byte for byte; --json reports it; a misfit exits 2",
  needs: [needs.systemHeap],
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "dmabuf-image-" });
    try {
      const png = `${dir}/frame.png`;
      const raw = `${dir}/frame.raw`;
      const image = ["--image", png, "--fourcc", "Y8", "--width", `${WIDTH}`, "--height", `${HEIGHT}`];
      const script = `"$0" map --fd 3 --offset 100 ${image.join(" ")} --json && ` +
        `"$0" map --fd 3 --offset 100 --length ${WIDTH * HEIGHT} --out ${raw}`;
      const run = await spawnCli([
        "alloc",
        "--size",
        "16K",
        "--fill",
        "random:7",
        "--exec",
        "--",
        "sh",
        "-c",
        script,
        CLI_PATH,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), {
        path: png,
        width: WIDTH,
        height: HEIGHT,
        stride: WIDTH,
        fourcc: "GREY",
        offset: 100,
        bytesRead: WIDTH * HEIGHT,
        range: "limited",
        size: 16384,
      });
      const decoded = decodePng(await Deno.readFile(png));
      const bytes = await Deno.readFile(raw);
      assert.equal(bytes.length, WIDTH * HEIGHT);
      assert.deepEqual([decoded.width, decoded.height], [WIDTH, HEIGHT]);
      const grey = decoded.rgba.filter((_, i) => i % 4 === 0);
      assert.deepEqual(grey, bytes);
      assert.ok(new Set(bytes).size > 100, "random:7 gives many different bytes");

      const misfit = await spawnCli([
        "alloc",
        "--size",
        "4K",
        "--exec",
        "--",
        CLI_PATH,
        "map",
        "--fd",
        "3",
        ...image.slice(0, -1),
        "128",
      ]);
      assert.equal(misfit.code, 2, misfit.stderr);
      assert.equal(
        misfit.stderr,
        "dmabuf: Frame does not fit in the buffer: offset 0 + frame 8192 bytes (GREY 64x128 with stride 64) = " +
          "8192 > buffer size 4096\n",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
