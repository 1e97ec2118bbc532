import { assertEquals, assertIncludes } from "../assert.ts";
import { runCli } from "../run_cli.ts";

Deno.test("dmabuf alloc: bad input exits 2 with one line, before anything is allocated", async () => {
  const cases: [string[], string][] = [
    [["alloc"], "--size"],
    [["alloc", "--size", "0"], "sizes must be greater than zero"],
    [["alloc", "--size", "4Q"], 'unknown unit "Q"'],
    [["alloc", "--size", "4K", "--heap", "../system"], 'Invalid heap name "../system"'],
    [["alloc", "--size", "4K", "--heap", "a/b"], 'Invalid heap name "a/b"'],
    [["alloc", "--size", "4K", "--heap", "x..y"], 'Invalid heap name "x..y"'],
    [["alloc", "--size", "4K", "--name", "n".repeat(32)], "is 32 bytes: DMA_BUF_SET_NAME takes at most 31"],
    [["alloc", "--size", "4K", "--name", "é".repeat(16)], "is 32 bytes"],
    [["alloc", "--size", "4K", "--count", "0"], "must be at least 1"],
    [["alloc", "--size", "4K", "--fill", "0x1ff"], 'Invalid pattern "0x1ff"'],
    [["alloc", "--size", "4K", "--hold", "soon"], 'Cannot parse duration "soon"'],
    [["alloc", "--size", "4K", "--exec"], "--exec needs a command after --"],
    [["alloc", "--size", "4K", "--", "true"], "a command to run needs --exec"],
    [["alloc", "--size", "4K", "--hold", "--exec", "--", "true"], "--hold and --exec cannot be combined"],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    assertEquals([code, stdout], [2, ""], `${args.join(" ")}: ${stderr}`);
    assertIncludes(stderr, message);
    assertEquals(stderr.split("\n").length, 2, stderr);
  }
});

Deno.test("dmabuf alloc --help documents --hold, --exec and the exit statuses", async () => {
  const { code, stdout } = await runCli(["alloc", "--help"]);
  assertEquals(code, 0);
  for (const part of ["--hold", "--exec", "DMABUF_FDS", "ready pid=P fds=N,M", "Exit status"]) {
    assertIncludes(stdout, part);
  }
});
