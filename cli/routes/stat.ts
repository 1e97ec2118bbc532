import { buildCommand } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import { parseCount, parseInterval, parsePath, parseSize } from "../../commands/toolkit/parse.ts";
import type { StatFlags } from "../../commands/stat/mod.ts";
import { DEFAULT_WATCH_MS } from "../../commands/toolkit/flags.ts";
import { parseGlob } from "../../commands/toolkit/glob.ts";

/** The shortest `--watch` interval: a refresh reads every buffer (and with --procs every process). */
const MIN_WATCH_MS = 100;

/**
 * `--watch` with no value means the default interval; 0 is refused as any interval is; shorter than
 * {@link MIN_WATCH_MS} is raised to it.
 */
function parseWatch(input: string): number {
  if (input === "") return DEFAULT_WATCH_MS;
  return Math.max(parseInterval(input), MIN_WATCH_MS);
}

/** `dmabuf stat`: the system's dma-bufs. */
export const statCommand = buildCommand<StatFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/stat/mod.ts")).stat,
  parameters: {
    flags: {
      ...commonFlags,
      source: {
        kind: "enum",
        values: ["auto", "debugfs", "bpf", "sysfs", "proc"],
        default: "auto",
        brief:
          "Where to read: debugfs bufinfo, the BPF iterator, sysfs stats, a /proc scan, or auto (first that works)",
      },
      input: {
        kind: "parsed",
        parse: parsePath,
        optional: true,
        placeholder: "FILE",
        brief:
          "Analyse a bufinfo captured elsewhere (or a saved stat --json) instead of this system; - = stdin",
      },
      procs: {
        kind: "boolean",
        default: false,
        withNegated: false,
        brief: "Per process: fd refs, map refs, size and PSS; per buffer: which pids hold it",
      },
      sort: {
        kind: "enum",
        values: ["size", "inode", "exporter", "name", "count"],
        default: "size",
        brief: "Order of buffers (size and count descending, the others ascending)",
      },
      exporter: {
        kind: "parsed",
        parse: String,
        optional: true,
        placeholder: "NAME",
        brief: "Only buffers of this exporter (exact, e.g. system, linux,cma, udmabuf, drm)",
      },
      name: {
        kind: "parsed",
        parse: parseGlob,
        optional: true,
        placeholder: "GLOB",
        brief: "Only buffers whose name matches (*, ?, [..]); unnamed buffers match as <none>",
      },
      minSize: {
        kind: "parsed",
        parse: parseSize,
        optional: true,
        placeholder: "SIZE",
        brief: "Only buffers of at least SIZE (4096, 4K, 1M)",
      },
      watch: {
        kind: "parsed",
        parse: parseWatch,
        optional: true,
        inferEmpty: true,
        placeholder: "INTERVAL",
        brief: "Refresh every INTERVAL (default 2s), marking buffers that appeared (+) or disappeared (-)",
      },
      iterations: {
        kind: "parsed",
        parse: parseCount,
        optional: true,
        placeholder: "N",
        brief: "With --watch: stop after N refreshes",
      },
      compare: {
        kind: "parsed",
        parse: parsePath,
        optional: true,
        placeholder: "FILE",
        brief: "Show buffers added and freed since FILE (a saved stat --json or a bufinfo)",
      },
    },
  },
  docs: {
    brief:
      "Show the system's dma-bufs (bufinfo, BPF, sysfs or /proc), per process, offline, watch or compare",
    fullDescription: [
      "Lists every dma-buf: inode, size, exporter, name, count, attached devices and fences, then totals per",
      "exporter and overall. The first line says which source was used:",
      "  debugfs  <debugfs>/dma_buf/bufinfo (found via /proc/mounts; needs root): everything, any kernel format",
      "  bpf      the BPF iterator iter/dmabuf (Linux 6.16+ with BTF; CAP_BPF + CAP_PERFMON): every buffer",
      "           without debugfs; all but fences; nothing needed on the target but dmabuf",
      "  sysfs    /sys/kernel/dmabuf/buffers (v5.13-v6.18): size and exporter; names joined from a /proc scan",
      "  proc     /proc/*/fdinfo + /proc/*/maps of the processes you may read: buffers held by them only",
      "auto (the default) uses the first that works, in this order, and says on stderr why the others were",
      "not used.",
      "Fields a source cannot know print as ? (JSON null).",
      "",
      "count is the number of references to the buffer's file (fds in all processes + mmaps + kernel refs):",
      "bufinfo prints file_count, fdinfo prints file_count - 1 to leave out its own read's reference; both",
      "are the same quantity.",
      "",
      "Examples:",
      "  sudo dmabuf stat",
      "  dmabuf stat --procs --exporter system",
      "  dmabuf stat --input bufinfo-from-board.txt --sort count --name 'cam*'",
      "  dmabuf stat --json > before.json; ...; dmabuf stat --compare before.json",
      "  dmabuf stat --watch 1s --min-size 1M",
      "",
      "JSON: {source, sourcePath, generation, buffers: [{inode, size, exporter, name, count, flags, mode,",
      "attachments, fences: [{usage, driver, timeline, seq, signalled}]}], totals: {count, bytes, byExporter},",
      "unparsed}; --procs adds processes [{pid, comm, fdRefs, mapRefs, bytes, pss, buffers}], skippedProcesses",
      "and per buffer holders; --compare prints {source, sourcePath, compareWith, added, freed, bytesDelta}.",
      "",
      "Exit status: 0 ok (also when Ctrl-C ends --watch); 1 when an explicit --source is unavailable (why, and",
      "how to fix it) or an --input/--compare file is unreadable or not bufinfo; 2 usage error.",
    ].join("\n"),
  },
});
