/** doctor's kernel readers on synthetic input: POSIX ACL bytes, BTF strings, CMA bitmaps and directories, config.gz. */
import { assertEquals, assertThrows } from "../assert.ts";
import { formatAclEntry, parsePosixAcl } from "../../ffi/acl.ts";
import { btfStrings, hasBtfString } from "../../ffi/btf.ts";
import { largestClearRun, parseU32Array, readCmaAreas } from "../../ffi/cma.ts";
import { readKernelConfig } from "../../ffi/kernel_config.ts";
import { probeBpfDmabufIter } from "../../commands/doctor/bpf_probe.ts";

Deno.test("parsePosixAcl: the bytes setfacl -m u:65534:rw wrote, as getfacl shows them", () => {
  // os.getxattr(path, "system.posix_acl_access") after `setfacl -m u:65534:rw` on a 0600 file.
  const bytes = Uint8Array.fromHex(
    "0200000001000600ffffffff02000600feff000004000000ffffffff10000600ffffffff20000000ffffffff",
  );
  assertEquals(parsePosixAcl(bytes).map(formatAclEntry), [
    "user::rw-",
    "user:65534:rw-",
    "group::---",
    "mask::rw-",
    "other::---",
  ]);
  assertThrows(() => parsePosixAcl(Uint8Array.of(1, 0, 0, 0)), RangeError, "version 1");
  assertThrows(() => parsePosixAcl(Uint8Array.of(2, 0, 0, 0, 1)), RangeError, "whole entries");
});

/** A little-endian BTF blob with the given strings and no types. */
function btf(strings: string[]): Uint8Array {
  const text = new TextEncoder().encode(`\0${strings.join("\0")}\0`);
  const bytes = new Uint8Array(24 + text.length);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 0xeb9f, true);
  view.setUint8(2, 1);
  view.setUint32(4, 24, true);
  view.setUint32(16, 0, true);
  view.setUint32(20, text.length, true);
  bytes.set(text, 24);
  return bytes;
}

Deno.test("btfStrings/hasBtfString: whole names only, from the string section", () => {
  const strings = btfStrings(btf(["bpf_iter_dmabuf_new", "dma_buf", "bpf_iter_dmabuf"]));
  assertEquals(hasBtfString(strings, "bpf_iter_dmabuf"), true);
  assertEquals(
    hasBtfString(btfStrings(btf(["bpf_iter_dmabuf_new", "x_bpf_iter_dmabuf"])), "bpf_iter_dmabuf"),
    false,
  );
  assertThrows(() => btfStrings(new Uint8Array(24)), RangeError, "Not BTF");
});

