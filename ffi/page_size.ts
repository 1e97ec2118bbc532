/**
 * The kernel's page size, which nothing may assume: 4 KiB on x86_64, 16 KiB or 64 KiB on many arm64 kernels.
 * Heaps round an allocation up to whole pages and `UDMABUF_CREATE` refuses sizes and offsets that are not
 * page-aligned, so expectations about sizes come from here.
 * @module
 */

import { libc } from "./libc.ts";

let cached: number | undefined;

/** The page size of the running kernel (libc `getpagesize()`), read once. */
export function pageSize(): number {
  cached ??= libc().getpagesize();
  return cached;
}

/**
 * `length` rounded up to whole pages.
 * @param page the page size; the kernel's by default (tests pass another, e.g. 16384)
 */
export function pageAlign(length: number, page: number = pageSize()): number {
  return Math.ceil(length / page) * page;
}
