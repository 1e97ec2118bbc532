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
