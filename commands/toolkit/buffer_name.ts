/**
 * The parser of `--name` for `DMA_BUF_SET_NAME`. Apart from the other value parsers because it needs the
 * kernel's `DMA_BUF_NAME_LEN` from `ffi/`, which `--help` must not load: routes reach it by lazy `import()`.
 * @module
 */

import { UsageError } from "./errors.ts";
import { NAME_LEN } from "../../ffi/structs.ts";

/**
 * Parses a dma-buf name for `DMA_BUF_SET_NAME`: at most `DMA_BUF_NAME_LEN` - 1 = 31 bytes of UTF-8, checked
 * here so that nothing is allocated for a name the kernel would refuse.
 * @throws {UsageError} naming the bad value and its length
 */
export function parseBufferName(input: string): string {
  const bytes = new TextEncoder().encode(input).length;
  if (bytes >= NAME_LEN) {
    throw new UsageError(`Name "${input}" is ${bytes} bytes: DMA_BUF_SET_NAME takes at most ${NAME_LEN - 1}`);
  }
  if (input.includes("\0")) throw new UsageError(`Name "${input}" contains a NUL byte`);
  return input;
}
