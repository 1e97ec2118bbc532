import { assertEquals, assertIncludes, assertMatch } from "../assert.ts";
import { runCli, spawnCli } from "../run_cli.ts";

/** Whether this machine has a tracefs to use (then the "no tracefs" path cannot be shown here). */
function hasTracefs(): boolean {
  const mounted = Deno.readTextFileSync("/proc/self/mounts").split("\n").some((line) =>
    line.split(" ")[2] === "tracefs"
  );
  try {
    Deno.statSync("/sys/kernel/debug/tracing/instances");
    return true;
  } catch {
    return mounted;
  }
}

Deno.test("dmabuf --help lists trace", async () => {
  const { code, stdout } = await runCli(["--help"]);
  assertEquals(code, 0);
  assertMatch(stdout, /^ {2}trace /m);
});

Deno.test("dmabuf trace --help names the flags, the JSON fields, what it needs and the exit statuses", async () => {
  const { code, stdout } = await runCli(["trace", "--help"]);
  assertEquals(code, 0);
  for (
    const text of [
      "--duration DURATION",
      "--driver NAME",
      "--timeline NAME",
      "--pid P",
      "--events",
      "--output FILE",
      "--json",
      "latencyMs {p50, p99, max",
      "waits {count, totalMs, maxMs",
      "mount -t tracefs nodev /sys/kernel/tracing",
      "CONFIG_FTRACE=y",
      "Exit status: 0 (also after Ctrl-C or SIGTERM)",
    ]
  ) {
    assertIncludes(stdout, text);
  }
});

for (
  const [args, message] of [
    [["--duration", "0s"], 'dmabuf: --duration: Cannot parse duration "0s": must be more than 0\n'],
    [
      ["--duration", "soon"],
      'dmabuf: --duration: Cannot parse duration "soon": expected e.g. 500ms, 2s, 1m\n',
    ],
    [["--driver", ""], "dmabuf: Invalid --driver: empty name\n"],
    [["--timeline", ""], "dmabuf: Invalid --timeline: empty name\n"],
  ] as const
) {
  Deno.test(`dmabuf trace ${args.join(" ")} exits 2 with one line`, async () => {
    const { code, stdout, stderr } = await runCli(["trace", ...args]);
    assertEquals([code, stdout, stderr], [2, "", message]);
  });
}

Deno.test("dmabuf trace --pid 0 exits 2 with one line", async () => {
  const { code, stdout, stderr } = await runCli(["trace", "--pid", "0"]);
  assertEquals([code, stdout], [2, ""]);
  assertMatch(stderr, /^dmabuf: --pid: .*\n$/);
});

Deno.test({
  name: hasTracefs()
    ? "dmabuf trace without tracefs exits 1 naming the mount command (ignored: this machine has tracefs)"
    : "dmabuf trace without tracefs exits 1 with one line naming the mount command and CONFIG_FTRACE",
  ignore: hasTracefs() || Deno.uid() !== 0,
  fn: async () => {
    const { code, stdout, stderr } = await spawnCli(["trace", "--duration", "1s"]);
    assertEquals([code, stdout], [1, ""]);
    assertEquals(
      stderr,
      "dmabuf: tracefs is not mounted: run mount -t tracefs nodev /sys/kernel/tracing " +
        "(the kernel needs CONFIG_FTRACE=y)\n",
    );
  },
});
