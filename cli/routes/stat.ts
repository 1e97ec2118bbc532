import { notImplemented } from "./not_implemented.ts";

/** `dmabuf stat`. */
export const statCommand = notImplemented("stat", "Show the system's dma-bufs (bufinfo, sysfs or /proc)");
