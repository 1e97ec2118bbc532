import { notImplemented } from "./not_implemented.ts";

/** `dmabuf alloc`. */
export const allocCommand = notImplemented("alloc", "Allocate dma-bufs from a heap or udmabuf");
