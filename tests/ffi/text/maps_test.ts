import assert from "node:assert/strict";
import { parseDmaBufMaps, parseMapsLine } from "../../../ffi/text/maps.ts";
import { bufinfoPath, findDebugfs, parseMounts } from "../../../ffi/text/mounts.ts";

const MAPS = [
  "55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1311090                    /usr/bin/deno",
  "7f1c2a000000-7f1c2a100000 rw-s 00000000 00:0d 5                          /dmabuf:",
  "7f1c2b000000-7f1c2b001000 r--s 00001000 00:0d 4                          /dmabuf:stat test",
  "7f1c2c000000-7f1c2c021000 rw-p 00000000 00:00 0 ",
  "6fd53eb000-6fd53ec000 rw-s 00000000 00:09 168                            /dmabuf:system",
  "7ffd5c9e1000-7ffd5ca02000 rw-p 00000000 00:00 0                          [stack]",
].join("\n");

Deno.test("parseDmaBufMaps finds /dmabuf: mappings with inode, VMA size and name", () => {
  assert.deepEqual(parseDmaBufMaps(MAPS), [
    {
      start: 0x7f1c2a000000,
      end: 0x7f1c2a100000,
      vmaSize: 0x100000,
      perms: "rw-s",
      offset: 0,
      inode: 5,
      name: null,
    },
    {
      start: 0x7f1c2b000000,
      end: 0x7f1c2b001000,
      vmaSize: 4096,
      perms: "r--s",
      offset: 4096,
      inode: 4,
      name: "stat test",
    },
    {
      start: 0x6fd53eb000,
      end: 0x6fd53ec000,
      vmaSize: 4096,
      perms: "rw-s",
      offset: 0,
      inode: 168,
      name: "system",
    },
  ]);
});

Deno.test("parseMapsLine ignores other files, anonymous memory and a /dmabuf: text inside another path", () => {
  assert.equal(parseMapsLine("7f00-8f00 r--p 00000000 08:01 12 /home/u/dmabuf:notes"), null);
  assert.equal(parseMapsLine("7f00-8f00 rw-p 00000000 00:00 0"), null);
  assert.equal(parseMapsLine("garbage /dmabuf:"), null);
  assert.equal(parseMapsLine(""), null);
});

const MOUNTS = [
  "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0",
  "tracefs /sys/kernel/tracing tracefs rw,relatime 0 0",
  "none /mnt/debug\\040fs debugfs rw,relatime 0 0",
  "debugfs /sys/kernel/debug debugfs rw,relatime 0 0",
].join("\n");

Deno.test("findDebugfs prefers /sys/kernel/debug and decodes octal escapes elsewhere", () => {
  assert.equal(findDebugfs(MOUNTS), "/sys/kernel/debug");
  assert.equal(findDebugfs(MOUNTS.split("\n").slice(0, 3).join("\n")), "/mnt/debug fs");
  assert.equal(findDebugfs("proc /proc proc rw 0 0\n"), null);
  assert.equal(parseMounts("short line\n").length, 0);
});

Deno.test("bufinfoPath: under the debugfs mount; the usual place when mounts are unreadable; null when unmounted", () => {
  assert.equal(bufinfoPath(MOUNTS), "/sys/kernel/debug/dma_buf/bufinfo");
  assert.equal(bufinfoPath(MOUNTS.split("\n").slice(0, 3).join("\n")), "/mnt/debug fs/dma_buf/bufinfo");
  // Without /proc nothing says where debugfs is: try the usual place, whose read then tells.
  assert.equal(bufinfoPath(null), "/sys/kernel/debug/dma_buf/bufinfo");
  // Mounts read, and no debugfs among them: it is not mounted.
  assert.equal(bufinfoPath("proc /proc proc rw 0 0\n"), null);
});
