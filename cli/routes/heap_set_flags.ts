import { parseHeapName, parsePath } from "../../commands/toolkit/parse.ts";

/** The heap selection of commands that run over every heap (smoke, bench): `--heap NAME...`, `--heap-dir DIR`. */
export const heapSetFlags = {
  heap: {
    kind: "parsed",
    parse: parseHeapName,
    optional: true,
    variadic: true,
    placeholder: "NAME",
    brief: "Only this heap (repeatable): an entry of the heap directory, cma, or udmabuf; default all",
  },
  heapDir: {
    kind: "parsed",
    parse: parsePath,
    optional: true,
    placeholder: "DIR",
    brief:
      "Directory of heap device nodes (default /dev/dma_heap; e.g. /dev/rk_dma_heap on old Rockchip BSPs)",
  },
} as const;
