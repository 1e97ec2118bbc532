import { assertEquals, assertIncludes, assertMatch, assertOk, assertThrows } from "../assert.ts";
import { makeContext } from "../../commands/toolkit/context.ts";
import { CliError, Exit, UsageError } from "../../commands/toolkit/errors.ts";
import type { Io } from "../../commands/toolkit/output.ts";
import { memfdCreate, readLink } from "../../ffi/fd.ts";
import { checkHandOff, handOff, readyLine } from "../../commands/hand_off.ts";
import { HOLD_FOREVER, parseHold } from "../../commands/toolkit/flags.ts";

const common = { json: false, verbose: false, color: "never" } as const;

function capture(): { io: Io; stdout: () => string } {
  let stdout = "";
  const io: Io = {
    stdout: { isTerminal: false, write: (text) => void (stdout += text) },
    stderr: { isTerminal: false, write: () => {} },
    env: (name) => Deno.env.get(name),
  };
  return { io, stdout: () => stdout };
}

function neverInterrupted(): AbortSignal {
  return new AbortController().signal;
}

Deno.test("parseHold: no value holds until a signal, a value is a duration", () => {
  assertEquals(parseHold(""), HOLD_FOREVER);
  assertEquals(parseHold("1.5s"), 1500);
  assertThrows(() => parseHold("soon"), UsageError);
});

Deno.test("checkHandOff: --exec needs a command, a command needs --exec, not with --hold", () => {
  checkHandOff({ exec: false }, []);
  checkHandOff({ exec: true }, ["true"]);
  checkHandOff({ exec: false, hold: 10 }, []);
  assertThrows(() => checkHandOff({ exec: true }, []), UsageError, "--exec needs a command");
  assertThrows(() => checkHandOff({ exec: false }, ["true"]), UsageError, "needs --exec");
  assertThrows(() => checkHandOff({ exec: true, hold: 10 }, ["true"]), UsageError, "cannot be combined");
});

Deno.test("--exec: the child sees the fds as 3, 4 (no other copies), DMABUF_FDS=3,4, and its status is ours", async () => {
  using first = memfdCreate("hand-off-a", 4096n);
  using second = memfdCreate("hand-off-b", 4096n);
  const report = await Deno.makeTempFile();
  const { io } = capture();
  const script = `ls /proc/self/fd > "$1"; readlink /proc/self/fd/3 /proc/self/fd/4 >> "$1"; ` +
    `echo "fds=$DMABUF_FDS" >> "$1"; exit 7`;
  try {
    const error = await handOff(makeContext(io, neverInterrupted), {
      flags: { ...common, exec: true },
      command: ["sh", "-c", script, "sh", report],
      fds: [first.fd, second.fd],
    }).then(() => null, (e) => e);
    assertOk(error instanceof Exit, String(error));
    assertEquals(error.exitCode, 7);
    const lines = (await Deno.readTextFile(report)).trim().split("\n");
    assertEquals(lines.slice(-3), ["/memfd:hand-off-a (deleted)", "/memfd:hand-off-b (deleted)", "fds=3,4"]);
    // sh's own fds aside, the originals (close-on-exec) are not in the child.
    const childFds = lines.slice(0, -3).map(Number);
    assertOk(!childFds.includes(first.fd) && !childFds.includes(second.fd), childFds.join(","));
  } finally {
    await Deno.remove(report);
  }
  // The parent still owns its fds.
  assertEquals(readLink(`/proc/self/fd/${first.fd}`), "/memfd:hand-off-a (deleted)");
});

Deno.test("--exec: a child killed by SIGTERM gives 128 + 15", async () => {
  const { io } = capture();
  const error = await handOff(makeContext(io, neverInterrupted), {
    flags: { ...common, exec: true },
    command: ["sh", "-c", "kill -TERM $$"],
    fds: [],
  }).then(() => null, (e) => e);
  assertOk(error instanceof Exit, String(error));
  assertEquals(error.exitCode, 143);
});

Deno.test("--exec: status 0 returns normally; a missing command is exit 127", async () => {
  const { io } = capture();
  const context = makeContext(io, neverInterrupted);
  await handOff(context, { flags: { ...common, exec: true }, command: ["true"], fds: [] });
  const error = await handOff(context, {
    flags: { ...common, exec: true },
    command: ["/nonexistent/dmabuf-test-command"],
    fds: [],
  }).then(() => null, (e) => e);
  assertOk(error instanceof CliError, String(error));
  assertEquals(error.exitCode, 127);
  assertIncludes(error.message, "command not found");
});

Deno.test("--hold: prints the ready line, waits for the duration, returns", async () => {
  const { io, stdout } = capture();
  const started = performance.now();
  await handOff(makeContext(io, neverInterrupted), {
    flags: { ...common, exec: false, hold: 50 },
    command: [],
    fds: [3, 4],
  });
  assertOk(performance.now() - started >= 45);
  assertEquals(stdout(), `${readyLine(Deno.pid, [3, 4])}\n`);
  assertMatch(stdout(), /^ready pid=\d+ fds=3,4\n$/);
});

Deno.test("--hold --json: one document with pid, fds and the ready fields; a signal ends the hold", async () => {
  const { io, stdout } = capture();
  const controller = new AbortController();
  const holding = handOff(makeContext(io, () => controller.signal), {
    flags: { ...common, json: true, exec: false, hold: HOLD_FOREVER },
    command: [],
    fds: [5],
    ready: { buffers: [{ fd: 5 }] },
  });
  controller.abort("SIGTERM");
  await holding;
  assertEquals(JSON.parse(stdout()), { pid: Deno.pid, fds: [5], buffers: [{ fd: 5 }] });
});
