import { notImplemented } from "./not_implemented.ts";

/** `dmabuf info`. */
export const infoCommand = notImplemented("info", "Show what a dma-buf fd is, or every dma-buf of a process");
