/**
 * `deno task dist` end to end for this machine's architecture: the tarball's layout, reproducible bytes, and
 * the unpacked bundle running as an unprivileged user with PATH=/usr/bin:/bin and an unwritable HOME, writing
 * nothing into its install directory.
 * @module
 */

import assert from "node:assert/strict";
import { buildDist, type DistArch, parseDistArgs } from "../../cli/dist/build.ts";
import { fileURLToPath } from "node:url";

const ARCH: DistArch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
const VERSION = (JSON.parse(Deno.readTextFileSync(new URL("../../package.json", import.meta.url))) as {
  version: string;
}).version;
const FIXTURE = fileURLToPath(new URL("../ffi/text/fixtures/bufinfo/edge_names.txt", import.meta.url));
const NOBODY = 65534;

/** This run's Deno cache directory (DENO_DIR, else Deno's default under the XDG cache). */
function denoDir(): string {
  const home = Deno.env.get("HOME") ?? "/root";
  return Deno.env.get("DENO_DIR") ?? `${Deno.env.get("XDG_CACHE_HOME") || `${home}/.cache`}/deno`;
}

async function sh(
  script: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await new Deno.Command("sh", { args: ["-c", script, "sh", ...args], stdin: "null" })
    .output();
  const decoder = new TextDecoder();
  return { code: result.code, stdout: decoder.decode(result.stdout), stderr: decoder.decode(result.stderr) };
}

/** Every path under `dir` with its mtime, to see that a run wrote nothing there. */
function snapshot(dir: string): string[] {
  const entries: string[] = [];
  const walk = (path: string) => {
    for (const entry of Deno.readDirSync(path)) {
      const full = `${path}/${entry.name}`;
      entries.push(`${full} ${Deno.lstatSync(full).mtime?.getTime()}`);
      if (entry.isDirectory) walk(full);
    }
  };
  walk(dir);
  return entries.sort();
}

Deno.test("parseDistArgs: both architectures by default, --arch picks, bad values are usage errors", () => {
  assert.deepEqual(parseDistArgs([]).arches, ["x64", "arm64"]);
  assert.deepEqual(parseDistArgs(["--arch", "arm64", "--out", "/x"]), { arches: ["arm64"], out: "/x" });
  assert.throws(() => parseDistArgs(["--arch", "armhf"]), /Unknown architecture "armhf"/);
  assert.throws(() => parseDistArgs(["--out"]), /needs a value/);
});

