/**
 * Golden pixels for every format: hand-laid synthetic frames converted by frameToPng, decoded with pngjs (not
 * our encoder) and compared with RGB values computed from the exact BT.601 formula with Python's
 * `fractions.Fraction` (independently of convert.ts; the real value is given where rounding is close).
 */
import { assertEquals, assertThrows } from "../../assert.ts";
import { FrameError, frameFits, frameToPng, requestLayout } from "../../../commands/image/image.ts";
import { decodePng, pixelRows } from "./png_decode.ts";

/** Converts and decodes; the decoded rows as RGB (or RGBA) triples. */
function rows(
  bytes: number[] | Uint8Array,
  request: Parameters<typeof frameToPng>[1],
  alpha = false,
): number[][][] {
  const { png, layout } = frameToPng(Uint8Array.from(bytes), request);
  const decoded = decodePng(png);
  assertEquals([decoded.width, decoded.height], [layout.width, layout.height]);
  return pixelRows(decoded, alpha);
}

// The 4x2 picture every YUV format below encodes. Luma per pixel:
//   row 0: 16 235  65  81      row 1: 180 126 162 35
// chroma (shared by each 2x2 block, so 4:2:2 rows repeat it): left Cb=Cr=128, right Cb=100 Cr=212.
const Y = [[16, 235, 65, 81], [180, 126, 162, 35]] as const;

/** Limited: black, white, 75% grey, mid grey; reds. (65,100,212): 255/219*49 + 1.402*255/224*84 = 191.12 */
const LIMITED = [
  [[0, 0, 0], [255, 255, 255], [191, 0, 1], [210, 18, 19]],
  [[191, 191, 191], [128, 128, 128], [255, 113, 114], [156, 0, 0]],
];
/** Full range (JFIF): Y is the grey level; (65,100,212): 65 + 1.402*84 = 182.77. */
const FULL = [
  [[16, 16, 16], [235, 235, 235], [183, 15, 15], [199, 31, 31]],
  [[180, 180, 180], [126, 126, 126], [255, 112, 112], [153, 0, 0]],
];

const PACKED_422: Record<string, number[]> = {
  YUYV: [16, 128, 235, 128, 65, 100, 81, 212, 180, 128, 126, 128, 162, 100, 35, 212],
  UYVY: [128, 16, 128, 235, 100, 65, 212, 81, 128, 180, 128, 126, 100, 162, 212, 35],
};
const LUMA = [...Y[0], ...Y[1]];
const PLANAR_420: Record<string, number[]> = {
  NV12: [...LUMA, 128, 128, 100, 212],
  NV21: [...LUMA, 128, 128, 212, 100],
  YU12: [...LUMA, 128, 100, 128, 212],
};

for (const [fourcc, bytes] of Object.entries({ ...PACKED_422, ...PLANAR_420 })) {
  Deno.test(`frameToPng ${fourcc} 4x2: limited range by default, full range on request`, () => {
    assertEquals(rows(bytes, { fourcc, width: 4, height: 2 }), LIMITED);
    assertEquals(rows(bytes, { fourcc, width: 4, height: 2, range: "limited" }), LIMITED);
    assertEquals(rows(bytes, { fourcc, width: 4, height: 2, range: "full" }), FULL);
  });
}

Deno.test("frameToPng YUYV: the 75% colour bars, BT.601 limited range", () => {
  // Y'CbCr of the 75% bars (ITU-R BT.601 limited): white, yellow, cyan, green, magenta, red, blue, black.
  const bars = [
    [180, 128, 128],
    [162, 44, 142],
    [131, 156, 44],
    [112, 72, 58],
    [84, 184, 198],
    [65, 100, 212],
    [35, 212, 114],
    [16, 128, 128],
  ];
  const bytes = bars.flatMap(([y, cb, cr]) => [y!, cb!, y!, cr!]);
  // Exact values: white 190.96; yellow 192.34 191.53 0.55; cyan -0.16 191.22 190.39; green 0.06 190.63 -1.18;
  // magenta 190.90 0.33 192.14; red 191.12 -0.27 0.57; blue -0.22 0.60 191.57.
  const expected = [
    [191, 191, 191],
    [192, 192, 1],
    [0, 191, 190],
    [0, 191, 0],
    [191, 0, 192],
    [191, 0, 1],
    [0, 1, 192],
    [0, 0, 0],
  ].flatMap((rgb) => [rgb, rgb]);
  assertEquals(rows(bytes, { fourcc: "YUYV", width: 16, height: 1 }), [expected]);
});

