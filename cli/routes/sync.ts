import { notImplemented } from "./not_implemented.ts";

/** `dmabuf sync`. */
export const syncCommand = notImplemented("sync", "Issue DMA_BUF_IOCTL_SYNC start/end on a dma-buf");
