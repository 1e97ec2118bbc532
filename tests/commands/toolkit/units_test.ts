import { assertEquals } from "../../assert.ts";
import { formatBytes } from "../../../commands/toolkit/units.ts";

Deno.test("formatBytes: binary units, at most one decimal, no trailing .0", () => {
  assertEquals(formatBytes(0), "0 B");
  assertEquals(formatBytes(1023), "1023 B");
  assertEquals(formatBytes(4096), "4 KiB");
  assertEquals(formatBytes(1536), "1.5 KiB");
  assertEquals(formatBytes(1024 * 1024 + 1), "1 MiB");
  assertEquals(formatBytes(-2048), "-2 KiB");
  assertEquals(formatBytes(1024 ** 5 * 3), "3072 TiB");
});
