/**
 * The C side of `dmabuf bench`: tests/bench/dmabuf_ref.c built with gcc into the user's cache (keyed by a
 * hash of source, flags and compiler), run per heap and size, and its JSON samples parsed.
 * @module
 */

import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError, errorText, interruptedExitCode } from "../toolkit/errors.ts";
import type { Pattern } from "../../ffi/pattern.ts";
import { LATENCY_BATCH } from "./deno_side.ts";

import { type MeasurementName, MEASUREMENTS, type Plan, type ReferenceInfo, type Side } from "./model.ts";
import { sideStats } from "./stats.ts";

/** Compiler flags of the C reference. */
const REFERENCE_CFLAGS = ["-O2", "-pthread"] as const;
/**
 * Sleeping threads the C reference starts for the run its ratio is taken against. Deno is always
 * multithreaded, so its fd table is shared and each fd syscall takes and drops a file reference, which a
 * single-threaded process skips (__fget_light): about 60 ns per ioctl measured on an x86_64 host. With one
 * idle thread the C reference pays the same, and the ratio shows the cost of Deno's FFI and JavaScript; the
 * single-threaded run is reported beside it.
 */
export const REFERENCE_IDLE_THREADS = 1;
const REFERENCE_SOURCE = new URL("../../tests/bench/dmabuf_ref.c", import.meta.url);
/** Characters of the source hash in the cached binary's name. */
const HASH_CHARS = 12;

/** The pattern as dmabuf_ref.c takes it. */
function referencePattern(pattern: Pattern): string {
  switch (pattern.kind) {
    case "zero":
      return "zero";
    case "byte":
      return `byte:${pattern.value}`;
    case "counter":
      return "counter";
    case "random":
      return `random:${pattern.seed}`;
  }
}

/**
 * Where compiled references are cached: `${XDG_CACHE_HOME:-$HOME/.cache}/dmabuf`; a string saying why there is
 * none when neither is usable (HOME unset, or not a directory: as root, making `HOME=/nonexistent` would put a
 * directory where none should be).
 */
export function cacheDir(env: (name: string) => string | undefined): { path: string } | { reason: string } {
  const xdg = env("XDG_CACHE_HOME");
  if (xdg !== undefined && xdg.startsWith("/")) return { path: `${xdg}/dmabuf` };
  const home = env("HOME");
  if (home === undefined || home === "") return { reason: "neither XDG_CACHE_HOME nor HOME is set" };
  try {
    if (Deno.statSync(home).isDirectory) return { path: `${home}/.cache/dmabuf` };
  } catch {
    // missing: as not a directory
  }
  return { reason: `HOME (${home}) is no directory; set XDG_CACHE_HOME` };
}

/** The signals that stop a build (and remove what it had written). */
const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Removes partial builds (`<name>-<hash>.<pid>.tmp`) left in `dir` by runs that are gone (SIGKILL, a crash),
 * leaving those of running processes alone.
 */
function removeStalePartials(dir: string, name: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  for (const entry of entries) {
    const match = new RegExp(`^${RegExp.escape(name)}-[0-9a-f]+\\.(\\d+)\\.tmp$`).exec(entry.name);
    if (match === null) continue;
    try {
      Deno.statSync(`/proc/${match[1]}`);
    } catch {
      try {
        Deno.removeSync(`${dir}/${entry.name}`);
      } catch {
        // Removed by another run meanwhile.
      }
    }
  }
}

/**
 * Runs gcc to build `partial`, stopped by SIGINT/SIGTERM while it runs: gcc is killed and the partial output
 * removed, so nothing is left behind.
 * @throws {CliError} exit 130/143 when a signal stopped it
 */
async function compile(sourcePath: string, partial: string): Promise<Deno.CommandOutput> {
  const stop = new AbortController();
  const listeners = STOP_SIGNALS.map((name) => {
    const listener = () => stop.abort(name);
    Deno.addSignalListener(name, listener);
    return [name, listener] as const;
  });
  try {
    return await run("gcc", [...REFERENCE_CFLAGS, "-o", partial, sourcePath], stop.signal);
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  } finally {
    for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
    if (stop.signal.aborted) {
      try {
        Deno.removeSync(partial);
      } catch {
        // gcc had not created it yet
      }
    }
  }
  throw new CliError("Interrupted while building the C reference", {
    exitCode: interruptedExitCode(stop.signal.reason),
  });
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)).toHex();
}

/** Runs `command` with `args`, its output collected; `signal` kills it (SIGTERM) when aborted. */
export async function run(
  command: string,
  args: string[],
  signal?: AbortSignal,
): Promise<Deno.CommandOutput> {
  return await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(signal === undefined ? {} : { signal }),
  }).output();
}

