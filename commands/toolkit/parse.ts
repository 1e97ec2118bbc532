/**
 * Parsers for command-line values: sizes, durations, fds, pids, patterns. Each throws a {@link UsageError}
 * naming the bad value.
 * @module
 */

import { shown, UsageError } from "./errors.ts";
import type { Pattern } from "../../ffi/pattern.ts";

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** The largest byte count taken: 2^53 - 1, the largest whole number a JavaScript number holds exactly. */
export const MAX_BYTES = Number.MAX_SAFE_INTEGER;

/**
 * Parses a byte count as `parseSize` and `parseOffset` take it; `zero` says whether 0 is allowed.
 * @throws {UsageError} naming the value and, as `what`, what it was meant to be
 */
function parseBytes(input: string, what: "size" | "offset", zero: boolean): number {
  const text = input.trim();
  const bad = (why: string) => new UsageError(`Cannot parse ${what} "${shown(input)}": ${why}`);
  let bytes: number;
  if (/^0x[0-9a-f]+$/i.test(text)) {
    bytes = parseInt(text.slice(2), 16);
  } else {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
    if (match === null) {
      throw bad(
        text.startsWith("-")
          ? (zero ? `${what}s cannot be negative` : `${what}s must be positive`)
          : `expected a number with an optional unit (e.g. ${zero ? "0, " : ""}4096, 4K, 1MiB, 0x1000)`,
      );
    }
    const unit = SIZE_UNITS[match[2]!.toLowerCase()];
    if (unit === undefined) throw bad(`unknown unit "${match[2]}" (use K, M, G, T or KiB, MiB, GiB)`);
    bytes = Number(match[1]) * unit;
  }
  // Too large first: beyond 2^53 no number is whole any more, and "not a whole number" would mislead.
  if (bytes > MAX_BYTES) throw bad(`too large (at most ${MAX_BYTES} bytes)`);
  if (!Number.isInteger(bytes)) throw bad("not a whole number of bytes");
  if (bytes <= 0 && !zero) throw bad("sizes must be greater than zero");
  return bytes;
}

/**
 * Parses a size: `4096`, `4k`/`4K`/`4KiB`, `1M`/`1MiB`, `1G`, `1.5M`, `0x1000`. Units are binary (K = 1024).
 * Zero, negative, non-integral and larger than {@link MAX_BYTES} byte counts are rejected.
 * @throws {UsageError} naming the bad value
 */
export function parseSize(input: string): number {
  return parseBytes(input, "size", false);
}

