import { assertEquals } from "../../assert.ts";
import { interruptedExitCode } from "../../../commands/toolkit/errors.ts";

Deno.test("interruptedExitCode: SIGINT 130 and SIGTERM 143 (128 + the signal's number), as shells report", () => {
  assertEquals(interruptedExitCode("SIGINT"), 130);
  assertEquals(interruptedExitCode("SIGTERM"), 143);
  assertEquals(interruptedExitCode(undefined), 130);
});