Deno.test("frameToPng YUYV: 100% primaries and out-of-range codes clamp", () => {
  // 100% red, green, blue (BT.601 limited) and the codes below black / above white.
  const bytes = [81, 90, 81, 240, 145, 54, 145, 34, 41, 240, 41, 110, 0, 128, 255, 128];
  assertEquals(rows(bytes, { fourcc: "YUYV", width: 8, height: 1 }), [[
    [254, 0, 0], // 254.44, -0.48, -0.97
    [254, 0, 0],
    [0, 255, 1], // 0.18, 255.61, 0.93
    [0, 255, 1],
    [0, 0, 255], // 0.38, -0.13, 255.04
    [0, 0, 255],
    [0, 0, 0], // -18.63
    [255, 255, 255], // 278.29
  ]]);
});

Deno.test("frameToPng GREY: bytes as stored, stride padding skipped, --range ignored", () => {
  const bytes = [0, 16, 235, 0xee, 128, 255, 1, 0xee];
  const expected = [[[0, 0, 0], [16, 16, 16], [235, 235, 235]], [[128, 128, 128], [255, 255, 255], [
    1,
    1,
    1,
  ]]];
  assertEquals(rows(bytes, { fourcc: "Y800", width: 3, height: 2, stride: 4 }), expected);
  assertEquals(rows(bytes, { fourcc: "grey", width: 3, height: 2, stride: 4, range: "full" }), expected);
});

// Two pixels: pure red, and (10, 20, 30) with alpha 128 where the format has alpha.
const RGB_CASES: Record<string, { bytes: number[]; alpha: boolean }> = {
  RGB3: { bytes: [255, 0, 0, 10, 20, 30], alpha: false },
  BGR3: { bytes: [0, 0, 255, 30, 20, 10], alpha: false },
  XR24: { bytes: [0, 0, 255, 0x99, 30, 20, 10, 0x99], alpha: false },
  AR24: { bytes: [0, 0, 255, 255, 30, 20, 10, 128], alpha: true },
  XB24: { bytes: [255, 0, 0, 0x99, 10, 20, 30, 0x99], alpha: false },
  AB24: { bytes: [255, 0, 0, 255, 10, 20, 30, 128], alpha: true },
};

for (const [fourcc, { bytes, alpha }] of Object.entries(RGB_CASES)) {
  Deno.test(`frameToPng ${fourcc}: byte order${alpha ? ", alpha kept" : ", X byte ignored"}`, () => {
    const { png } = frameToPng(Uint8Array.from(bytes), { fourcc, width: 2, height: 1 });
    const decoded = decodePng(png);
    assertEquals(pixelRows(decoded, true), [[[255, 0, 0, 255], [10, 20, 30, alpha ? 128 : 255]]]);
  });
}

Deno.test("frameToPng: --stride padding and --offset are honoured (YUYV, NV12, YU12)", () => {
  const pad = 0xee;
  const yuyv = [...PACKED_422.YUYV!.slice(0, 8), pad, pad, pad, pad, ...PACKED_422.YUYV!.slice(8), pad, pad];
  // The last line's padding may be missing: the frame ends with its last pixel byte.
  assertEquals(
    rows([7, 7, 7, ...yuyv.slice(0, -2)], { fourcc: "YUYV", width: 4, height: 2, stride: 12, offset: 3 }),
    LIMITED,
  );
  // NV12 with stride 6: chroma plane starts at 6 * 2 and keeps the stride.
  const nv12 = [16, 235, 65, 81, pad, pad, 180, 126, 162, 35, pad, pad, 128, 128, 100, 212];
  assertEquals(rows(nv12, { fourcc: "NV12", width: 4, height: 2, stride: 6 }), LIMITED);
  // YU12 with stride 8: Cb at 16 with stride 4 (one line of 2 samples + 2 padding), Cr at 20.
  const yu12 = [
    16,
    235,
    65,
    81,
    pad,
    pad,
    pad,
    pad,
    180,
    126,
    162,
    35,
    pad,
    pad,
    pad,
    pad,
    128,
    100,
    pad,
    pad,
    128,
    212,
  ];
  assertEquals(rows(yu12, { fourcc: "I420", width: 4, height: 2, stride: 8 }), LIMITED);
});

