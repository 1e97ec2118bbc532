import { assertEquals, assertThrows } from "../../assert.ts";
import { parseRecords, RecordError } from "../../../ffi/bpf/dmabuf_record.ts";

const MAGIC = 0x62616d64;

/** A buffer record as the program writes it (v1, 208 bytes), built from the documented offsets. */
function bufferRecord(fields: {
  inode: number;
  size: number;
  fileRef?: bigint;
  flags?: number;
  mode?: number;
  exporter: string;
  name: string | null | "fault";
}): Uint8Array {
  const bytes = new Uint8Array(208);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint8(4, 1);
  v.setUint8(5, 1);
  v.setUint16(6, 208, true);
  v.setBigUint64(8, BigInt(fields.inode), true);
  v.setBigUint64(16, BigInt(fields.size), true);
  v.setBigUint64(24, fields.fileRef ?? 1n, true);
  v.setUint32(32, fields.flags ?? 2, true);
  v.setUint32(36, fields.mode ?? 0x1f, true);
  const exporter = new TextEncoder().encode(fields.exporter);
  v.setInt32(40, exporter.length + 1, true);
  bytes.set(exporter, 48);
  if (fields.name === "fault") v.setInt32(44, -14, true); // -EFAULT
  else if (fields.name !== null) {
    const name = new TextEncoder().encode(fields.name);
    v.setInt32(44, name.length + 1, true);
    bytes.set(name, 176);
  }
  return bytes;
}

/** An attachment record (v1, 80 bytes). */
function attachmentRecord(name: string, status = 0): Uint8Array {
  const bytes = new Uint8Array(80);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint8(4, 1);
  v.setUint8(5, 2);
  v.setUint16(6, 80, true);
  const encoded = new TextEncoder().encode(name);
  v.setInt32(8, status === 0 ? encoded.length + 1 : 0, true);
  v.setUint32(12, status, true);
  bytes.set(encoded, 16);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("parseRecords: buffers with their attachments, names, an unnamed and an unreadable name", () => {
  const stream = concat(
    bufferRecord({ inode: 7, size: 8192, fileRef: 3n, exporter: "system", name: "camera preview" }),
    attachmentRecord("vgem"),
    attachmentRecord("vivid.0"),
    bufferRecord({ inode: 2 ** 40, size: 4096, exporter: "udmabuf", name: null }),
    bufferRecord({ inode: 9, size: 65536, exporter: "reserved", name: "fault" }),
    attachmentRecord("", 1),
  );
  const buffers = parseRecords(stream);
  assertEquals(buffers.map((b) => [b.inode, b.size, b.fileRef, b.exporter, b.name, b.nameUnreadable]), [
    [7, 8192, 3n, "system", "camera preview", false],
    [2 ** 40, 4096, 1n, "udmabuf", null, false],
    [9, 65536, 1n, "reserved", null, true],
  ]);
  assertEquals(buffers.map((b) => [b.attachments, b.attachmentsComplete]), [
    [["vgem", "vivid.0"], true],
    [[], true],
    [[], false],
  ]);
  assertEquals([buffers[0]!.flags, buffers[0]!.mode], [2, 0x1f]);
  assertEquals(parseRecords(new Uint8Array(0)), []);
  // A name of exactly 31 bytes fills the field with its NUL.
  assertEquals(
    parseRecords(bufferRecord({ inode: 1, size: 1, exporter: "x", name: "n".repeat(31) }))[0]!.name,
    "n".repeat(31),
  );
});

Deno.test("parseRecords: bad magic, version, kind, length, cut-off records and oversized strings are errors", () => {
  const good = bufferRecord({ inode: 1, size: 4096, exporter: "system", name: null });
  const edit = (change: (v: DataView) => void, bytes = good) => {
    const copy = bytes.slice();
    change(new DataView(copy.buffer));
    return copy;
  };
  const cases: [Uint8Array, string][] = [
    [good.subarray(0, 5), "record at byte 0: 5 bytes left, a header is 8"],
    [edit((v) => v.setUint32(0, 0x11223344, true)), "magic 0x11223344"],
    [edit((v) => v.setUint8(4, 2)), "layout version 2, this dmabuf reads 1"],
    [edit((v) => v.setUint8(5, 9)), "unknown kind 9"],
    [edit((v) => v.setUint16(6, 200, true)), "kind 1 is 208 bytes, the header says 200"],
    [good.subarray(0, 100), "record at byte 0: 208 bytes, only 100 left"],
    [edit((v) => v.setInt32(40, 129, true)), "string length 129 exceeds its 128-byte field"],
    [edit((v) => v.setInt32(44, 33, true)), "string length 33 exceeds its 32-byte field"],
    [attachmentRecord("vgem"), "record at byte 0: an attachment before any buffer"],
    [
      concat(good, edit((v) => v.setUint32(12, 7, true), attachmentRecord("x"))),
      "record at byte 208: unknown attachment status 7",
    ],
    [concat(good, good.subarray(0, 8)), "record at byte 208: 208 bytes, only 8 left"],
  ];
  for (const [bytes, message] of cases) assertThrows(() => parseRecords(bytes), RecordError, message);
});
