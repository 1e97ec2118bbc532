/**
 * The review's 19 defects (issue 22), one test each, named by its number and the command line it runs. Each
 * failed on the code before the fix. The CLI runs as a real process where the process is the point (a broken
 * pipe, a full disk, signals, a deleted working directory, bytes the runtime refuses, what fds it inherited),
 * in-process otherwise.
 * @module
 */

import { fileURLToPath } from "node:url";
import { assertEquals, assertIncludes, assertMatch, assertOk } from "../assert.ts";
import { CLI_PATH, runCli, spawnCli } from "../run_cli.ts";

const FIXTURES = fileURLToPath(new URL("../ffi/text/fixtures/bufinfo/", import.meta.url));
const V6_1 = `${FIXTURES}v6_1.txt`;

/** What a process did within a time limit (killed with SIGKILL when it ran over). */
interface Bounded {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from start to exit. */
  ms: number;
  /** Whether it had to be killed. */
  killed: boolean;
}

/** Runs `file args` with stdout and stderr collected, killing it after `limitMs`. */
async function runWithin(
  file: string,
  args: readonly string[],
  limitMs: number,
  env: Record<string, string> = {},
): Promise<Bounded> {
  const start = performance.now();
  const child = new Deno.Command(file, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
  })
    .spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, limitMs);
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  return { code: status.code, stdout, stderr, ms: performance.now() - start, killed };
}

/** `sh -c SCRIPT` with `$D` the CLI, within `limitMs`. */
function shWithin(script: string, limitMs: number, env: Record<string, string> = {}): Promise<Bounded> {
  return runWithin("/bin/sh", ["-c", script], limitMs, { D: CLI_PATH, ...env });
}

/** Asserts one `dmabuf:` line on stderr and returns it. */
function oneErrorLine(stderr: string): string {
  const lines = stderr.split("\n").filter((line) => line !== "");
  assertEquals(lines.length, 1, `one line expected: ${JSON.stringify(stderr.slice(0, 400))}`);
  assertMatch(lines[0]!, /^dmabuf: /);
  return lines[0]!;
}

/** A saved `stat --json` document with the given buffers, written to a temporary file. */
function savedDocument(buffers: unknown[] | string): string {
  const path = Deno.makeTempFileSync({ prefix: "dmabuf-review-", suffix: ".json" });
  Deno.writeTextFileSync(path, typeof buffers === "string" ? buffers : JSON.stringify({ buffers }));
  return path;
}

const BUFFER = {
  inode: 1,
  size: 4096,
  exporter: "system",
  name: null,
  count: 1,
  flags: 2,
  mode: 0x80007,
  attachments: [],
  fences: [],
};

