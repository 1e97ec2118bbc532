import { buildCommand } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import type { HeapsFlags } from "../../commands/heaps.ts";

/** `dmabuf heaps`: list dma-heaps and udmabuf. */
export const heapsCommand = buildCommand<HeapsFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/heaps.ts")).heaps,
  parameters: { flags: { ...commonFlags } },
  docs: {
    brief: "List dma-heaps (/dev/dma_heap/*) and udmabuf, and whether you can use them",
    fullDescription: [
      "Lists every entry of /dev/dma_heap (symlinks resolved), /dev/udmabuf as the pseudo-heap 'udmabuf',",
      "whether the current user can open each, and CmaTotal/CmaFree from /proc/meminfo.",
      "The alias 'cma' (accepted wherever a heap name is) means the first of default_cma_region, linux,cma,",
      "reserved, default-pool that exists.",
      "",
      "Examples:",
      "  dmabuf heaps",
      "  dmabuf heaps --json | jq -r '.[] | select(.accessible) | .name'",
      "",
      "Exit status: 0 (also when the kernel has no heaps), 1 on a failure reading /dev, 2 on a usage error.",
    ].join("\n"),
  },
});
