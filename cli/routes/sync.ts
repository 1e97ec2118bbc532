import { buildCommand } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import type { SyncFlags } from "../../commands/sync.ts";
import { bufferSelectFlags } from "../../commands/toolkit/flags.ts";

const flag = (brief: string) => ({ kind: "boolean", default: false, withNegated: false, brief }) as const;

/** `dmabuf sync`: DMA_BUF_IOCTL_SYNC START/END on a dma-buf, timed. */
export const syncCommand = buildCommand<SyncFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/sync.ts")).sync,
  parameters: {
    flags: {
      ...commonFlags,
      ...bufferSelectFlags,
      start: flag("DMA_BUF_SYNC_START: begin CPU access (waits for conflicting fences)"),
      end: flag("DMA_BUF_SYNC_END: end CPU access"),
      bracket: flag("START then END"),
      read: flag("DMA_BUF_SYNC_READ"),
      write: flag("DMA_BUF_SYNC_WRITE"),
      rw: flag("DMA_BUF_SYNC_RW (read and write)"),
    },
  },
  docs: {
    brief: "Issue DMA_BUF_IOCTL_SYNC START/END on a dma-buf and time it",
    fullDescription: [
      "Issues DMA_BUF_IOCTL_SYNC on the selected buffer (--fd N, --pid P --fd N, or a fresh --heap/--size",
      "buffer) with exactly one of --start, --end, --bracket and one of --read, --write, --rw, restarting on",
      "EINTR/EAGAIN, and reports how long each ioctl took. A START waits without timeout for the fences the",
      "access conflicts with (READ: writers; WRITE/RW: all), so its time is the wait; on an idle buffer it is",
      "the exporter's cache maintenance (the system heap only syncs attachments that are mapped).",
      "",
      "Examples:",
      "  dmabuf sync --pid 1234 --fd 5 --start --read",
      "  dmabuf sync --heap cma --size 4M --bracket --rw --json",
      "",
      "--json: {fd, phase (start|end|bracket), access (read|write|rw), elapsedMs, steps: [{phase, flags,",
      "elapsedMs}]} with flags the raw struct dma_buf_sync value.",
      "",
      "Exit status: 0 success; 1 kernel error or fd not a dma-buf; 2 usage error (no or several phases or",
      "directions, no buffer selected).",
    ].join("\n"),
  },
});
