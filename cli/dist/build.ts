/**
 * `deno task dist`: builds the board bundles `dist/dmabuf-<version>-linux-x64.tar.gz` and
 * `dist/dmabuf-<version>-linux-arm64.tar.gz`. Each unpacks to `dmabuf-<version>/` with `bin/dmabuf` (the
 * launcher, cli/dist/dmabuf.sh), `lib/deno` (that architecture's Deno from npm's `@deno/linux-<arch>-glibc`
 * at package.json's deno version), `lib/dmabuf/` (`deno bundle --code-splitting` of cli/main.ts: `main.js`
 * holds what every start needs, each command body is a chunk loaded when it runs) and `README.md`.
 *
 * ```sh
 * deno task dist                          # both tarballs
 * deno task dist --arch arm64 --out DIR   # one, elsewhere
 * ```
 *
 * The x64 runtime is the one `npm ci` installed; the arm64 one is fetched once with `npm pack` into
 * `${XDG_CACHE_HOME:-~/.cache}/dmabuf-dist/` and checked against package-lock.json's integrity hash. Tarballs
 * are reproducible (sorted, owner 0, fixed mtime, gzip without a timestamp), so an unchanged source gives
 * byte-identical output. Prints one `tarball=PATH` line per architecture on stdout; errors are one line on
 * stderr and exit 1 (usage errors 2).
 * @module
 */
import { fileURLToPath } from "node:url";

/** A bundle's architecture, as npm and Deno's packages name it. */
export type DistArch = "x64" | "arm64";

const ARCHES: readonly DistArch[] = ["x64", "arm64"];
/** `uname -m` of each architecture, for the launcher's and README's wording. */
const MACHINES: Record<DistArch, string> = { x64: "x86_64", arm64: "aarch64" };
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const checkout = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const here = fileURLToPath(new URL("./", import.meta.url));

/** An error that ends the build with one line on stderr. */
export class DistError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = "DistError";
  }
}

/** What the build needs to know: versions and where things go. */
export interface DistOptions {
  arches: DistArch[];
  /** Output directory of the tarballs. */
  out: string;
}

/** Parses `--arch x64|arm64` (repeatable; default both) and `--out DIR` (default dist/ of the checkout). */
export function parseDistArgs(args: readonly string[]): DistOptions {
  const arches: DistArch[] = [];
  let out = `${checkout}/dist`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = () => {
      const value = args[++i];
      if (value === undefined) throw new DistError(`Option ${arg} needs a value`, EXIT_USAGE);
      return value;
    };
    if (arg === "--arch") {
      const arch = next();
      if (!ARCHES.includes(arch as DistArch)) {
        throw new DistError(`Unknown architecture "${arch}": expected x64 or arm64`, EXIT_USAGE);
      }
      if (!arches.includes(arch as DistArch)) arches.push(arch as DistArch);
    } else if (arg === "--out") {
      out = next();
    } else {
      throw new DistError(`Unknown argument "${arg}": expected --arch x64|arm64 or --out DIR`, EXIT_USAGE);
    }
  }
  return { arches: arches.length ? arches : [...ARCHES], out };
}

/** Fills the `@NAME@` placeholders of a template. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (whole, name: string) => values[name] ?? whole);
}

/** Base64 of a SHA-512 digest, as npm's `sha512-...` integrity strings hold it. */
async function sha512Base64(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}

