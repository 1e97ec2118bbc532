import { assertEquals, assertThrows } from "../assert.ts";
import { UsageError } from "../../commands/toolkit/errors.ts";
import { type SyncFlags, syncRequest } from "../../commands/sync.ts";
import { runCli } from "../run_cli.ts";

const none: SyncFlags = {
  json: false,
  verbose: false,
  color: "never",
  start: false,
  end: false,
  bracket: false,
  read: false,
  write: false,
  rw: false,
};

Deno.test("syncRequest: exactly one phase and one direction", () => {
  assertEquals(syncRequest({ ...none, start: true, read: true }), { phase: "start", access: "read" });
  assertEquals(syncRequest({ ...none, bracket: true, rw: true }), { phase: "bracket", access: "rw" });
  assertThrows(
    () => syncRequest({ ...none, read: true }),
    UsageError,
    "Choose one of --start, --end, --bracket",
  );
  assertThrows(
    () => syncRequest({ ...none, start: true, end: true, read: true }),
    UsageError,
    "got --start, --end",
  );
  assertThrows(() => syncRequest({ ...none, end: true }), UsageError, "Choose one of --read, --write, --rw");
  assertThrows(
    () => syncRequest({ ...none, end: true, read: true, rw: true }),
    UsageError,
    "got --read, --rw",
  );
});

Deno.test("dmabuf sync: invalid combinations exit 2 with one line", async () => {
  for (
    const args of [
      ["sync", "--fd", "3", "--read"],
      ["sync", "--fd", "3", "--start", "--bracket", "--write"],
      ["sync", "--fd", "3", "--end"],
      ["sync", "--start", "--read"],
    ]
  ) {
    const { code, stderr } = await runCli(args);
    assertEquals(code, 2, `${args.join(" ")}: ${stderr}`);
    assertEquals(stderr.split("\n").length, 2, stderr);
  }
});
