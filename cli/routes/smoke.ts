import { buildCommand } from "@stricli/core";
import { heapSetFlags } from "./heap_set_flags.ts";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import type { SmokeFlags } from "../../commands/smoke/mod.ts";
import { REPORT_FORMATS } from "../../commands/toolkit/flags.ts";
import { parsePath } from "../../commands/toolkit/parse.ts";

/** `dmabuf smoke`: the board bring-up battery. */
export const smokeCommand = buildCommand<SmokeFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/smoke/mod.ts")).smoke,
  parameters: {
    flags: {
      ...commonFlags,
      ...heapSetFlags,
      format: {
        kind: "enum",
        values: REPORT_FORMATS,
        optional: true,
        brief:
          "Report format: human (default), tap (TAP 13), junit (JUnit XML), json (same as --json), ktap (KTAP 1), lava (LAVA signals)",
      },
      output: {
        kind: "parsed",
        parse: parsePath,
        optional: true,
        placeholder: "FILE",
        brief: "Write the report to FILE instead of stdout (a summary line goes to stderr)",
      },
    },
  },
  docs: {
    brief: "Run the board bring-up battery: does this kernel's dma-buf stack work?",
    fullDescription: [
      "For every dma-heap (or each --heap) and udmabuf when present, checks: the device opens; allocation of",
      "4 KiB, 1 MiB and 16 MiB (capped at half of CmaFree for the CMA heap, at size_limit_mb for udmabuf);",
      "lseek(SEEK_END) equals the size rounded up to whole pages of the kernel's page size; new buffers read",
      "as zeros; mmap write/verify of a pattern inside DMA_BUF_IOCTL_SYNC brackets; DMA_BUF_SET_NAME shows in",
      "fdinfo and in debugfs bufinfo;",
      "DMA_BUF_IOCTL_EXPORT_SYNC_FILE of an idle buffer is signalled (6.0+); the documented EINVAL cases",
      "(len 0, fd_flags outside O_CLOEXEC|O_ACCMODE, heap_flags != 0, undefined SYNC flags; for udmabuf an",
      "unsealed memfd and an unaligned size); and that no fd is left open afterwards.",
      "A feature the kernel lacks is skipped with the reason (TAP '# SKIP', JUnit <skipped>), never passed.",
      "A progress line is shown on stderr when it is a terminal. TAP, KTAP and LAVA on stdout are streamed: each",
      "result as its check finishes (TAP: the plan first; KTAP: heaps in run order, then the battery group).",
      "",
      "--heap-dir points the battery at another directory of heap nodes. An entry there that is not a dma-heap",
      "fails: e.g. 'dmabuf smoke --heap-dir /dev --heap null' fails its allocations with ENOTTY.",
      "",
      "Examples:",
      "  dmabuf smoke",
      "  dmabuf smoke --heap system --format tap",
      "  dmabuf smoke --format junit --output /tmp/dmabuf-smoke.xml",
      "  dmabuf smoke --json | jq '.summary'",
      "  dmabuf smoke --format ktap > smoke.ktap && python3 linux/tools/testing/kunit/kunit.py parse smoke.ktap",
      "  dmabuf smoke --format lava",
      "",
      "--heap-dir and --output are checked before the battery runs.",
      "",
      "Exit status: 0 when no check failed (skips allowed); 1 when any check failed or --heap-dir/--output",
      "cannot be used; 2 on a usage error.",
    ].join("\n"),
  },
});
