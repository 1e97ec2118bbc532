/**
 * The board bundle's launcher (cli/dist/dmabuf.sh) with fakes: a fake `deno` that records how it was called,
 * a fake `uname` on PATH, and DMABUF_PREFLIGHT_ROOT pointing at a fake system (loaders, /proc/self/smaps).
 * Each run goes through /bin/sh and, where installed, busybox sh.
 * @module
 */

import assert from "node:assert/strict";
import { launcherScript } from "../../cli/dist/build.ts";

const HOST_ARCH = Deno.build.arch === "aarch64" ? "arm64" : "x64";
const OTHER_ARCH = HOST_ARCH === "x64" ? "arm64" : "x64";
const HOST_LOADER = HOST_ARCH === "x64" ? "lib64/ld-linux-x86-64.so.2" : "lib/ld-linux-aarch64.so.1";
const BUSYBOX_SH = "/bin/busybox sh";
const SHELLS = ["/bin/sh", ...(isFile("/bin/busybox") ? [BUSYBOX_SH] : [])];

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Fake deno: logs DENO_DIR and its arguments (one per line, then an end line); FAKE_CRASH=eval|all kills it. */
const CALL_END = "@@end of call@@";
const FAKE_DENO = `#!/bin/sh
{ echo "DENO_DIR=$DENO_DIR"; printf '%s\\n' "$@"; echo "${CALL_END}"; } >>"$FAKE_LOG"
echo "$(pwd) \${DMABUF_CWD_GONE-}" >"$FAKE_LOG.cwd"
case $FAKE_CRASH:$1 in all:* | eval:eval) kill -SEGV $$ ;; esac
echo "fake deno ran"
`;

interface Install {
  dir: string;
  /** bin/dmabuf of the install. */
  launcher: string;
  /** Fake system root for DMABUF_PREFLIGHT_ROOT. */
  root: string;
  /** Directory of fake commands put first on PATH. */
  fakeBin: string;
  log: string;
}

/** An unpacked bundle of `arch` with a fake deno, a fake root holding the host's glibc loader, 4 KiB pages. */
function makeInstall(arch: string): Install {
  const dir = Deno.makeTempDirSync({ prefix: "dmabuf-launcher-" });
  const top = `${dir}/dmabuf-9.9.9`;
  Deno.mkdirSync(`${top}/bin`, { recursive: true });
  Deno.mkdirSync(`${top}/lib`);
  const values = { VERSION: "9.9.9", ARCH: arch, MACHINE: "m", DENO_VERSION: "0" };
  Deno.writeTextFileSync(`${top}/bin/dmabuf`, launcherScript(values), {
    mode: 0o755,
  });
  Deno.writeTextFileSync(`${top}/lib/deno`, FAKE_DENO, { mode: 0o755 });
  Deno.mkdirSync(`${top}/lib/dmabuf`);
  Deno.writeTextFileSync(`${top}/lib/dmabuf/main.js`, "");
  const root = `${dir}/root`;
  Deno.mkdirSync(`${root}/${HOST_LOADER.replace(/\/[^/]+$/, "")}`, { recursive: true });
  Deno.writeTextFileSync(`${root}/${HOST_LOADER}`, "");
  setPageSize(root, 4);
  const fakeBin = `${dir}/fakebin`;
  Deno.mkdirSync(fakeBin);
  return { dir, launcher: `${top}/bin/dmabuf`, root, fakeBin, log: `${dir}/deno.log` };
}

function setPageSize(root: string, kib: number): void {
  Deno.mkdirSync(`${root}/proc/self`, { recursive: true });
  Deno.writeTextFileSync(
    `${root}/proc/self/smaps`,
    `00400000-00452000 r-xp 00000000 08:02 173521 /bin/sh\nSize: 328 kB\nKernelPageSize: ${kib} kB\nMMUPageSize: ${kib} kB\n`,
  );
}

function fakeUname(install: Install, machine: string): void {
  Deno.writeTextFileSync(`${install.fakeBin}/uname`, `#!/bin/sh\necho ${machine}\n`, { mode: 0o755 });
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  /** What the fake deno logged: one entry per call, its lines. */
  calls: string[][];
}

async function launch(
  install: Install,
  shell: string,
  options: { args?: string[]; crash?: string; path?: string; env?: Record<string, string>; cwd?: string } =
    {},
) {
  await Deno.remove(install.log).catch(() => {});
  const [program, ...shellArgs] = shell.split(" ");
  const result = await new Deno.Command(program!, {
    args: [...shellArgs, options.path ?? install.launcher, ...(options.args ?? ["--version"])],
    clearEnv: true,
    env: {
      PATH: `${install.fakeBin}:/usr/bin:/bin`,
      DMABUF_PREFLIGHT_ROOT: install.root,
      FAKE_LOG: install.log,
      FAKE_CRASH: options.crash ?? "",
      ...options.env,
    },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  let log = "";
  try {
    log = Deno.readTextFileSync(install.log);
  } catch {
    // The fake deno never ran.
  }
  const calls = log.split(`${CALL_END}\n`).filter((call) => call !== "").map((call) =>
    call.slice(0, -1).split("\n")
  );
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
    calls,
  } satisfies Result;
}

/** Asserts a pre-flight refusal: exit 1, exactly one stderr line containing `text`, Deno never started. */
function assertRefused(result: Result, text: string): void {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stderr.split("\n").filter((line) => line !== "").length, 1, result.stderr);
  assert.match(result.stderr, /^dmabuf: /);
  assert.ok(result.stderr.includes(text), `"${result.stderr.trim()}" lacks "${text}"`);
  assert.deepEqual(result.calls, []);
  assert.equal(result.stdout, "");
}

