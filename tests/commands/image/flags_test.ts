import { assertEquals, assertOk } from "../../assert.ts";
import { parseDimension, parseFourcc } from "../../../commands/image/flags.ts";
import { UsageError } from "../../../commands/toolkit/errors.ts";
import { assertThrows } from "../../assert.ts";
import { fileURLToPath } from "node:url";

Deno.test("flags.ts loads no PNG encoder or conversion body, so the map route can import it for --help", async () => {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", fileURLToPath(new URL("../../../commands/image/flags.ts", import.meta.url))],
    stdout: "piped",
    stderr: "null",
  }).output();
  assertOk(success);
  const graph: { modules: { specifier: string }[] } = JSON.parse(new TextDecoder().decode(stdout));
  const specifiers = graph.modules.map((m) => m.specifier);
  // tests/cli/layers_test.ts checks that it loads no ffi/ module either.
  assertEquals(specifiers.filter((s) => /fast-png|fflate|\/image\/(png|image|map_image)\.ts$/.test(s)), []);
});

Deno.test("parseDimension and parseFourcc: usage errors naming the value", () => {
  assertEquals(parseDimension("640"), 640);
  assertThrows(() => parseDimension("0"), UsageError, 'Invalid size "0"');
  assertThrows(() => parseDimension("12px"), UsageError, 'Invalid size "12px"');
  assertEquals(parseFourcc("yuy2"), "YUYV");
  assertThrows(() => parseFourcc("MJPG"), UsageError, 'Unknown fourcc "MJPG": expected one of YUYV, UYVY');
});
