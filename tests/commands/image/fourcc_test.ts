import { assertEquals } from "../../assert.ts";
import {
  defaultStride,
  findFormat,
  formatHelpLines,
  frameLayout,
  PIXEL_FORMATS,
} from "../../../commands/image/fourcc.ts";
import { yuvToRgb } from "../../../commands/image/convert.ts";

Deno.test("findFormat: V4L2 and DRM spellings, any case, map to one canonical fourcc", () => {
  const spellings: Record<string, string[]> = {
    YUYV: ["YUYV", "yuy2", "YUY2"],
    UYVY: ["uyvy"],
    NV12: ["nv12"],
    NV21: ["NV21"],
    YU12: ["YU12", "i420", "YUV420", "iyuv"],
    GREY: ["GREY", "y8", "Y800", "gray8"],
    RGB3: ["RGB3", "rgb24", "BG24", "BGR888"],
    BGR3: ["BGR3", "bgr24", "RG24", "RGB888"],
    XR24: ["XR24", "xrgb8888"],
    AR24: ["AR24", "ARGB8888"],
    XB24: ["xb24", "XBGR8888"],
    AB24: ["AB24", "abgr8888"],
  };
  for (const [fourcc, names] of Object.entries(spellings)) {
    for (const name of names) assertEquals(findFormat(name).fourcc, fourcc, name);
  }
  assertEquals(PIXEL_FORMATS.map((f) => f.fourcc).sort(), Object.keys(spellings).sort());
});

Deno.test("formatHelpLines lists every format with its spellings", () => {
  const lines = formatHelpLines();
  assertEquals(lines.length, PIXEL_FORMATS.length);
  assertEquals(lines[0], "  YUYV/YUY2                packed YUV 4:2:2, bytes Y0 Cb Y1 Cr");
  assertEquals(lines.some((line) => line.includes("YU12/I420/YUV420/IYUV")), true);
});

Deno.test("defaultStride and frame bytes per format at 640x360", () => {
  const expected: Record<string, [number, number]> = {
    YUYV: [1280, 1280 * 360],
    UYVY: [1280, 1280 * 360],
    NV12: [640, 640 * 360 * 3 / 2],
    NV21: [640, 640 * 360 * 3 / 2],
    YU12: [640, 640 * 360 * 3 / 2],
    GREY: [640, 640 * 360],
    RGB3: [1920, 1920 * 360],
    BGR3: [1920, 1920 * 360],
    XR24: [2560, 2560 * 360],
    AR24: [2560, 2560 * 360],
    XB24: [2560, 2560 * 360],
    AB24: [2560, 2560 * 360],
  };
  for (const format of PIXEL_FORMATS) {
    const layout = frameLayout(format, { width: 640, height: 360 });
    assertEquals([defaultStride(format, 640), layout.bytes], expected[format.fourcc], format.fourcc);
  }
});

Deno.test("frameLayout: plane offsets and strides of the 4:2:0 formats", () => {
  const nv12 = frameLayout(findFormat("NV12"), { width: 640, height: 360, stride: 768 });
  assertEquals(nv12.planes.map((p) => [p.offset, p.stride, p.lines, p.lineBytes]), [
    [0, 768, 360, 640],
    [768 * 360, 768, 180, 640],
  ]);
  const yu12 = frameLayout(findFormat("YU12"), { width: 640, height: 360 });
  assertEquals(yu12.planes.map((p) => [p.offset, p.stride, p.lines, p.lineBytes]), [
    [0, 640, 360, 640],
    [230400, 320, 180, 320],
    [230400 + 57600, 320, 180, 320],
  ]);
});

Deno.test("yuvToRgb: the integer formula is the correctly rounded BT.601 value (sampled)", () => {
  // Floating-point reference of the same formula; values within 1e-6 of a .5 tie are not compared.
  for (const range of ["limited", "full"] as const) {
    const [ys, cs, yo] = range === "limited" ? [255 / 219, 255 / 224, 16] : [1, 1, 0];
    for (let y = 0; y < 256; y++) {
      for (let cb = 0; cb < 256; cb += 5) {
        for (let cr = 0; cr < 256; cr += 3) {
          const e = ys * (y - yo), db = cs * (cb - 128), dr = cs * (cr - 128);
          const real = [
            e + 1.402 * dr,
            e - (1.772 * 0.114 / 0.587) * db - (1.402 * 0.299 / 0.587) * dr,
            e + 1.772 * db,
          ];
          const got = yuvToRgb(y, cb, cr, range);
          real.forEach((v, i) => {
            if (Math.abs(v - Math.floor(v) - 0.5) < 1e-6) return;
            const want = Math.min(255, Math.max(0, Math.round(v)));
            if (got[i] !== want) {
              throw new Error(`${range} ${y},${cb},${cr} channel ${i}: ${got[i]} != ${want} (${v})`);
            }
          });
        }
      }
    }
  }
});