Deno.test(`deno task dist: the linux-${ARCH} tarball is reproducible and runs unprivileged, read-only, from any cwd`, async () => {
  const work = Deno.makeTempDirSync({ prefix: "dmabuf-dist-test-" });
  try {
    Deno.chmodSync(work, 0o755);
    const [first] = await buildDist({ arches: [ARCH], out: `${work}/a` });
    const tarball = `dmabuf-${VERSION}-linux-${ARCH}.tar.gz`;
    assert.equal(first, `${work}/a/${tarball}`);
    // Reproducible bytes (the VM's board root is cached by the tarball's hash): no timestamp in the gzip
    // header, and below, owner 0/0 and mtime 0 on every entry.
    assert.deepEqual([...Deno.readFileSync(first!).subarray(4, 8)], [0, 0, 0, 0]);

    const listing = await sh('tar -tvzf "$1"', first!);
    const names = listing.stdout.trim().split("\n").map((line) => line.split(/\s+/).at(-1)!);
    // The bundle's chunks are named by their content: only their place and form are fixed.
    const chunk = new RegExp(`^dmabuf-${VERSION}/lib/dmabuf/[a-z_]+-[A-Z0-9]+\\.js$`);
    assert.deepEqual(names.filter((name) => !chunk.test(name)).sort(), [
      `dmabuf-${VERSION}/`,
      `dmabuf-${VERSION}/README.md`,
      `dmabuf-${VERSION}/bin/`,
      `dmabuf-${VERSION}/bin/dmabuf`,
      `dmabuf-${VERSION}/lib/`,
      `dmabuf-${VERSION}/lib/deno`,
      `dmabuf-${VERSION}/lib/dmabuf/`,
      `dmabuf-${VERSION}/lib/dmabuf/main.js`,
    ]);
    assert.ok(names.filter((name) => chunk.test(name)).length > 10, "command bodies in chunks of their own");
    for (const line of listing.stdout.trim().split("\n")) assert.match(line, / 0\/0 +\d+ 1970-01-01 00:00 /);
    assert.match(listing.stdout, /^-rwxr-xr-x .*\/bin\/dmabuf$/m);

    const unpacked = `${work}/opt`;
    Deno.mkdirSync(unpacked);
    assert.equal((await sh('tar -xzf "$1" -C "$2"', first!, unpacked)).code, 0);
    const installed = Deno.readTextFileSync(`${unpacked}/dmabuf-${VERSION}/bin/dmabuf`);
    assert.doesNotMatch(installed, /@[A-Z_]+@/, "every placeholder filled");
    Deno.copyFileSync(FIXTURE, `${work}/bufinfo.txt`);
    Deno.chmodSync(`${work}/bufinfo.txt`, 0o644);
    Deno.mkdirSync(`${work}/home`, { mode: 0o555 });
    Deno.chmodSync(`${work}/home`, 0o555);
    const before = snapshot(unpacked);

    // As nobody when this test runs as root (the CI machine), else as this user; cwd is a directory with a
    // deno.json, which the bundle must not pick up.
    const asUser = Deno.uid() === 0 ? `setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups` : "";
    const dmabuf = `${unpacked}/dmabuf-${VERSION}/bin/dmabuf`;
    const run = (...args: string[]) =>
      sh(
        `home=$1; cd "$2" || exit 1; shift 2; exec ${asUser} env -i PATH=/usr/bin:/bin HOME="$home" "$@"`,
        `${work}/home`,
        fileURLToPath(new URL("../..", import.meta.url)),
        dmabuf,
        ...args,
      );
    const version = await run("--version");
    assert.deepEqual(version, { code: 0, stdout: `${VERSION}\n`, stderr: "" });
    const heaps = await run("heaps", "--json");
    assert.equal(heaps.code, 0, heaps.stderr);
    assert.ok(Array.isArray(JSON.parse(heaps.stdout)));
    const stat = await run("stat", "--input", `${work}/bufinfo.txt`, "--json");
    assert.equal(stat.code, 0, stat.stderr);
    assert.ok(JSON.parse(stat.stdout));
    const bad = await run("alloc", "--size", "4Q");
    assert.equal(bad.code, 2, "usage errors keep their exit status through the launcher");
    assert.deepEqual(snapshot(unpacked), before, "nothing written into the install directory");
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
});

Deno.test("deno task dist: two builds of the other architecture at once, with no cached Deno, both give the whole binary", async () => {
  // npm test's two lanes build the arm64 bundle at the same time on a fresh machine: one used to copy the
  // other's half-unpacked Deno (a bundle that segfaulted) or lose its download.
  const other: DistArch = ARCH === "x64" ? "arm64" : "x64";
  const dir = await Deno.makeTempDir({ prefix: "dmabuf-dist-race-" });
  try {
    const build = (n: number) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--no-prompt",
          fileURLToPath(new URL("../../cli/dist/build.ts", import.meta.url)),
          "--arch",
          other,
          "--out",
          `${dir}/out${n}`,
        ],
        // A fresh dmabuf-dist cache, but this run's Deno cache: with an empty DENO_DIR two `deno bundle`s at
        // once race on unpacking esbuild (Deno's own "failed to copy esbuild binary"), another matter.
        env: { XDG_CACHE_HOME: `${dir}/cache`, DENO_DIR: denoDir() },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const results = await Promise.all([build(1), build(2)]);
    for (const result of results) assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    const tarball = `dmabuf-${VERSION}-linux-${other}.tar.gz`;
    assert.deepEqual(
      Deno.readFileSync(`${dir}/out1/${tarball}`),
      Deno.readFileSync(`${dir}/out2/${tarball}`),
    );
    // Only the finished cache directory is left, no private work directory of either build.
    assert.deepEqual([...Deno.readDirSync(`${dir}/cache/dmabuf-dist`)].map((e) => e.name), [
      `${other}-${
        (JSON.parse(Deno.readTextFileSync(new URL("../../package.json", import.meta.url))) as {
          devDependencies: { deno: string };
        }).devDependencies.deno
      }`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
