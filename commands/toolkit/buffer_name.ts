/**
 * The parsers of `--name` for `DMA_BUF_SET_NAME` and `SYNC_IOC_MERGE`. Apart from the other value parsers
 * because they need the kernel's name length from `ffi/`, which `--help` must not load: routes reach them by
 * lazy `import()`.
 * @module
 */

import { shown, UsageError } from "./errors.ts";
import { NAME_LEN } from "../../ffi/structs.ts";

/** Checks a name for a kernel `char name[NAME_LEN]` field that `ioctl` fills. @throws {UsageError} */
function checkName(input: string, ioctl: string): string {
  const bytes = new TextEncoder().encode(input).length;
  if (bytes >= NAME_LEN) {
    throw new UsageError(`Name "${shown(input)}" is ${bytes} bytes: ${ioctl} takes at most ${NAME_LEN - 1}`);
  }
  if (input.includes("\0")) throw new UsageError(`Name "${shown(input)}" contains a NUL byte`);
  return input;
}

/**
 * Parses a dma-buf name for `DMA_BUF_SET_NAME`: at most `DMA_BUF_NAME_LEN` - 1 = 31 bytes of UTF-8, checked
 * here so that nothing is allocated for a name the kernel would refuse.
 * @throws {UsageError} naming the bad value and its length
 */
export function parseBufferName(input: string): string {
  return checkName(input, "DMA_BUF_SET_NAME");
}

/**
 * Parses the name of a merged sync_file (`fence merge --name`): `struct sync_merge_data`'s `char name[32]`
 * holds at most 31 bytes of UTF-8, checked before any sync_file is opened.
 * @throws {UsageError} naming the bad value and its length
 */
export function parseMergeName(input: string): string {
  return checkName(input, "SYNC_IOC_MERGE");
}
