import { assertEquals } from "../assert.ts";
import { pageAlign, pageSize } from "../../ffi/page_size.ts";

Deno.test("pageSize: the kernel's page size, as getconf PAGESIZE reports it", async () => {
  const { stdout } = await new Deno.Command("getconf", { args: ["PAGESIZE"], stdout: "piped" }).output();
  assertEquals(pageSize(), Number(new TextDecoder().decode(stdout).trim()));
});

Deno.test("pageAlign: rounds up to whole pages of the given size (4 KiB, 16 KiB and 64 KiB kernels)", () => {
  assertEquals(pageAlign(1, 4096), 4096);
  assertEquals(pageAlign(4096, 4096), 4096);
  assertEquals(pageAlign(4097, 4096), 8192);
  assertEquals(pageAlign(4096, 16384), 16384);
  assertEquals(pageAlign(16385, 16384), 32768);
  assertEquals(pageAlign(1024 * 1024, 16384), 1024 * 1024);
  assertEquals(pageAlign(4096, 65536), 65536);
  assertEquals(pageAlign(4096), pageAlign(4096, pageSize()));
});
