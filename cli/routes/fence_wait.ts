import { buildCommand } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import { parseDuration } from "../../commands/toolkit/parse.ts";
import type { FenceWaitFlags } from "../../commands/fence_wait.ts";
import { bufferSelectFlags } from "../../commands/toolkit/flags.ts";

/** `dmabuf fence-wait`: wait on a sync_file or a dma-buf's implicit fences. */
export const fenceWaitCommand = buildCommand<FenceWaitFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/fence_wait.ts")).fenceWait,
  parameters: {
    flags: {
      ...commonFlags,
      ...bufferSelectFlags,
      fd: {
        ...bufferSelectFlags.fd,
        brief: "The sync_file (or, with --dmabuf, the dma-buf) at fd N of this process (or of --pid P)",
      },
      dmabuf: {
        kind: "boolean",
        default: false,
        withNegated: false,
        brief:
          "Wait on the dma-buf's implicit fences (--fd N, --pid P --fd N, or a fresh --heap/--size buffer)",
      },
      read: {
        kind: "boolean",
        default: false,
        withNegated: false,
        brief: "--dmabuf: wait for the writers only (what a CPU read waits for)",
      },
      write: {
        kind: "boolean",
        default: false,
        withNegated: false,
        brief: "--dmabuf: wait for all fences, readers too (what a CPU write waits for; the default)",
      },
      poll: {
        kind: "boolean",
        default: false,
        withNegated: false,
        brief: "--dmabuf: poll(2) the dma-buf instead of exporting a sync_file (no per-fence detail)",
      },
      timeout: {
        kind: "parsed",
        parse: parseDuration,
        optional: true,
        placeholder: "DURATION",
        brief: "Give up after DURATION (500ms, 2s, 1m) and exit 124; default: wait forever",
      },
      deadline: {
        kind: "parsed",
        parse: parseDuration,
        optional: true,
        placeholder: "DURATION",
        brief: "First set a deadline hint DURATION from now on the sync_file (SYNC_IOC_SET_DEADLINE, 6.8+)",
      },
    },
  },
  docs: {
    brief: "Wait on a sync_file or a dma-buf's implicit fences",
    fullDescription: [
      "Waits until a sync_file signals (--fd N, or --pid P --fd N taken with pidfd_getfd), or with --dmabuf",
      "until a dma-buf's implicit fences do: --read waits for the writers, --write (default) for all fences.",
      "For --dmabuf it exports a sync_file (DMA_BUF_IOCTL_EXPORT_SYNC_FILE) so each fence can be shown, and",
      "falls back to poll(2) on the dma-buf (POLLIN for --read, POLLOUT for --write) on kernels before 6.0.",
      "The wait is poll in 100 ms slices, so Ctrl-C stops it promptly (exit 130; SIGTERM: 143).",
      "--deadline DURATION first tells the fences' drivers the result is wanted by now + DURATION",
      "(SYNC_IOC_SET_DEADLINE, CLOCK_MONOTONIC; a hint — drivers without deadline support ignore it; with",
      "--dmabuf it goes on the exported sync_file). Before Linux 6.8 (ENOTTY) it warns once on stderr and waits",
      "anyway. Not with --poll (no sync_file: exit 2), nor where --dmabuf falls back to poll (a warning).",
      "",
      "Prints what it waited on, the result and the elapsed time, then the sync_file's name and status and per",
      "fence (SYNC_IOC_FILE_INFO) driver, timeline, status and when it signalled. --json fields: target {kind,",
      "fd, pid, access, inode}, method (sync_file|poll), result (signalled|error|timeout|interrupted),",
      "elapsedMs, timeoutMs, deadlineNs (absolute CLOCK_MONOTONIC ns set, or null: none asked, or before 6.8),",
      "syncFile {name, status, state, error, fences [{driver, timeline, status, state,",
      "error, flags, timestampNs (CLOCK_MONOTONIC)}]} (null with poll).",
      "",
      "Examples:",
      "  dmabuf fence sw-sync --seqno 1 --inc-after 1s --exec -- dmabuf fence-wait --fd 3",
      "  dmabuf fence-wait --pid 1234 --fd 7 --timeout 2s --json",
      "  dmabuf fence-wait --dmabuf --pid 1234 --fd 5 --read",
      "  dmabuf fence-wait --pid 1234 --fd 7 --deadline 16ms",
      "",
      "Exit status: 0 signalled without error (or the dma-buf is idle); 1 signalled with an error status (e.g.",
      "-ENOENT, printed) or a failure (fd not open, not a sync_file); 124 timeout; 130 interrupted (SIGINT), 143",
      "(SIGTERM), 141 stdout's reader gone (a broken pipe); 2 usage error.",
    ].join("\n"),
  },
});
