import { notImplemented } from "./not_implemented.ts";

/** `dmabuf bench`. */
export const benchCommand = notImplemented("bench", "Measure dma-buf operation latency and bandwidth");
