/**
 * libc symbols that ffi/libc.ts does not bind yet, for tracefs instances and the tracing cost benchmark. Kept
 * apart so that libc.ts stays untouched during the layering refactor; at merge these entries move into the one
 * symbol table there (and this file goes away).
 *
 * errno is thread-local and these calls are synchronous on the main thread, so libc.ts's `check()` (which reads
 * `*__errno_location()` of this thread) applies to them unchanged.
 * @module
 */

/** C `int`. */
const int = "i32";
/** C `mode_t`. */
const uint = "u32";
/** A pointer to memory owned by JavaScript (a TypedArray). */
const buf = "buffer";

const symbols = {
  /** `int mkdir(const char *path, mode_t mode)` */
  mkdir: { parameters: [buf, uint], result: int },
  /** `int rmdir(const char *path)` */
  rmdir: { parameters: [buf], result: int },
  /** `int getrusage(int who, struct rusage *usage)` */
  getrusage: { parameters: [int, buf], result: int },
} as const satisfies Deno.ForeignLibraryInterface;

/** The extra libc functions. */
export type LibcExtra = Deno.DynamicLibrary<typeof symbols>["symbols"];

let library: Deno.DynamicLibrary<typeof symbols> | undefined;

/** The extra libc symbols, opening libc on first use (never closed, like libc.ts's table). */
export function libcExtra(): LibcExtra {
  library ??= Deno.dlopen("libc.so.6", symbols);
  return library.symbols;
}

/** `RUSAGE_SELF` (`include/uapi/linux/resource.h`). */
const RUSAGE_SELF = 0;
/** `struct rusage` on LP64: `ru_utime` (struct timeval: `tv_sec` i64, `tv_usec` i64) @0, `ru_stime` @16; 144 bytes. */
const RUSAGE_SIZE = 144;

/**
 * CPU time this process has used so far (user + system, all threads), in ms, from `getrusage(RUSAGE_SELF)`.
 * @throws {Error} when getrusage fails (it cannot for RUSAGE_SELF)
 */
export function processCpuMs(): number {
  const usage = new Uint8Array(RUSAGE_SIZE);
  if (libcExtra().getrusage(RUSAGE_SELF, usage) !== 0) throw new Error("getrusage(RUSAGE_SELF) failed");
  const v = new DataView(usage.buffer);
  const ms = (offset: number) =>
    Number(v.getBigInt64(offset, true)) * 1000 + Number(v.getBigInt64(offset + 8, true)) / 1000;
  return ms(0) + ms(16);
}
