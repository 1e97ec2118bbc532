import { buildCommand } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import { bufferSelectFlags } from "../../commands/toolkit/flags.ts";
import type { DoctorFlags } from "../../commands/doctor/mod.ts";

/** `dmabuf doctor`: why this board cannot allocate, map or wait, and the fix. */
export const doctorCommand = buildCommand<DoctorFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/doctor/mod.ts")).doctor,
  parameters: {
    flags: {
      ...commonFlags,
      heap: {
        ...bufferSelectFlags.heap,
        brief: "Check access and allocation of this heap only (cma = the default CMA heap; udmabuf)",
      },
      size: {
        ...bufferSelectFlags.size,
        brief: "Try a buffer of this size (4K, 96M): allocate, map and free it (default one page)",
      },
    },
  },
  docs: {
    brief: "Say why this board cannot allocate, map or wait on dma-bufs, and how to fix it",
    fullDescription: [
      "A checklist, each line a verdict (ok, warn, fail, skip), the check's id and what was seen; under every",
      "verdict that is not ok, the fix as a line to apply (a kernel option, a kernel parameter such as",
      "cma=128M, a udev rule, a mount command, a group to join). Sections: kernel support (heaps, udmabuf,",
      "sync_file, sw_sync, debugfs, sysfs statistics, tracefs and their kernel options); version-gated features",
      "(EXPORT/IMPORT_SYNC_FILE 6.0, SET_DEADLINE 6.8, the BPF dmabuf iterator 6.16), probed; access to each",
      "heap and /dev/udmabuf (mode, owner, groups, ACL); CMA (CmaTotal/CmaFree, cma=, each area's size, use and",
      "largest free chunk); limits (udmabuf size_limit_mb, open files, cgroup memory.max where heaps are",
      "charged); and an allocation of --size (one page by default) from each heap, mapped and freed. A failed",
      "CMA allocation is explained: size (the area is smaller), in-use, fragmentation (the largest free chunk",
      "is smaller), or the errno.",
      "",
      "It changes nothing on the system except allocating and freeing its test buffers; every fix is printed,",
      "never applied. Check ids are stable (see the README); --json prints {kernel, checks: [{id, status,",
      "summary, detail, fix, ...}], counts}.",
      "",
      "Examples:",
      "  dmabuf doctor",
      "  dmabuf doctor --heap cma --size 96M",
      "  dmabuf doctor --json | jq -r '.checks[] | select(.status == \"fail\") | .fix'",
      "",
      "Exit status: 0 when no check failed (warn and skip allowed), 1 when one failed, 2 on a usage error.",
    ].join("\n"),
  },
});
