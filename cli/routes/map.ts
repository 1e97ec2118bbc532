import { buildCommand } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import { parseOffset, parsePath, parsePattern, parseSize } from "../../commands/toolkit/parse.ts";
import type { MapFlags } from "../../commands/map.ts";
import { bufferSelectFlags } from "../../commands/toolkit/flags.ts";
import { imageFlags, imageHelpLines } from "../../commands/image/flags.ts";

/** `dmabuf map`: map a dma-buf and read, write, fill or verify it. */
export const mapCommand = buildCommand<MapFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/map.ts")).map,
  parameters: {
    flags: {
      ...commonFlags,
      ...bufferSelectFlags,
      read: {
        kind: "boolean",
        default: false,
        withNegated: false,
        brief:
          "Read the range as a hexdump (at most 4 KiB unless --length) or into --out (the default action)",
      },
      offset: {
        kind: "parsed",
        parse: parseOffset,
        optional: true,
        placeholder: "OFFSET",
        brief: "Start of the range in bytes (default 0)",
      },
      length: {
        kind: "parsed",
        parse: parseSize,
        optional: true,
        placeholder: "LENGTH",
        brief: "Length of the range (default: to the end of the buffer)",
      },
      out: {
        kind: "parsed",
        parse: parsePath,
        optional: true,
        placeholder: "FILE",
        brief: "With --read: write the raw bytes of the range to FILE",
      },
      write: {
        kind: "parsed",
        parse: parsePath,
        optional: true,
        placeholder: "FILE",
        brief:
          "Copy FILE's bytes into the buffer at --offset (a device or pipe: as far as the buffer goes; SYNC write bracket)",
      },
      fill: {
        kind: "parsed",
        parse: parsePattern,
        optional: true,
        placeholder: "PATTERN",
        brief: "Fill the range: zero, a byte (0xa5), counter, random:SEED",
      },
      verify: {
        kind: "parsed",
        parse: parsePattern,
        optional: true,
        placeholder: "PATTERN",
        brief: "Check the range against a pattern; exit 1 with the first mismatching offset and bytes",
      },
      noSync: {
        kind: "boolean",
        default: false,
        withNegated: false,
        brief: "Do not bracket the access with DMA_BUF_IOCTL_SYNC START/END",
      },
      ...imageFlags,
    },
  },
  docs: {
    brief: "Map a dma-buf and read, write, fill or verify it",
    fullDescription: [
      "Selects a buffer (--fd N inherited, --pid P --fd N from another process via pidfd_getfd, or a fresh",
      "--heap/--size buffer), maps it shared (read-only unless writing) and performs one action on the range",
      "--offset/--length, between DMA_BUF_IOCTL_SYNC START and END of the matching direction (READ for",
      "--read/--verify, WRITE for --write/--fill; EINTR and EAGAIN are retried) unless --no-sync.",
      "A hexdump (hexdump -C format, repeated lines as *) shows at most 4 KiB unless --length is given;",
      "--out writes the whole range. Patterns are functions of the absolute buffer offset, so a range written",
      "by one process verifies in another.",
      "",
      ...imageHelpLines(),
      "",
      "Examples:",
      "  dmabuf alloc --size 1M --fill counter --exec -- dmabuf map --fd 3 --verify counter",
      "  dmabuf map --pid 1234 --fd 5 --read --offset 4K --length 64",
      "  dmabuf map --pid 1234 --fd 5 --fill random:7",
      "  dmabuf map --fd 3 --read --out frame.raw",
      "  dmabuf map --pid 1234 --fd 5 --image frame.png --fourcc YUYV --width 640 --height 360",
      "",
      "--json: {action, fd, size, offset, length, synced} plus hex (read), out (read --out), from (write),",
      "pattern (fill, verify), match and mismatch {offset, expected, actual} (verify);",
      "with --image: {path, width, height, stride, fourcc, offset, bytesRead, range, size}.",
      "",
      "Exit status: 0 success; 1 verify mismatch, fd not a dma-buf (says what it is), kernel errors;",
      "2 usage error (range outside the buffer, two actions, no buffer selected, a frame that does not fit",
      "in the buffer from --offset).",
    ].join("\n"),
  },
});
