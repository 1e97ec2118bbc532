import { notImplemented } from "./not_implemented.ts";

/** `dmabuf fence-wait`. */
export const fenceWaitCommand = notImplemented("fence-wait", "Wait on a sync_file or a dma-buf's implicit fences");
