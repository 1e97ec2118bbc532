import { assertEquals, assertMatch } from "../assert.ts";
import { runCli } from "../run_cli.ts";

for (
  const [args, message] of [
    [["--fd", "3"], "dmabuf: fence deadline needs exactly one of --in DURATION and --at NS\n"],
    [
      ["--fd", "3", "--in", "16ms", "--at", "1000"],
      "dmabuf: fence deadline needs exactly one of --in DURATION and --at NS\n",
    ],
    [
      ["--fd", "3", "--in", "soon"],
      'dmabuf: --in: Cannot parse duration "soon": expected e.g. 500ms, 2s, 1m\n',
    ],
    [
      ["--fd", "3", "--at", "-1"],
      'dmabuf: --at: Invalid time "-1": expected nanoseconds, a non-negative integer\n',
    ],
    [
      ["--fd", "3", "--at", "18446744073709551616"],
      'dmabuf: --at: Invalid time "18446744073709551616": more than 64 bits\n',
    ],
  ] as const
) {
  Deno.test(`dmabuf fence deadline ${args.join(" ")} exits 2 with one line`, async () => {
    const { code, stdout, stderr } = await runCli(["fence", "deadline", ...args]);
    assertEquals([code, stdout, stderr], [2, "", message]);
  });
}

Deno.test("dmabuf fence deadline --fd 0 --in 16ms on a file that is not a sync_file exits 1 with one line", async () => {
  const { code, stdout, stderr } = await runCli(["fence", "deadline", "--fd", "0", "--in", "16ms"]);
  assertEquals([code, stdout], [1, ""]);
  assertMatch(stderr, /^dmabuf: fd 0 is not a sync_file: .*\n$/);
});

Deno.test("dmabuf fence-wait --dmabuf --poll --deadline 16ms exits 2: no sync_file to set it on", async () => {
  const { code, stdout, stderr } = await runCli([
    "fence-wait",
    "--dmabuf",
    "--poll",
    "--fd",
    "3",
    "--deadline",
    "16ms",
  ]);
  assertEquals([code, stdout, stderr], [
    2,
    "",
    "dmabuf: --deadline needs a sync_file to set it on: not with --poll\n",
  ]);
});

Deno.test("dmabuf fence-wait --deadline soon exits 2 with one line", async () => {
  const { code, stdout, stderr } = await runCli(["fence-wait", "--fd", "3", "--deadline", "soon"]);
  assertEquals([code, stdout, stderr], [
    2,
    "",
    'dmabuf: --deadline: Cannot parse duration "soon": expected e.g. 500ms, 2s, 1m\n',
  ]);
});

Deno.test("dmabuf fence deadline --help and fence-wait --help explain deadlines and 6.8", async () => {
  for (
    const args of [["fence", "deadline", "--help"], ["fence-wait", "--help"], ["fence", "info", "--help"]]
  ) {
    const { code, stdout } = await runCli(args);
    assertEquals(code, 0);
    assertMatch(stdout, /6\.8/);
    assertMatch(stdout, /deadline/);
  }
});