/** A {@link ReferenceInfo}: available when `binary` is given, else not, for `reason`. */
export function referenceInfo(
  binary: string | null,
  compiler: string | null,
  reason: string | null,
): ReferenceInfo {
  return {
    available: binary !== null,
    binary,
    compiler,
    cflags: REFERENCE_CFLAGS.join(" "),
    idleThreads: REFERENCE_IDLE_THREADS,
    reason,
  };
}

/**
 * Builds a C program of the project (the bench reference by default) with gcc into the cache, once per
 * source version, compiler and flags; or says why it cannot.
 */
export async function buildReference(
  env: (name: string) => string | undefined,
  sourceUrl: URL = REFERENCE_SOURCE,
): Promise<ReferenceInfo> {
  const cflags = REFERENCE_CFLAGS.join(" ");
  let compiler: string;
  try {
    const version = await run("gcc", ["--version"]);
    compiler = new TextDecoder().decode(version.stdout).split("\n", 1)[0] ?? "gcc";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return referenceInfo(null, null, "gcc not found: Deno numbers only");
    }
    throw error;
  }
  // A path, not URL.pathname: that keeps %20 for a space and gcc would not find the file.
  const sourcePath = fileURLToPath(sourceUrl);
  let source: Uint8Array;
  try {
    source = Deno.readFileSync(sourcePath);
  } catch (error) {
    // The board bundle ships no C source: Deno numbers only, as without gcc.
    return referenceInfo(null, compiler, `cannot read ${sourcePath}: ${errorText(error)}`);
  }
  const hash = (await sha256Hex(new Uint8Array([...source, ...new TextEncoder().encode(cflags + compiler)])))
    .slice(0, HASH_CHARS);
  const cache = cacheDir(env);
  if ("reason" in cache) return referenceInfo(null, compiler, `no cache directory: ${cache.reason}`);
  const dir = cache.path;
  const name = basename(sourcePath, ".c");
  const binary = `${dir}/${name}-${hash}`;
  try {
    Deno.statSync(binary);
    return referenceInfo(binary, compiler, null);
  } catch {
    // Not built yet.
  }
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (error) {
    return referenceInfo(
      null,
      compiler,
      `cannot make the cache directory ${dir}: ${errorText(error)}`,
    );
  }
  removeStalePartials(dir, name);
  const partial = `${binary}.${Deno.pid}.tmp`;
  const result = await compile(sourcePath, partial);
  if (!result.success) {
    try {
      Deno.removeSync(partial);
    } catch {
      // gcc wrote nothing
    }
    const first = new TextDecoder().decode(result.stderr).split("\n").find((l) => l.includes("error")) ?? "";
    return referenceInfo(null, compiler, `gcc failed to build ${sourcePath}: ${first.trim()}`);
  }
  Deno.renameSync(partial, binary);
  return referenceInfo(binary, compiler, null);
}

interface ReferenceOutput {
  measurements: Record<string, { samplesNs?: number[]; error?: string }>;
}

/** Runs the C reference for one heap and size, with `idleThreads` sleeping threads. */
export async function measureC(
  binary: string,
  plan: Plan,
  idleThreads: number,
): Promise<Record<MeasurementName, Side>> {
  const result = await run(binary, [
    ...["--idle-threads", String(idleThreads)],
    ...["--kind", plan.target.kind, "--path", plan.target.path, "--size", String(plan.size)],
    ...["--iterations", String(plan.iterations), "--bandwidth-iterations", String(plan.bandwidthIterations)],
    ...["--batch", String(LATENCY_BATCH), "--warmup", String(plan.warmup)],
    ...["--pattern", referencePattern(plan.pattern)],
  ]);
  const sides = {} as Record<MeasurementName, Side>;
  if (!result.success) {
    const message = new TextDecoder().decode(result.stderr).trim().split("\n", 1)[0] || `exit ${result.code}`;
    for (const m of MEASUREMENTS) sides[m.name] = { stats: null, error: message };
    return sides;
  }
  const parsed = JSON.parse(new TextDecoder().decode(result.stdout)) as ReferenceOutput;
  for (const m of MEASUREMENTS) {
    const raw = parsed.measurements[m.name];
    sides[m.name] = raw?.samplesNs !== undefined
      ? { stats: sideStats(raw.samplesNs, m.kind === "bandwidth" ? plan.size : null), error: null }
      : { stats: null, error: raw?.error ?? "missing from the reference output" };
  }
  return sides;
}