Deno.test("frameToPng: odd widths and heights round chroma up (DRM's DIV_ROUND_UP)", () => {
  // YUYV width 3: two macropixels per line; pixel 2 is the first half of the second one.
  assertEquals(rows([16, 128, 235, 128, 81, 100, 0xee, 212], { fourcc: "YUYV", width: 3, height: 1 }), [[
    [0, 0, 0],
    [255, 255, 255],
    [210, 18, 19],
  ]]);
  // NV12 3x3: default stride 4 (whole chroma pairs), chroma 2x2 in 2 lines of stride 4.
  const expected = [
    [[0, 0, 0], [255, 255, 255], [210, 18, 19]],
    [[191, 191, 191], [128, 128, 128], [156, 0, 0]],
    [[79, 79, 0], [192, 192, 1], [108, 109, 255]],
  ];
  const luma = [16, 235, 81, 0, 180, 126, 35, 0, 65, 162, 128, 0];
  assertEquals(
    rows([...luma, 128, 128, 100, 212, 44, 142, 212, 114], { fourcc: "NV12", width: 3, height: 3 }),
    expected,
  );
  // YU12 3x3: chroma stride 2, Cb plane 2x2 then Cr plane 2x2.
  assertEquals(
    rows([...luma, 128, 100, 44, 212, 128, 212, 142, 114], { fourcc: "YU12", width: 3, height: 3 }),
    expected,
  );
  assertEquals(requestLayout({ fourcc: "YUYV", width: 3, height: 1 }).stride, 8);
  assertEquals(requestLayout({ fourcc: "NV12", width: 3, height: 3 }).bytes, 12 + 8);
});

Deno.test("frameFits names offset, frame bytes and buffer size", () => {
  const layout = requestLayout({ fourcc: "YUYV", width: 640, height: 360 });
  assertEquals(layout.bytes, 460800);
  assertEquals(frameFits(layout, { offset: 0, size: 460800 }), undefined);
  assertEquals(
    frameFits(layout, { offset: 4096, size: 460800 }),
    "Frame does not fit in the buffer: offset 4096 + frame 460800 bytes (YUYV 640x360 with stride 1280) " +
      "= 464896 > buffer size 460800",
  );
  assertThrows(
    () => frameToPng(new Uint8Array(100), { fourcc: "NV12", width: 10, height: 10 }),
    FrameError,
    "offset 0 + frame 150 bytes (NV12 10x10 with stride 10) = 150 > buffer size 100",
  );
});

Deno.test("frameToPng: unknown fourcc, bad sizes and strides are FrameErrors naming the value", () => {
  const bytes = new Uint8Array(64);
  assertThrows(
    () => frameToPng(bytes, { fourcc: "MJPG", width: 2, height: 2 }),
    FrameError,
    'Unknown fourcc "MJPG"',
  );
  assertThrows(() => frameToPng(bytes, { fourcc: "YUYV", width: 0, height: 2 }), FrameError, "width must be");
  assertThrows(
    () => frameToPng(bytes, { fourcc: "YUYV", width: 2, height: 1.5 }),
    FrameError,
    "height must be",
  );
  assertThrows(
    () => frameToPng(bytes, { fourcc: "YUYV", width: 4, height: 2, stride: 6 }),
    FrameError,
    "Stride 6 is too small for YUYV at width 4: a line needs 8 bytes",
  );
  assertThrows(
    () => frameToPng(bytes, { fourcc: "NV12", width: 3, height: 2, stride: 3 }),
    FrameError,
    "a chroma line needs 4 bytes",
  );
  assertThrows(
    () => frameToPng(bytes, { fourcc: "YU12", width: 4, height: 2, stride: 5 }),
    FrameError,
    "Stride 5 is odd",
  );
});