/** Parses an offset: like {@link parseSize}, but zero is allowed. @throws {UsageError} */
export function parseOffset(input: string): number {
  return parseBytes(input, "offset", true);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration into milliseconds: `500ms`, `2s`, `1.5s`, `1m`, `1h`; a bare number is seconds. Zero is
 * taken: a delay or a timeout of 0 means now (`--timeout 0` looks once); a length or an interval is parsed
 * with {@link parseInterval}.
 * @throws {UsageError} naming the bad value
 */
export function parseDuration(input: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(input.trim());
  if (match === null) {
    throw new UsageError(`Cannot parse duration "${shown(input)}": expected e.g. 500ms, 2s, 1m`);
  }
  const ms = Number(match[1]) * DURATION_UNITS[(match[2] ?? "s").toLowerCase()]!;
  if (!Number.isFinite(ms) || ms > 2 ** 31 * 1000) {
    throw new UsageError(`Cannot parse duration "${shown(input)}": too long`);
  }
  return Math.round(ms);
}

/**
 * Parses a length of time or an interval (`trace --duration`, `stat --watch`): a duration of more than
 * zero, the one rule for both (an interval of 0 would be a busy loop, a recording of 0 nothing).
 * @throws {UsageError} naming the bad value
 */
export function parseInterval(input: string): number {
  const ms = parseDuration(input);
  if (ms <= 0) throw new UsageError(`Cannot parse duration "${shown(input)}": must be more than 0`);
  return ms;
}

function parseNonNegativeInteger(input: string, what: string): number {
  if (!/^\d+$/.test(input.trim())) {
    throw new UsageError(`Invalid ${what} "${shown(input)}": expected a non-negative integer`);
  }
  const value = Number(input.trim());
  if (!Number.isSafeInteger(value)) throw new UsageError(`Invalid ${what} "${shown(input)}": too large`);
  return value;
}

/** Parses a file descriptor number. @throws {UsageError} */
export function parseFdNumber(input: string): number {
  const fd = parseNonNegativeInteger(input, "fd");
  if (fd > 0x7fffffff) throw new UsageError(`Invalid fd "${shown(input)}": too large`);
  return fd;
}

/** Parses a process id (> 0). @throws {UsageError} */
export function parsePid(input: string): number {
  const pid = parseNonNegativeInteger(input, "pid");
  if (pid === 0 || pid > 0x3fffffff) {
    throw new UsageError(`Invalid pid "${shown(input)}": expected a process id`);
  }
  return pid;
}

/** Parses a positive count (`--count`, `--iterations`). @throws {UsageError} */
export function parseCount(input: string): number {
  const count = parseNonNegativeInteger(input, "count");
  if (count === 0) throw new UsageError(`Invalid count "${shown(input)}": must be at least 1`);
  return count;
}

/**
 * Parses a pattern: `zero`, a byte (`0xa5`, `165`), `counter`, or `random:SEED`.
 * @throws {UsageError} naming the bad value
 */
export function parsePattern(input: string): Pattern {
  const text = input.trim().toLowerCase();
  if (text === "zero") return { kind: "zero" };
  if (text === "counter") return { kind: "counter" };
  const random = /^random:(\d+)$/.exec(text);
  if (random !== null) {
    const seed = Number(random[1]);
    if (seed > 0xffffffff) {
      throw new UsageError(`Invalid pattern "${shown(input)}": the seed must fit 32 bits`);
    }
    return { kind: "random", seed };
  }
  if (/^(0x[0-9a-f]{1,2}|\d{1,3})$/.test(text)) {
    const value = Number(text);
    if (value <= 0xff) return value === 0 ? { kind: "zero" } : { kind: "byte", value };
  }
  throw new UsageError(
    `Invalid pattern "${shown(input)}": expected zero, a byte such as 0xa5, counter, or random:SEED`,
  );
}

/**
 * Parses a heap name: one entry of /dev/dma_heap such as `system`, `linux,cma`, the alias `cma`, or `udmabuf`,
 * by ffi's one rule (`heapNameProblem`): names that would reach outside the directory are refused. Loaded
 * lazily, so `--help` loads no ffi/ module.
 * @throws {UsageError} naming the bad value
 */
export async function parseHeapName(input: string): Promise<string> {
  return (await import("./heap_name.ts")).parseHeapName(input);
}

/** The largest `__u32`: the range of sw_sync seqnos and timeline steps. */
const U32_MAX = 0xffff_ffff;

/** Parses a sw_sync seqno (`--seqno`): an integer from 0 to 2^32-1. @throws {UsageError} */
export function parseSeqno(input: string): number {
  const text = input.trim();
  if (!/^\d+$/.test(text) || Number(text) > U32_MAX) {
    throw new UsageError(`Invalid seqno "${shown(input)}": expected an integer from 0 to ${U32_MAX}`);
  }
  return Number(text);
}

/** Parses a CLOCK_MONOTONIC time in ns (`--at`), a u64. @throws {UsageError} */
export function parseNanoseconds(input: string): bigint {
  if (!/^\d+$/.test(input.trim())) {
    throw new UsageError(`Invalid time "${shown(input)}": expected nanoseconds, a non-negative integer`);
  }
  const ns = BigInt(input.trim());
  if (ns > 0xffff_ffff_ffff_ffffn) throw new UsageError(`Invalid time "${shown(input)}": more than 64 bits`);
  return ns;
}

/**
 * Set (to 1) by the launchers when dmabuf was started from a working directory that no longer exists: it runs
 * in / then, where a relative path would name something else.
 */
export const CWD_GONE_ENV = "DMABUF_CWD_GONE";

/**
 * Parses a path a flag takes (a file to read or write, a directory): any non-empty text; `-` where a flag
 * reads stdin. A relative path is refused when the working directory was deleted (see {@link CWD_GONE_ENV}).
 * @throws {UsageError} for an empty path, or a relative one without a working directory
 */
export function parsePath(input: string): string {
  if (input === "") throw new UsageError("Expected a path, got an empty string");
  if (!input.startsWith("/") && input !== "-" && Deno.env.get(CWD_GONE_ENV) === "1") {
    throw new UsageError(
      `"${shown(input)}" is relative, and the working directory dmabuf was started in no longer exists: ` +
        "give an absolute path",
    );
  }
  return input;
}
