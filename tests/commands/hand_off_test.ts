import { assertEquals, assertIncludes, assertMatch, assertOk, assertThrows } from "../assert.ts";
import { makeContext } from "../../commands/toolkit/context.ts";
import { CliError, Exit, UsageError } from "../../commands/toolkit/errors.ts";
import { captureIo, type RunningProcess, startProcess } from "../run_cli.ts";
import { memfdCreate, readLink } from "../../ffi/fd.ts";
import { checkHandOff, handOff, readyLine } from "../../commands/hand_off.ts";
import { HOLD_FOREVER, parseHold } from "../../commands/toolkit/flags.ts";

const common = { json: false, verbose: false, color: "never" } as const;

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
  const { io } = captureIo();
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
  const { io } = captureIo();
  const error = await handOff(makeContext(io, neverInterrupted), {
    flags: { ...common, exec: true },
    command: ["sh", "-c", "kill -TERM $$"],
    fds: [],
  }).then(() => null, (e) => e);
  assertOk(error instanceof Exit, String(error));
  assertEquals(error.exitCode, 143);
});

Deno.test("--exec: status 0 returns normally; a missing command is exit 127", async () => {
  const { io } = captureIo();
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
  const { io, stdout } = captureIo();
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
  const { io, stdout } = captureIo();
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

/**
 * Runs handOff(--exec sh -c SCRIPT) in a separate Deno process (signals sent to it must not reach the test runner); its
 * stdout is the child's (inherited).
 */
function execDriver(script: string): RunningProcess {
  const command = ["sh", "-c", script];
  const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const code = `import { handOff } from ${module("../../commands/hand_off.ts")};
import { makeContext } from ${module("../../commands/toolkit/context.ts")};
import { processIo } from ${module("../../commands/toolkit/streams.ts")};
import { exitCodeOf, formatError } from ${module("../../cli/errors.ts")};
const context = makeContext(processIo(), () => new AbortController().signal);
const flags = { json: false, verbose: false, color: "never", exec: true } as const;
try {
  await handOff(context, { flags, command: ${JSON.stringify(command)}, fds: [] });
  Deno.exit(0);
} catch (error) {
  const message = formatError(error, false);
  if (message !== "") Deno.stderr.writeSync(new TextEncoder().encode(message + "\\n"));
  Deno.exit(exitCodeOf(error));
}
`;
  return startProcess(Deno.execPath(), ["eval", "--ext=ts", code]);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const) {
  Deno.test(`--exec: ${signal} sent to dmabuf reaches the child; the child's status is ours`, async () => {
    const trap = signal.slice(3);
    const driver = execDriver(
      `trap 'echo got ${trap}; exit 40' ${trap}; echo ready; while :; do sleep 0.01; done`,
    );
    await driver.readUntil("ready\n");
    Deno.kill(driver.pid, signal);
    const { code, stdout, stderr } = await driver.result;
    assertEquals(stdout, `ready\ngot ${trap}\n`);
    assertEquals(code, 40, stderr);
  });
}

Deno.test("--exec: the handlers are in place when the child starts (a signal it sends at once is passed back)", async () => {
  const driver = execDriver(
    "trap 'echo got USR1; exit 41' USR1; kill -USR1 $PPID; while :; do sleep 0.01; done",
  );
  const { code, stdout, stderr } = await driver.result;
  assertEquals(stdout, "got USR1\n");
  assertEquals(code, 41, stderr);
});

Deno.test("--exec: a second Ctrl-C forces the exit (130) when the child ignores the first", async () => {
  const driver = execDriver("trap 'echo got INT' INT; echo ready $$; while :; do sleep 0.01; done");
  const child = Number(/^ready (\d+)\n/.exec(await driver.readUntil("\n"))![1]);
  try {
    Deno.kill(driver.pid, "SIGINT");
    await driver.readUntil("got INT\n");
    Deno.kill(driver.pid, "SIGINT");
    // dmabuf exits while the child (which shares its stdout) runs on: the status comes first.
    const { code } = await driver.status;
    Deno.kill(child, "SIGKILL");
    const { stderr } = await driver.result;
    assertEquals(code, 130, stderr);
    assertMatch(stderr, new RegExp(`^dmabuf: Interrupted twice: not waiting for "sh" \\(pid ${child}\\)`));
  } finally {
    try {
      Deno.kill(child, "SIGKILL");
    } catch {
      // killed above
    }
  }
});
