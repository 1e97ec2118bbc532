import { buildCommand } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import { parseCount, parseHeapName, parsePattern, parseSize } from "../../commands/toolkit/parse.ts";
import type { AllocFlags } from "../../commands/alloc.ts";
import { handOffFlags, handOffPositional } from "../../commands/toolkit/flags.ts";

/** `dmabuf alloc`: allocate dma-bufs from a heap or udmabuf. */
export const allocCommand = buildCommand<AllocFlags, string[], DmabufContext>({
  loader: async () => (await import("../../commands/alloc.ts")).alloc,
  parameters: {
    flags: {
      ...commonFlags,
      heap: {
        kind: "parsed",
        parse: parseHeapName,
        default: "system",
        placeholder: "NAME",
        brief: "Heap to allocate from: an entry of /dev/dma_heap, cma (the default CMA heap), or udmabuf",
      },
      size: {
        kind: "parsed",
        parse: parseSize,
        placeholder: "SIZE",
        brief: "Bytes per buffer (4096, 4K, 1M, 0x1000); the kernel rounds up to whole pages",
      },
      count: {
        kind: "parsed",
        parse: parseCount,
        default: "1",
        placeholder: "N",
        brief: "How many buffers to allocate",
      },
      name: {
        kind: "parsed",
        // Lazy: the name limit is the kernel's DMA_BUF_NAME_LEN, from ffi/, which --help must not load.
        parse: async (input: string) =>
          (await import("../../commands/toolkit/buffer_name.ts")).parseBufferName(input),
        optional: true,
        placeholder: "NAME",
        brief: "Name every buffer with DMA_BUF_SET_NAME (at most 31 bytes; shown in fdinfo, bufinfo, maps)",
      },
      fill: {
        kind: "parsed",
        parse: parsePattern,
        optional: true,
        placeholder: "PATTERN",
        brief: "Fill inside a SYNC write bracket: zero, a byte (0xa5), counter, random:SEED",
      },
      ...handOffFlags,
    },
    positional: handOffPositional,
  },
  docs: {
    brief: "Allocate dma-bufs from a heap or udmabuf; print, hold or hand them to a command",
    fullDescription: [
      "Allocates --count buffers of --size bytes (O_RDWR|O_CLOEXEC) from --heap (default system; 'cma' is the",
      "default CMA heap under whatever name it has; 'udmabuf' makes them from sealed memfds via /dev/udmabuf),",
      "optionally names them and fills them with a pattern, and prints fd, inode, real size, heap, exporter and",
      "name of each. Buffers are freed when dmabuf exits, unless it holds them or hands them to a command:",
      "",
      "  --hold [DURATION]  print 'ready pid=P fds=N,M' (with --json: {pid, fds, buffers}) and keep the buffers",
      "                     until DURATION passes or SIGINT/SIGTERM, then free them and exit 0. Other processes",
      "                     reach them with --pid P --fd N.",
      "  --exec -- CMD...   run CMD with the buffers as fds 3, 4, ... (listed in DMABUF_FDS) and exit with its",
      "                     status (128+N if it dies of signal N, 127 if it cannot be started). stdout belongs",
      "                     to CMD: alloc prints nothing itself (with --verbose, a line per buffer on stderr).",
      "",
      "Examples:",
      "  dmabuf alloc --size 1M",
      "  dmabuf alloc --heap cma --size 4M --count 2 --name camera --json",
      "  dmabuf alloc --size 1M --fill counter --exec -- dmabuf map --fd 3 --verify counter",
      "  dmabuf alloc --heap udmabuf --size 64K --hold 30s &",
      "",
      "Exit status: 0 success; 1 unknown heap (the heaps that exist are listed), no permission (who may open",
      "the heap and how to get access), ENOMEM (CmaFree/MemAvailable shown), udmabuf over its size limit;",
      "2 usage error (bad size, name over 31 bytes, heap name with / or ..); with --exec, the command's status.",
    ].join("\n"),
  },
});