Deno.test("probeBpfDmabufIter: present, absent, and no BTF file at all", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeFileSync(`${dir}/with`, btf(["bpf_iter_dmabuf"]));
    Deno.writeFileSync(`${dir}/without`, btf(["bpf_iter_task"]));
    assertEquals(probeBpfDmabufIter(`${dir}/with`).present, true);
    assertEquals(probeBpfDmabufIter(`${dir}/without`).present, false);
    const none = probeBpfDmabufIter(`${dir}/none`);
    assertEquals(none.present, false);
    assertEquals(
      none.reason,
      `no ${dir}/none: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF), which the iterator needs`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("largestClearRun: bit 32w+i of word w; only the first `bits` bits count", () => {
  assertEquals(largestClearRun([0], 64), 64);
  assertEquals(largestClearRun([0b1010_1010], 8), 1);
  // Alternating 1 MiB (256-page) buffers: bits 0-255 set, 256-511 clear, ...
  const words = Array.from({ length: 64 }, (_, w) => (Math.floor(w / 8) % 2 === 0 ? 0xffffffff : 0));
  assertEquals(largestClearRun(words, 2048), 256);
  assertEquals(largestClearRun([0xffffffff, 0], 40), 8);
  assertEquals(parseU32Array("4294967295 15 0\n"), [4294967295, 15, 0]);
});

Deno.test("readCmaAreas: sysfs and debugfs (5.10's cma-<name> and 6.x's <name>), maxchunk from the bitmap", () => {
  const root = Deno.makeTempDirSync();
  try {
    const write = (path: string, text: string) => {
      Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      Deno.writeTextFileSync(path, text);
    };
    write(`${root}/sys/reserved/alloc_pages_success`, "512\n");
    write(`${root}/sys/reserved/alloc_pages_fail`, "3\n");
    write(`${root}/debug/cma/reserved/count`, "16384\n");
    write(`${root}/debug/cma/reserved/used`, "512\n");
    write(`${root}/debug/cma/reserved/maxchunk`, "15872\n");
    write(`${root}/debug/cma/reserved/order_per_bit`, "0\n");
    write(`${root}/debug/cma/cma-linux,cma/count`, "64\n");
    write(`${root}/debug/cma/cma-linux,cma/used`, "32\n");
    write(`${root}/debug/cma/cma-linux,cma/order_per_bit`, "1\n");
    write(`${root}/debug/cma/cma-linux,cma/bitmap`, "13\n"); // 0b1101: bits 1 clear of 32 → runs 1, 28
    const found = readCmaAreas({ sysfsDir: `${root}/sys`, debugfs: `${root}/debug` });
    assertEquals(found.sysfsError, null);
    assertEquals(found.debugfsError, null);
    assertEquals(found.areas.map((a) => a.name), ["linux,cma", "reserved"]);
    const [dt, reserved] = found.areas;
    assertEquals(reserved!.sysfs!.allocPagesFail, 3);
    assertEquals(reserved!.sysfs!.totalPages, null);
    assertEquals([reserved!.debugfs!.count, reserved!.debugfs!.maxchunk, reserved!.debugfs!.maxchunkFrom], [
      16384,
      15872,
      "maxchunk",
    ]);
    assertEquals(dt!.sysfs, null);
    assertEquals([dt!.debugfs!.maxchunk, dt!.debugfs!.maxchunkFrom], [56, "bitmap"]);
    assertEquals(readCmaAreas({ sysfsDir: `${root}/none`, debugfs: null }), {
      areas: [],
      sysfsError: "ENOENT",
      debugfsError: "debugfs not mounted",
    });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("readKernelConfig: /proc/config.gz first, then /boot/config-<release>, naming what failed", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const gz = new Uint8Array(
      await new Response(
        new Blob(["CONFIG_UDMABUF=y\n# CONFIG_SW_SYNC is not set\n"]).stream().pipeThrough(
          new CompressionStream("gzip"),
        ),
      ).arrayBuffer(),
    );
    Deno.writeFileSync(`${dir}/config.gz`, gz);
    Deno.writeTextFileSync(`${dir}/config-boot`, "CONFIG_UDMABUF=m\n");
    const fromProc = await readKernelConfig({
      procConfig: `${dir}/config.gz`,
      bootConfig: `${dir}/config-boot`,
    });
    assertEquals([fromProc.config!.path, [...fromProc.config!.options]], [`${dir}/config.gz`, [
      ["CONFIG_UDMABUF", "y"],
      ["CONFIG_SW_SYNC", "n"],
    ]]);
    const fromBoot = await readKernelConfig({
      procConfig: `${dir}/none.gz`,
      bootConfig: `${dir}/config-boot`,
    });
    assertEquals(fromBoot.config!.options.get("CONFIG_UDMABUF"), "m");
    assertEquals(fromBoot.tried, [{ path: `${dir}/none.gz`, error: "ENOENT" }]);
    const corrupt = await readKernelConfig({ procConfig: `${dir}/config-boot`, bootConfig: `${dir}/none` });
    assertEquals(corrupt.config, null);
    assertEquals(corrupt.tried.map((t) => t.path), [`${dir}/config-boot`, `${dir}/none`]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
