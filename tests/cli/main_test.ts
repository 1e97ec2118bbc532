import { assertEquals, assertIncludes, assertMatch, assertOk } from "../assert.ts";
import { CLI_PATH, runCli, spawnCli } from "../run_cli.ts";
import { VERSION } from "../../cli/app.ts";
import { DatabaseSync } from "node:sqlite";

function oneLine(text: string): boolean {
  return text.trimEnd().split("\n").length === 1;
}

Deno.test("dmabuf --help exits 0 and lists every command with the exit codes", async () => {
  const { code, stdout } = await spawnCli(["--help"]);
  assertEquals(code, 0);
  for (
    const command of [
      "heaps",
      "alloc",
      "map",
      "sync",
      "info",
      "fence-wait",
      "fence",
      "stat",
      "smoke",
      "doctor",
      "bench",
    ]
  ) {
    assertMatch(stdout, new RegExp(`^  ${command} `, "m"));
  }
  assertIncludes(stdout, "124 timeout");
});

Deno.test("dmabuf --version prints the version", async () => {
  const { code, stdout } = await runCli(["--version"]);
  assertEquals(code, 0);
  assertMatch(stdout, /^\d+\.\d+\.\d+\n$/);
});

Deno.test("cli/dmabuf finds the checkout by an absolute or relative path, with . or .., and through symlinks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dmabuf-launcher-" });
  try {
    // npm links bins as symlinks (node_modules/.bin/dmabuf), possibly to another symlink.
    await Deno.symlink(CLI_PATH, `${dir}/link`);
    await Deno.symlink(`${dir}/link`, `${dir}/link2`);
    const cli = CLI_PATH.slice(0, CLI_PATH.lastIndexOf("/"));
    const runs: [string, string][] = [
      [CLI_PATH, "/"],
      [`${cli}/./dmabuf`, "/"],
      [`${cli}/../cli/dmabuf`, "/"],
      ["./dmabuf", cli],
      ["cli/dmabuf", `${cli}/..`],
      [`${dir}/link`, "/"],
      ["./link2", dir],
    ];
    for (const [path, cwd] of runs) {
      const { code, stdout, stderr } = await new Deno.Command(path, { args: ["--version"], cwd }).output();
      assertEquals([code, new TextDecoder().decode(stdout), new TextDecoder().decode(stderr)], [
        0,
        `${VERSION}\n`,
        "",
      ], `${path} in ${cwd}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Starts of `--help` that may pass before the code cache is stored (each stores it about 2 times in 3). */
const CODE_CACHE_STARTS = 12;

Deno.test("dmabuf --help leaves V8's code cache of the modules it ran in DENO_DIR within a few starts", async () => {
  const denoDir = await Deno.makeTempDir({ prefix: "dmabuf-deno-dir-" });
  const wanted = ["cli/main.ts", "cli/app.ts", "cli/routes/map.ts"].map((module) =>
    new URL(`../../${module}`, import.meta.url).href
  );
  try {
    let cached: string[] = [];
    for (let start = 1; start <= CODE_CACHE_STARTS; start++) {
      const { code } = await spawnCli(["--help"], { env: { DENO_DIR: denoDir } });
      assertEquals(code, 0);
      const cache = new DatabaseSync(`${denoDir}/v8_code_cache_v2`);
      try {
        cached = cache.prepare("SELECT specifier FROM codecache").all().map((row) => String(row.specifier));
      } finally {
        cache.close();
      }
      if (wanted.every((url) => cached.includes(url))) break;
    }
    for (const url of wanted) assertOk(cached.includes(url), `${url} not among ${cached.join(", ")}`);
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

Deno.test("dmabuf frobnicate exits 2 with one line", async () => {
  const { code, stdout, stderr } = await spawnCli(["frobnicate"]);
  assertEquals(code, 2);
  assertEquals(stdout, "");
  assertEquals(stderr, 'dmabuf: Unknown command "frobnicate" (see dmabuf --help)\n');
});

Deno.test("dmabuf heap suggests heaps", async () => {
  const { code, stderr } = await runCli(["heap"]);
  assertEquals(code, 2);
  assertIncludes(stderr, 'did you mean "heaps"?');
  assertOk(oneLine(stderr));
});

Deno.test("dmabuf heaps --jsn exits 2 suggesting --json", async () => {
  const { code, stderr } = await runCli(["heaps", "--jsn"]);
  assertEquals(code, 2);
  assertIncludes(stderr, "--json");
  assertOk(oneLine(stderr));
});

Deno.test("dmabuf heaps --color purple exits 2 naming the value", async () => {
  const { code, stderr } = await runCli(["heaps", "--color", "purple"]);
  assertEquals(code, 2);
  assertIncludes(stderr, '"purple"');
  assertOk(oneLine(stderr));
});

Deno.test("dmabuf heaps extra exits 2", async () => {
  const { code, stderr } = await runCli(["heaps", "extra"]);
  assertEquals(code, 2);
  assertOk(oneLine(stderr));
});

Deno.test("dmabuf heaps --json prints a JSON array", async () => {
  const { code, stdout } = await spawnCli(["heaps", "--json"]);
  assertEquals(code, 0);
  const heaps = JSON.parse(stdout);
  assertOk(Array.isArray(heaps));
  for (const heap of heaps) {
    for (const key of ["name", "path", "target", "accessible"]) {
      assertOk(key in heap, `${key} in ${JSON.stringify(heap)}`);
    }
  }
});

Deno.test("dmabuf heaps --help shows examples and exit status", async () => {
  const { code, stdout } = await runCli(["heaps", "--help"]);
  assertEquals(code, 0);
  assertIncludes(stdout, "Examples:");
  assertIncludes(stdout, "Exit status:");
});

Deno.test("dmabuf heaps output has no colour when stdout is not a terminal or NO_COLOR is set", async () => {
  const piped = await runCli(["heaps"]);
  assertEquals(piped.stdout.includes("\x1b["), false);
  const noColor = await runCli(["heaps"], { terminal: true, env: { NO_COLOR: "1" } });
  assertEquals(noColor.stdout.includes("\x1b["), false);
});

Deno.test("options before the command: the line with them after it, --color with its value, before --", async () => {
  const cases: [string[], string][] = [
    [
      ["--color", "never", "heaps", "--json"],
      "dmabuf: options go after the command: dmabuf heaps --json --color never",
    ],
    [
      ["--json", "fence", "info", "--fd", "3"],
      "dmabuf: options go after the command: dmabuf fence info --fd 3 --json",
    ],
    [
      ["--json", "alloc", "--exec", "--", "sh", "-c", "echo $DMABUF_FDS"],
      "dmabuf: options go after the command: dmabuf alloc --exec --json -- sh -c 'echo $DMABUF_FDS'",
    ],
    [["--json"], "dmabuf: options go after a command (see dmabuf --help)"],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    assertEquals([code, stdout, stderr], [2, "", `${message}\n`]);
  }
});

Deno.test("a flag given twice says so, for boolean and valued flags", async () => {
  for (
    const [args, flag] of [[["heaps", "--json", "--json"], "--json"], [[
      "alloc",
      "--size",
      "4K",
      "--size",
      "8K",
    ], "--size"]]
  ) {
    const { code, stderr } = await runCli(args as string[]);
    assertEquals([code, stderr], [2, `dmabuf: ${flag} given twice\n`]);
  }
});

Deno.test("a 130,000-character value (the most one argument can be) is one short line wherever it goes", async () => {
  const a = "a".repeat(130_000);
  const runs = [
    ["alloc", "--name", a, "--size", "4K"],
    ["alloc", "--heap", a, "--size", "4K"],
    ["alloc", "--size", a],
    ["map", "--fd", a],
    ["map", "--fd", "3", "--fill", a],
    ["map", "--image", "/tmp/x.png", "--fourcc", a, "--width", "4", "--height", "4", "--fd", "3"],
    ["fence-wait", "--pid", a, "--fd", "3"],
    ["fence", "merge", "--fd", "3", "--fd", "4", "--name", a],
    ["fence", "deadline", "--fd", "3", "--at", a],
    ["heaps", "--color", a],
    ["heaps", `--${a}`],
    [a],
    ["stat", "--input", a],
    ["stat", "--name", a],
    ["stat", "--watch", a],
  ];
  for (const args of runs) {
    const { code, stderr } = await runCli(args);
    const what = args.map((arg) => arg.length > 20 ? "<130,000 a>" : arg).join(" ");
    assertOk(code === 1 || code === 2, `${what}: exit ${code}`);
    assertOk(oneLine(stderr), `${what}: ${stderr.slice(0, 300)}`);
    assertOk(stderr.length < 400, `${what}: ${stderr.length} characters: ${stderr.slice(0, 300)}`);
  }
});
