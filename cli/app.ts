/**
 * The command tree. Only parameter specs and docs live here; every command body is imported lazily when it
 * runs, so `dmabuf --help` loads no FFI code.
 * @module
 */

import { buildApplication, buildRouteMap } from "@stricli/core";
import type { DmabufContext } from "../commands/toolkit/context.ts";
import { allocCommand } from "./routes/alloc.ts";
import { benchCommand } from "./routes/bench.ts";
import { doctorCommand } from "./routes/doctor.ts";
import { fenceRoutes } from "./routes/fence.ts";
import { fenceWaitCommand } from "./routes/fence_wait.ts";
import { heapsCommand } from "./routes/heaps.ts";
import { infoCommand } from "./routes/info.ts";
import { mapCommand } from "./routes/map.ts";
import { smokeCommand } from "./routes/smoke.ts";
import { statCommand } from "./routes/stat.ts";
import { syncCommand } from "./routes/sync.ts";
import { traceCommand } from "./routes/trace.ts";
import { text } from "./text.ts";
import { exitCodeOf } from "./errors.ts";

/** The tool's version (kept equal to package.json's). */
export const VERSION = "0.1.0";

const routes = buildRouteMap({
  routes: {
    heaps: heapsCommand,
    alloc: allocCommand,
    map: mapCommand,
    sync: syncCommand,
    info: infoCommand,
    "fence-wait": fenceWaitCommand,
    fence: fenceRoutes,
    stat: statCommand,
    trace: traceCommand,
    smoke: smokeCommand,
    doctor: doctorCommand,
    bench: benchCommand,
  },
  docs: {
    brief: "Inspect and exercise Linux dma-bufs, dma-heaps and sync_files",
    fullDescription: [
      "Every command takes --json (one JSON document on stdout), --verbose and --color auto|always|never.",
      "Sizes: 4096, 4K, 4KiB, 1M, 1MiB, 1G, 0x1000. Durations: 500ms, 2s, 1m.",
      "",
      "Exit status: 0 success, 1 runtime or kernel failure, 2 usage error, 124 timeout (fence-wait),",
      "130 interrupted (SIGINT), 141 stdout's reader gone (fence-wait), 143 terminated (SIGTERM);",
      "alloc/fence --exec exit with the child's status. A command that waits or repeats ends once stdout's",
      "reader is gone (dmabuf stat --watch | head), as vmstat does.",
    ].join("\n"),
  },
});

/** The stricli application. */
export const app = buildApplication<DmabufContext>(routes, {
  name: "dmabuf",
  versionInfo: { currentVersion: VERSION },
  scanner: { caseStyle: "allow-kebab-for-camel", allowArgumentEscapeSequence: true },
  documentation: { caseStyle: "convert-camel-to-kebab" },
  localization: { text },
  determineExitCode: exitCodeOf,
});