for (const shell of SHELLS) {
  Deno.test(`launcher (${shell}): execs lib/deno once with the bundled script and arguments verbatim`, async () => {
    const install = makeInstall(HOST_ARCH);
    try {
      const result = await launch(install, shell, { args: ["stat", "--name", "a b*", ""] });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "fake deno ran\n");
      assert.equal(result.calls.length, 1);
      const [denoDir, ...args] = result.calls[0]!;
      assert.equal(denoDir, "DENO_DIR=", "Deno's own default cache");
      assert.equal(args[0], "run");
      const script = args.indexOf(`${Deno.realPathSync(install.dir)}/dmabuf-9.9.9/lib/dmabuf/main.js`);
      assert.ok(script > 0, args.join(" "));
      assert.deepEqual(args.slice(script + 1), ["stat", "--name", "a b*", ""]);
      const flags = ["--allow-all", "--no-config", "--no-remote", "--no-npm", "--no-lock"];
      for (const flag of [...flags, "--unstable-lazy-dynamic-imports"]) {
        assert.ok(args.slice(0, script).includes(flag), flag);
      }
    } finally {
      Deno.removeSync(install.dir, { recursive: true });
    }
  });

  Deno.test(`launcher (${shell}): an argument that is not UTF-8 is one line and exit 2; UTF-8 passes verbatim`, async () => {
    const install = makeInstall(HOST_ARCH);
    try {
      const name = "caméra 😀";
      const passed = await launch(install, shell, { args: ["alloc", "--name", name] });
      assert.equal(passed.code, 0, passed.stderr);
      assert.deepEqual(passed.calls[0]!.slice(-3), ["alloc", "--name", name]);
      // Bytes a Deno.Command argument cannot carry: through a shell's printf.
      const script = `exec "$0" stat --input "$(printf 'name_\\377.txt')"`;
      const refused = await launch(install, shell, { path: "-c", args: [script, install.launcher] });
      assertRefused(
        { ...refused, code: refused.code === 2 ? 1 : refused.code },
        "argument 3 (after --input) is not valid UTF-8",
      );
      assert.equal(refused.code, 2);
    } finally {
      Deno.removeSync(install.dir, { recursive: true });
    }
  });

  Deno.test(`launcher (${shell}): from a deleted working directory Deno starts in / with DMABUF_CWD_GONE=1`, async () => {
    const install = makeInstall(HOST_ARCH);
    const gone = Deno.makeTempDirSync({ prefix: "dmabuf-launcher-cwd-" });
    try {
      const result = await launch(install, shell, {
        path: "-c",
        args: [`rmdir "${gone}" && exec "$0"`, install.launcher],
        cwd: gone,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(Deno.readTextFileSync(`${install.log}.cwd`), "/ 1\n");
      const kept = await launch(install, shell, { cwd: install.dir });
      assert.equal(kept.code, 0, kept.stderr);
      assert.equal(Deno.readTextFileSync(`${install.log}.cwd`), `${Deno.realPathSync(install.dir)} \n`);
    } finally {
      Deno.removeSync(install.dir, { recursive: true });
    }
  });

  Deno.test(`launcher (${shell}): HOME that is no directory turns Deno's cache off rather than making it`, async () => {
    const install = makeInstall(HOST_ARCH);
    try {
      const cases: [Record<string, string>, string][] = [
        [{ HOME: "/nonexistent-home" }, "DENO_DIR=/dev/null/deno"],
        [{ HOME: install.dir }, "DENO_DIR="],
        [{ HOME: "/nonexistent-home", XDG_CACHE_HOME: `${install.dir}/cache` }, "DENO_DIR="],
        [{ HOME: "/nonexistent-home", DENO_DIR: `${install.dir}/deno` }, `DENO_DIR=${install.dir}/deno`],
      ];
      for (const [env, expected] of cases) {
        const result = await launch(install, shell, { env });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.calls[0]![0], expected, JSON.stringify(env));
      }
    } finally {
      Deno.removeSync(install.dir, { recursive: true });
    }
  });

  Deno.test(`launcher (${shell}): finds its install directory through a chain of relative and absolute symlinks`, async () => {
    const install = makeInstall(HOST_ARCH);
    try {
      Deno.mkdirSync(`${install.dir}/a/b`, { recursive: true });
      Deno.symlinkSync("../../dmabuf-9.9.9/bin/dmabuf", `${install.dir}/a/b/one`);
      Deno.symlinkSync(`${install.dir}/a/b/one`, `${install.dir}/two`);
      Deno.symlinkSync("two", `${install.dir}/dmabuf`);
      const direct = await launch(install, shell, { path: `${install.dir}/dmabuf` });
      assert.equal(direct.code, 0, direct.stderr);
      assert.ok(direct.calls[0]!.some((arg) => arg.endsWith("/dmabuf-9.9.9/lib/dmabuf/main.js")));
    } finally {
      Deno.removeSync(install.dir, { recursive: true });
    }
  });

  Deno.test(`launcher (${shell}): the other architecture's bundle names the right tarball`, async () => {
    const install = makeInstall(OTHER_ARCH);
    try {
      assertRefused(await launch(install, shell), `use dmabuf-9.9.9-linux-${HOST_ARCH}.tar.gz`);
      if (shell === BUSYBOX_SH) return; // busybox sh runs its own uname applet, not the fake on PATH
      fakeUname(install, "aarch64");
      Deno.mkdirSync(`${install.root}/lib`, { recursive: true });
      Deno.writeTextFileSync(`${install.root}/lib/ld-linux-aarch64.so.1`, "");
      const onArm = await launch(install, shell);
      if (OTHER_ARCH === "arm64") assert.equal(onArm.code, 0, onArm.stderr);
      else assertRefused(onArm, "use dmabuf-9.9.9-linux-arm64.tar.gz");
    } finally {
      Deno.removeSync(install.dir, { recursive: true });
    }
  });

  // busybox sh runs its own uname applet rather than the fake one on PATH.
  if (shell !== BUSYBOX_SH) {
    Deno.test(`launcher (${shell}): 32-bit ARM, 32-bit x86 and other machines are refused by name`, async () => {
      const install = makeInstall("arm64");
      try {
        for (const machine of ["armv7l", "armv6l", "armv8l"]) {
          fakeUname(install, machine);
          assertRefused(await launch(install, shell), `this machine is ${machine} (32-bit`);
        }
        fakeUname(install, "i686");
        assertRefused(await launch(install, shell), "Deno has no 32-bit build");
        fakeUname(install, "riscv64");
        assertRefused(await launch(install, shell), "this machine is riscv64");
      } finally {
        Deno.removeSync(install.dir, { recursive: true });
      }
    });
  }

  Deno.test(`launcher (${shell}): musl, a 32-bit ARM userland or no C library at all is refused`, async () => {
    const install = makeInstall(HOST_ARCH);
    try {
      Deno.removeSync(`${install.root}/${HOST_LOADER}`);
      assertRefused(await launch(install, shell), "no glibc on this system");
      Deno.mkdirSync(`${install.root}/lib`, { recursive: true });
      Deno.writeTextFileSync(`${install.root}/lib/ld-linux-armhf.so.3`, "");
      assertRefused(await launch(install, shell), "userland is 32-bit ARM");
      Deno.writeTextFileSync(`${install.root}/lib/ld-musl-${Deno.build.arch}.so.1`, "");
      assertRefused(await launch(install, shell), `C library is musl (/lib/ld-musl-${Deno.build.arch}.so.1)`);
    } finally {
      Deno.removeSync(install.dir, { recursive: true });
    }
  });

  Deno.test(`launcher (${shell}): with 4 KiB pages Deno is not probed; a crash there gets no page-size line`, async () => {
    const install = makeInstall(HOST_ARCH);
    try {
      const result = await launch(install, shell, { crash: "all" });
      assert.equal(result.code, 139);
      assert.equal(result.calls.length, 1);
      assert.ok(!result.stderr.includes("36282"), result.stderr);
    } finally {
      Deno.removeSync(install.dir, { recursive: true });
    }
  });

  Deno.test(`launcher (${shell}): with 16 KiB pages a Deno that dies at start gets one line naming the page size and deno#36282`, async () => {
    const install = makeInstall(HOST_ARCH);
    try {
      setPageSize(install.root, 16);
      const crashed = await launch(install, shell, { crash: "eval" });
      assert.equal(crashed.code, 139);
      const lines = crashed.stderr.split("\n").filter((line) => line !== "");
      assert.equal(lines.length, 1, crashed.stderr);
      assert.match(lines[0]!, /signal 11.*16 KiB pages.*denoland\/deno#36282/);
      assert.equal(crashed.calls.length, 1, "only the probe ran");
      const fine = await launch(install, shell);
      assert.equal(fine.code, 0, fine.stderr);
      assert.equal(fine.stdout, "fake deno ran\n");
      assert.deepEqual(fine.calls.map((call) => call[1]), ["eval", "run"]);
    } finally {
      Deno.removeSync(install.dir, { recursive: true });
    }
  });
}
