import { notImplemented } from "./not_implemented.ts";

/** `dmabuf smoke`. */
export const smokeCommand = notImplemented("smoke", "Run the board bring-up battery");
