import { buildCommand } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import type { InfoFlags } from "../../commands/info.ts";
import { bufferSelectFlags } from "../../commands/toolkit/flags.ts";

/** `dmabuf info`: describe a dma-buf fd, or list a process's dma-bufs. */
export const infoCommand = buildCommand<InfoFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/info.ts")).info,
  parameters: { flags: { ...commonFlags, ...bufferSelectFlags } },
  docs: {
    brief: "Describe a dma-buf fd, or list every dma-buf fd and mapping of a process",
    fullDescription: [
      "With --fd N (this process) or --pid P --fd N: whether the fd is a dma-buf (if not, what it is, exit 1)",
      "and its inode, size, exporter, name, count (fdinfo: file references minus the read's own), open flags",
      "and how many mappings of it the process has. With --pid P alone: every dma-buf fd of P",
      "(/proc/P/fdinfo) and every dma-buf mapping (/proc/P/maps). With --heap/--size: a fresh buffer.",
      "Everything is read from /proc: nothing is duplicated or referenced (reading another user's process",
      "needs PTRACE_MODE_READ: same uid, or root).",
      "",
      "Examples:",
      "  dmabuf info --pid 1234",
      "  dmabuf info --pid 1234 --fd 5 --json",
      "  dmabuf alloc --size 1M --name probe --exec -- dmabuf info --fd 3",
      "",
      "--json (one fd): {pid, fd, inode, size, count, exporter, name, flags, cloexec, mappings};",
      "(--pid alone): {pid, comm, fds: [{fd, inode, size, count, exporter, name, flags, cloexec}],",
      "maps: [{start, end, vmaSize, perms, offset, inode, name}]}. flags is f_flags without O_CLOEXEC.",
      "",
      "Exit status: 0 success; 1 not a dma-buf, fd not open, no such process, /proc not readable;",
      "2 usage error.",
    ].join("\n"),
  },
});
