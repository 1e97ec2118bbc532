/**
 * The C side of `dmabuf bench`: tests/bench/dmabuf_ref.c built with gcc into the user's cache (keyed by a
 * hash of source, flags and compiler), run per heap and size, and its JSON samples parsed.
 * @module
 */

import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "../toolkit/errors.ts";
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

/** Where compiled references are cached: `${XDG_CACHE_HOME:-$HOME/.cache}/dmabuf`. */
export function cacheDir(env: (name: string) => string | undefined): string {
  const xdg = env("XDG_CACHE_HOME");
  if (xdg !== undefined && xdg.startsWith("/")) return `${xdg}/dmabuf`;
  const home = env("HOME");
  if (home === undefined || home === "") {
    throw new CliError("Cannot find a cache directory: neither XDG_CACHE_HOME nor HOME is set");
  }
  return `${home}/.cache/dmabuf`;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)).toHex();
}

export async function run(command: string, args: string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
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
  const source = Deno.readFileSync(sourcePath);
  const hash = (await sha256Hex(new Uint8Array([...source, ...new TextEncoder().encode(cflags + compiler)])))
    .slice(0, HASH_CHARS);
  const dir = cacheDir(env);
  const name = basename(sourcePath, ".c");
  const binary = `${dir}/${name}-${hash}`;
  try {
    Deno.statSync(binary);
    return referenceInfo(binary, compiler, null);
  } catch {
    // Not built yet.
  }
  Deno.mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${Deno.pid}.tmp`;
  const result = await run("gcc", [...REFERENCE_CFLAGS, "-o", partial, sourcePath]);
  if (!result.success) {
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
