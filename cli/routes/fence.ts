import { buildRouteMap } from "@stricli/core";
import { notImplemented } from "./not_implemented.ts";

/** `dmabuf fence ...`. */
export const fenceRoutes = buildRouteMap({
  routes: {
    info: notImplemented("fence info", "Show a sync_file's fences"),
  },
  docs: { brief: "Export, import, merge, inspect sync_files; sw_sync test fences" },
});
