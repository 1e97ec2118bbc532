import { notImplemented } from "./not_implemented.ts";

/** `dmabuf map`. */
export const mapCommand = notImplemented("map", "Map a dma-buf and read, write, fill or verify it");
