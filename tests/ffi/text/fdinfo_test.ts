import { assertEquals } from "../../assert.ts";
import { isDmaBufFdinfo, parseFdinfo } from "../../../ffi/text/fdinfo.ts";
import { parseMeminfo } from "../../../ffi/text/meminfo.ts";

Deno.test("fdinfo of a named dma-buf (6.1 dma_buf_show_fdinfo)", () => {
  const text =
    "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t42\nsize:\t1048576\ncount:\t1\nexp_name:\tsystem\nname:\tsmoke-test\n";
  const info = parseFdinfo(text);
  assertEquals(info, {
    pos: 0,
    flags: 0o2000002,
    mntId: 15,
    ino: 42,
    size: 1048576,
    count: 1,
    expName: "system",
    name: "smoke-test",
  });
  assertEquals(isDmaBufFdinfo(info), true);
});

Deno.test("fdinfo of an unnamed dma-buf on 5.10 (no ino line) and exporter with a comma", () => {
  const info = parseFdinfo("pos:\t0\nflags:\t02\nmnt_id:\t9\nsize:\t4096\ncount:\t3\nexp_name:\tlinux,cma\n");
  assertEquals(info.ino, null);
  assertEquals(info.name, null);
  assertEquals(info.expName, "linux,cma");
  assertEquals(info.count, 3);
});

Deno.test("fdinfo names keep spaces, tabs and colons, and an empty name stays empty", () => {
  assertEquals(parseFdinfo("exp_name:\tsystem\nname:\tcam 0:\tpreview\n").name, "cam 0:\tpreview");
  assertEquals(parseFdinfo("exp_name:\tsystem\nname:\t\n").name, "");
});

Deno.test("fdinfo of a memfd is not a dma-buf", () => {
  assertEquals(isDmaBufFdinfo(parseFdinfo("pos:\t0\nflags:\t02\nmnt_id:\t1\nino:\t7\n")), false);
});

Deno.test("meminfo fields in bytes, CMA lines included", () => {
  const fields = parseMeminfo(
    "MemTotal:        2000000 kB\nMemAvailable:    1000 kB\nCmaTotal:          65536 kB\nCmaFree:           65000 kB\nHugePages_Total:       0\n",
  );
  assertEquals(fields.get("CmaTotal"), 65536 * 1024);
  assertEquals(fields.get("CmaFree"), 65000 * 1024);
  assertEquals(fields.get("MemAvailable"), 1000 * 1024);
  assertEquals(fields.get("HugePages_Total"), 0);
});