async function run(command: string, args: string[], options: { cwd?: string } = {}): Promise<string> {
  const result = await new Deno.Command(command, {
    args,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output().catch((error: Error) => {
    throw new DistError(`Cannot run ${command}: ${error.message}`);
  });
  const decoder = new TextDecoder();
  if (!result.success) {
    const stderr = decoder.decode(result.stderr).trim().split("\n").slice(-5).join("\n  ");
    throw new DistError(`${command} ${args.join(" ")} failed (exit ${result.code}):\n  ${stderr}`);
  }
  return decoder.decode(result.stdout);
}

interface PackageJson {
  version: string;
  devDependencies?: Record<string, string>;
}

interface PackageLock {
  packages: Record<string, { version?: string; integrity?: string }>;
}

function readJson<T>(path: string): T {
  return JSON.parse(Deno.readTextFileSync(path)) as T;
}

/** The Deno binary for `arch` at `denoVersion`: npm ci's for x64, a verified `npm pack` for arm64. */
async function denoBinary(arch: DistArch, denoVersion: string): Promise<string> {
  const name = `@deno/linux-${arch}-glibc`;
  const installed = `${checkout}/node_modules/${name}`;
  try {
    if (readJson<PackageJson>(`${installed}/package.json`).version === denoVersion) {
      return `${installed}/deno`;
    }
  } catch {
    // Not installed on this machine (npm installs only the host's platform package): fetch it below.
  }
  const lock = readJson<PackageLock>(`${checkout}/package-lock.json`).packages[`node_modules/${name}`];
  if (lock?.version !== denoVersion || !lock.integrity?.startsWith("sha512-")) {
    throw new DistError(`package-lock.json has no ${name}@${denoVersion} with a sha512 integrity`);
  }
  const home = Deno.env.get("HOME") ?? "/tmp";
  const parent = `${Deno.env.get("XDG_CACHE_HOME") || `${home}/.cache`}/dmabuf-dist`;
  const cache = `${parent}/${arch}-${denoVersion}`;
  const binary = `${cache}/package/deno`;
  if (isFile(binary)) return binary;
  Deno.mkdirSync(parent, { recursive: true });
  // Fetched, checked and unpacked in a directory of this process's own, which then becomes the cache by one
  // rename: two builds at once (npm test's lanes) never see each other's half-written binary.
  const work = Deno.makeTempDirSync({ dir: parent, prefix: `.${arch}-${denoVersion}.` });
  let renamed = false;
  try {
    note(`fetching ${name}@${denoVersion} with npm pack (once; cached in ${cache})`);
    const tgzName =
      (await run("npm", ["pack", `${name}@${denoVersion}`, "--pack-destination", work, "--silent"]))
        .trim().split("\n").at(-1)!;
    const tgz = `${work}/${tgzName}`;
    const integrity = `sha512-${await sha512Base64(Deno.readFileSync(tgz))}`;
    if (integrity !== lock.integrity) {
      throw new DistError(`${name}@${denoVersion} from npm does not match package-lock.json's integrity`);
    }
    await run("tar", ["-xzf", tgz, "-C", work, "package/deno", "package/package.json"]);
    Deno.removeSync(tgz);
    try {
      Deno.renameSync(work, cache);
      renamed = true;
    } catch (error) {
      // Another build put the same package there first: use it.
      if (!isFile(binary)) throw error;
    }
  } finally {
    if (!renamed) Deno.removeSync(work, { recursive: true });
  }
  return binary;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function note(message: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`dist: ${message}\n`));
}

/**
 * Bundles cli/main.ts into `outdir` (npm packages from node_modules included): `main.js` and its chunks. Split
 * rather than one file, so a start loads and runs only what it needs: `--help` from one 478 KB file (every
 * module evaluated at start) took 2.4× as long as `deno eval 0`, from a 128 KB main.js with each command body
 * a chunk of its own 1.2×.
 */
export async function bundleCli(outdir: string): Promise<void> {
  await run(Deno.execPath(), [
    ...["bundle", "--quiet", "--platform", "deno", "--config", `${checkout}/deno.json`, "--code-splitting"],
    ...["--outdir", outdir, `${checkout}/cli/main.ts`],
  ], { cwd: checkout });
}

/**
 * The launcher (bin/dmabuf) of a bundle: cli/dist/dmabuf.sh with its placeholders filled, and cli/launch_env.sh
 * (what cli/dmabuf sources) put in at `@LAUNCH_ENV@`.
 */
export function launcherScript(values: Record<string, string>): string {
  const launchEnv = Deno.readTextFileSync(`${here}../launch_env.sh`).trimEnd();
  return fillTemplate(Deno.readTextFileSync(`${here}dmabuf.sh`), { ...values, LAUNCH_ENV: launchEnv });
}

/** Builds the tarballs; returns their paths. */
export async function buildDist(options: DistOptions): Promise<string[]> {
  const pkg = readJson<PackageJson>(`${checkout}/package.json`);
  const denoVersion = pkg.devDependencies?.deno;
  if (!denoVersion || !/^\d+\.\d+\.\d+$/.test(denoVersion)) {
    throw new DistError(`package.json pins no exact deno version (devDependencies.deno is "${denoVersion}")`);
  }
  const top = `dmabuf-${pkg.version}`;
  const work = await Deno.makeTempDir({ prefix: "dmabuf-dist-" });
  const tarballs: string[] = [];
  try {
    const bundle = `${work}/bundle`;
    await bundleCli(bundle);
    const bundleFiles = [...Deno.readDirSync(bundle)].map((entry) => entry.name).sort();
    Deno.mkdirSync(options.out, { recursive: true });
    for (const arch of options.arches) {
      const deno = await denoBinary(arch, denoVersion);
      const values = { VERSION: pkg.version, ARCH: arch, MACHINE: MACHINES[arch], DENO_VERSION: denoVersion };
      const stage = `${work}/${arch}`;
      const root = `${stage}/${top}`;
      Deno.mkdirSync(`${root}/bin`, { recursive: true });
      Deno.mkdirSync(`${root}/lib`);
      Deno.writeTextFileSync(
        `${root}/bin/dmabuf`,
        launcherScript(values),
        { mode: 0o755 },
      );
      Deno.copyFileSync(deno, `${root}/lib/deno`);
      Deno.chmodSync(`${root}/lib/deno`, 0o755);
      Deno.mkdirSync(`${root}/lib/dmabuf`);
      for (const name of bundleFiles) {
        Deno.copyFileSync(`${bundle}/${name}`, `${root}/lib/dmabuf/${name}`);
        Deno.chmodSync(`${root}/lib/dmabuf/${name}`, 0o644);
      }
      Deno.writeTextFileSync(
        `${root}/README.md`,
        fillTemplate(Deno.readTextFileSync(`${here}README.bundle.md`), values),
      );
      const tarball = `${options.out}/${top}-linux-${arch}.tar.gz`;
      // Reproducible: same inputs, same bytes (the VM's board root is cached by this tarball's hash).
      await run("sh", [
        "-c",
        'tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf - "$2" | gzip -n -6 >"$3.tmp" && mv "$3.tmp" "$3"',
        "sh",
        stage,
        top,
        tarball,
      ]);
      tarballs.push(tarball);
    }
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
  return tarballs;
}

if (import.meta.main) {
  let code = 0;
  try {
    const tarballs = await buildDist(parseDistArgs(Deno.args));
    Deno.stdout.writeSync(new TextEncoder().encode(tarballs.map((path) => `tarball=${path}\n`).join("")));
  } catch (error) {
    if (!(error instanceof DistError)) throw error;
    note(error.message);
    code = error.exitCode;
  }
  Deno.exit(code);
}