Deno.test("#1 stat --input FILE --watch 100ms | head -n 3 ends within a second of the reader going away", async () => {
  for (const interval of ["100ms", "1h"]) {
    const child = new Deno.Command(CLI_PATH, {
      args: ["stat", "--input", V6_1, "--watch", interval],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (text.split("\n").length <= 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    // What head does after its third line: it exits, and the pipe's read end closes.
    await reader.cancel();
    const closed = performance.now();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const status = await child.status;
    clearTimeout(timer);
    const ms = performance.now() - closed;
    const stderr = await new Response(child.stderr).text();
    assertEquals(status.signal, null, `--watch ${interval} had to be killed after ${ms.toFixed(0)} ms`);
    assertOk(ms < 1000, `--watch ${interval} took ${ms.toFixed(0)} ms to end after its reader went away`);
    assertEquals([status.code, stderr], [0, ""]);
  }
});

Deno.test("#2 stat --name '*a*a*...*b' against a name of 31 a's takes milliseconds, not seconds", async () => {
  const path = savedDocument([{ ...BUFFER, name: "a".repeat(31) }]);
  try {
    const start = performance.now();
    const { code, stdout } = await runCli([
      "stat",
      "--input",
      path,
      "--name",
      `${"*a".repeat(16)}*b`,
      "--json",
    ]);
    const ms = performance.now() - start;
    assertEquals([code, JSON.parse(stdout).buffers], [0, []]);
    assertOk(ms < 500, `the glob took ${ms.toFixed(0)} ms`);
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("#3 stat --name with 130,000 characters (or 60,000 ?) is a usage error: name pattern too long", async () => {
  for (const glob of ["a".repeat(130_000), "?".repeat(60_000)]) {
    const { code, stdout, stderr } = await runCli(["stat", "--input", V6_1, "--name", glob]);
    assertEquals([code, stdout], [2, ""]);
    const line = oneErrorLine(stderr);
    assertIncludes(line, "name pattern too long");
    assertOk(line.length < 300, `the message echoes the pattern: ${line.length} characters`);
  }
});

Deno.test("#4 stat --input /dev/zero, /dev/urandom, --compare /dev/zero and huge files end at once with one line", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "dmabuf-review-" });
  try {
    const sparse = `${dir}/sparse-3G.txt`;
    Deno.writeFileSync(sparse, new Uint8Array());
    Deno.truncateSync(sparse, 3 * 1024 ** 3);
    const zeros = `${dir}/zeros-300M.txt`;
    Deno.writeFileSync(zeros, new Uint8Array());
    Deno.truncateSync(zeros, 300 * 1024 ** 2);
    const runs = [
      ["stat", "--input", "/dev/zero"],
      ["stat", "--input", "/dev/urandom"],
      ["stat", "--input", V6_1, "--compare", "/dev/zero"],
      ["stat", "--input", sparse],
      ["stat", "--input", zeros],
    ];
    for (const args of runs) {
      const result = await runWithin(CLI_PATH, args, 10_000);
      assertEquals(result.killed, false, `${args.join(" ")} had to be killed`);
      assertOk(result.ms < 2000, `${args.join(" ")} took ${result.ms.toFixed(0)} ms`);
      assertEquals([result.code, result.stdout], [1, ""], args.join(" "));
      oneErrorLine(result.stderr);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("#5 map --size 4K --write /dev/zero does not read the device to its end", async () => {
  const result = await runWithin(CLI_PATH, ["map", "--size", "4K", "--write", "/dev/zero"], 10_000);
  assertEquals(result.killed, false, "map --write /dev/zero had to be killed");
  assertOk(result.ms < 2000, `took ${result.ms.toFixed(0)} ms`);
  // No heap on a host: the buffer cannot be made; with one, 4096 bytes are read (tests/kernel/buffers_test.ts).
  assertEquals(result.stdout, "");
  oneErrorLine(result.stderr);
});

Deno.test("#6 a non-UTF-8 argument (stat --input $'name_\\xff.txt', alloc --name $'\\xff') is one line, exit 2", async () => {
  for (
    const script of [
      `exec "$D" stat --input "$(printf 'name_\\377.txt')"`,
      `exec "$D" alloc --name "$(printf '\\377')"`,
    ]
  ) {
    const result = await shWithin(script, 10_000);
    assertEquals([result.code, result.stdout], [2, ""], script);
    const line = oneErrorLine(result.stderr);
    assertIncludes(line, "UTF-8");
  }
});

Deno.test("#7 run from a deleted working directory, stat --input with an absolute path works", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "dmabuf-review-cwd-" });
  const result = await shWithin(`cd "${dir}" && rmdir "${dir}" && exec "$D" stat --input "${V6_1}"`, 20_000);
  assertEquals(result.code, 0, result.stderr);
  assertIncludes(result.stdout, "Total: 2 buffers");
  // The shell itself may warn that it cannot name its directory; nothing from the runtime or the tool.
  const lines = result.stderr.split("\n").filter((line) => line !== "" && !/getcwd/.test(line));
  assertEquals(lines, []);
});

Deno.test("#8 dmabuf --help > /dev/full: Cannot write to stdout, one line, exit 1", async () => {
  const result = await shWithin(`exec "$D" --help > /dev/full`, 20_000);
  assertEquals(result.code, 1);
  assertEquals(
    oneErrorLine(result.stderr),
    "dmabuf: Cannot write to stdout: ENOSPC (No space left on device)",
  );
});

Deno.test("#9 stat > /dev/full and heaps --json > /dev/full: the same line, no internal error", async () => {
  for (const args of [`stat --input "${V6_1}"`, "heaps --json"]) {
    const result = await shWithin(`exec "$D" ${args} > /dev/full`, 20_000);
    assertEquals(result.code, 1, args);
    assertEquals(
      oneErrorLine(result.stderr),
      "dmabuf: Cannot write to stdout: ENOSPC (No space left on device)",
    );
  }
});

Deno.test("#10 smoke --heap-dir FILE and --output DIR are refused before the run, in one wording", async () => {
  const heapDir = await runCli(["smoke", "--heap-dir", "/etc/hostname"]);
  assertEquals([heapDir.code, heapDir.stdout], [1, ""]);
  assertEquals(
    oneErrorLine(heapDir.stderr),
    "dmabuf: Cannot read the directory /etc/hostname (--heap-dir): ENOTDIR (Not a directory)",
  );
  const output = await runCli(["smoke", "--output", "/tmp"]);
  assertEquals([output.code, output.stdout], [1, ""]);
  assertEquals(oneErrorLine(output.stderr), "dmabuf: Cannot write /tmp: EISDIR (Is a directory)");
});

/** Running the CLI as another user (setpriv) needs root. */
const ROOT = Deno.uid() === 0;

Deno.test({
  name: `#10 smoke --output to a file an unprivileged user may not write is refused before the run${
    ROOT ? "" : " [ignored: needs root to run it as uid 65534]"
  }`,
  ignore: !ROOT,
  fn: unprivilegedOutput,
});

async function unprivilegedOutput(): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "dmabuf-review-" });
  try {
    Deno.chmodSync(dir, 0o700);
    const result = await runWithin(
      "setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        CLI_PATH,
        "smoke",
        "--output",
        `${dir}/report.txt`,
      ],
      30_000,
      { HOME: "/", DENO_DIR: "/dev/null/deno" },
    );
    assertEquals([result.code, result.stdout], [1, ""]);
    assertEquals(
      oneErrorLine(result.stderr),
      `dmabuf: Cannot write ${dir}/report.txt: EACCES (Permission denied)`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("#11 alloc --size 9999999999999999999T is too large, not 'not a whole number'", async () => {
  const { code, stderr } = await runCli(["alloc", "--size", "9999999999999999999T"]);
  assertEquals(code, 2);
  assertIncludes(oneErrorLine(stderr), "too large (at most");
});

Deno.test("#12 a saved stat --json with size -5, inode 7.5 or size 1e400 is refused naming the field", async () => {
  const cases: [string, string][] = [
    [
      JSON.stringify({ buffers: [{ ...BUFFER, size: -5 }] }),
      "buffers[0].size must be a non-negative integer",
    ],
    [
      JSON.stringify({ buffers: [{ ...BUFFER, inode: 7.5 }] }),
      "buffers[0].inode must be a non-negative integer",
    ],
    [`{"buffers": [{"inode": 1, "size": 1e400}]}`, "buffers[0].size must be a non-negative integer"],
  ];
  for (const [text, why] of cases) {
    const path = savedDocument(text);
    try {
      const { code, stdout, stderr } = await runCli(["stat", "--input", path]);
      assertEquals([code, stdout], [1, ""]);
      assertIncludes(oneErrorLine(stderr), why);
    } finally {
      Deno.removeSync(path);
    }
  }
});

Deno.test("#13 a truncated or wrongly shaped stat --json gives the JSON error or the field, not 'not a bufinfo'", async () => {
  const cases: [string, string][] = [
    ['{"buffers": [', "not valid JSON"],
    ['{"buffers":[{"inode":"x"}]}', "buffers[0].inode must be a non-negative integer"],
  ];
  for (const [text, why] of cases) {
    const path = savedDocument(text);
    try {
      const { code, stderr } = await runCli(["stat", "--input", path]);
      assertEquals(code, 1);
      const line = oneErrorLine(stderr);
      assertIncludes(line, why);
      assertEquals(line.includes("Dma-buf Objects"), false, line);
    } finally {
      Deno.removeSync(path);
    }
  }
});

Deno.test("#14 map --fd 0 --fill zero --out FILE: --out goes with --read", async () => {
  const { code, stderr } = await runCli(["map", "--fd", "0", "--fill", "zero", "--out", "/tmp/x"]);
  assertEquals(code, 2);
  assertEquals(oneErrorLine(stderr), "dmabuf: --out goes with --read");
});

Deno.test("#15 SIGINT or SIGTERM to bench while it compiles the C reference leaves no .tmp behind", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const dir = Deno.makeTempDirSync({ prefix: "dmabuf-review-bench-" });
    try {
      // A gcc that answers --version and, asked to compile, creates its output and then takes its time.
      Deno.mkdirSync(`${dir}/bin`);
      Deno.writeTextFileSync(
        `${dir}/bin/gcc`,
        `#!/bin/sh
[ "$1" = --version ] && { echo "gcc (fake) 1"; exit 0; }
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
: > "$out"
exec sleep 30
`,
        { mode: 0o755 },
      );
      const child = new Deno.Command(CLI_PATH, {
        args: ["bench", "--heap-dir", "/dev", "--heap", "null", "--iterations", "3", "--sizes", "4K"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        env: { XDG_CACHE_HOME: `${dir}/cache`, PATH: `${dir}/bin:${Deno.env.get("PATH")}` },
      }).spawn();
      const cache = `${dir}/cache/dmabuf`;
      const partials = () => {
        try {
          return [...Deno.readDirSync(cache)].map((entry) => entry.name).filter((name) =>
            name.endsWith(".tmp")
          );
        } catch {
          return [];
        }
      };
      for (let waited = 0; partials().length === 0; waited += 50) {
        assertOk(waited < 20_000, "the fake gcc never started");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await child.status;
      clearTimeout(timer);
      await child.stderr.cancel();
      assertEquals(partials(), [], `after ${signal}`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
});

Deno.test("#16 HOME=/nonexistent dmabuf heaps creates no directory there", async () => {
  const home = `/nonexistent-dmabuf-review-${Deno.pid}`;
  const result = await runWithin("/usr/bin/env", [
    "-i",
    `PATH=${Deno.env.get("PATH")}`,
    `HOME=${home}`,
    CLI_PATH,
    "heaps",
  ], 20_000);
  let created = true;
  try {
    Deno.statSync(home);
  } catch {
    created = false;
  }
  if (created) Deno.removeSync(home, { recursive: true });
  assertEquals([result.code, created], [0, false], result.stderr);
});

Deno.test("#17 heaps --json --json: --json given twice", async () => {
  const { code, stderr } = await runCli(["heaps", "--json", "--json"]);
  assertEquals(code, 2);
  assertEquals(oneErrorLine(stderr), "dmabuf: --json given twice");
});

Deno.test("#18 dmabuf --json heaps: options go after the command", async () => {
  const { code, stderr } = await runCli(["--json", "heaps"]);
  assertEquals(code, 2);
  assertEquals(oneErrorLine(stderr), "dmabuf: options go after the command: dmabuf heaps --json");
});

Deno.test("#19 map --fd 3 where fd 3 was not inherited says so, not what the runtime keeps there", async () => {
  const { code, stderr } = await spawnCli(["map", "--fd", "3", "--read"]);
  assertEquals(code, 1);
  assertIncludes(oneErrorLine(stderr), "fd 3 was not inherited (it is not open in the calling shell)");
});
