/**
 * The parser of heap names (`--heap`). Apart from the other value parsers because the rule is the kernel
 * boundary's (`heapNameProblem` in `ffi/dma_heap.ts`), which `--help` must not load: `parse.ts` reaches it by
 * lazy `import()`.
 * @module
 */

import { shown, UsageError } from "./errors.ts";
import { HEAP_DIR, heapNameProblem } from "../../ffi/dma_heap.ts";

/**
 * Parses a heap name: one entry of /dev/dma_heap such as `system`, `linux,cma`, the alias `cma`, or `udmabuf`.
 * @throws {UsageError} naming the bad value and why
 */
export function parseHeapName(input: string): string {
  const problem = heapNameProblem(input);
  if (problem !== undefined) {
    throw new UsageError(
      `Invalid heap name "${
        shown(input)
      }": ${problem}; expected one entry of ${HEAP_DIR}, e.g. system or cma`,
    );
  }
  return input;
}
