import assert from "node:assert/strict";
import { jobScript, parseDuration, parseOptions, parseUser, shellQuote, VmError } from "./run.ts";

Deno.test("parseOptions takes options before -- and the command after it, verbatim", () => {
  const options = parseOptions([
    "--require-hw",
    "--timeout",
    "90s",
    "--",
    "sh",
    "-c",
    "echo 'a b'",
    "--user",
  ]);
  assert.equal(options.requireHw, true);
  assert.equal(options.timeoutMs, 90_000);
  assert.deepEqual(options.command, ["sh", "-c", "echo 'a b'", "--user"]);
});

Deno.test("parseOptions: the command may start at the first non-option", () => {
  assert.deepEqual(parseOptions(["--append=loglevel=7 foo", "true"]).command, ["true"]);
  assert.equal(parseOptions(["--append=loglevel=7 foo", "true"]).append, "loglevel=7 foo");
});

Deno.test("parseOptions --user: bare means 65534:65534, GID defaults to UID", () => {
  assert.equal(parseOptions(["--user", "--", "id"]).user, "65534:65534");
  assert.equal(parseOptions(["--user", "1000", "--", "id"]).user, "1000:1000");
  assert.equal(parseOptions(["--user=1000:5", "id"]).user, "1000:5");
  assert.equal(parseOptions(["--", "id"]).user, undefined);
});

Deno.test("parseOptions rejects unknown options and bad values with usage errors (exit 2)", () => {
  for (
    const args of [["--bogus"], ["--timeout", "soon"], ["--memory", "lots"], ["--accel", "xen"], ["--append"]]
  ) {
    assert.throws(() => parseOptions(args), (error) => error instanceof VmError && error.exitCode === 2);
  }
});

Deno.test("parseDuration accepts ms, s, m, h and bare seconds", () => {
  assert.deepEqual(["500ms", "90s", "20m", "1h", "3"].map(parseDuration), [
    500,
    90_000,
    1_200_000,
    3_600_000,
    3000,
  ]);
});

Deno.test("parseUser rejects names", () => {
  assert.throws(() => parseUser("nobody"), VmError);
});

Deno.test("shellQuote round-trips arbitrary arguments through sh", async () => {
  const args = ["a b", "it's", "", "$HOME", "`x`", "line\nbreak", "\\", '"', "*"];
  const script = `set -- ${args.map(shellQuote).join(" ")}; printf '%s\\0' "$@"`;
  const { stdout } = await new Deno.Command("sh", { args: ["-c", script] }).output();
  assert.deepEqual(new TextDecoder().decode(stdout).split("\0").slice(0, -1), args);
});

Deno.test("jobScript sets the checkout, user, require-hw flag, selftests and the command", () => {
  const options = {
    ...parseOptions(["--user", "--require-hw", "--", "echo", "hi there"]),
    selftests: "/c/s",
  };
  assert.equal(
    jobScript("/src/dma buf", options),
    [
      "DMABUF_VM_CHECKOUT='/src/dma buf'",
      "DMABUF_VM_SELFTESTS='/c/s'",
      "DMABUF_VM_USER='65534:65534'",
      "DMABUF_VM_REQUIRE_HW=1",
      "set -- 'echo' 'hi there'",
      "",
    ].join("\n"),
  );
});
