import { buildCommand, buildRouteMap } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import {
  parseDuration,
  parseFdNumber,
  parseNanoseconds,
  parsePid,
  parseSeqno,
} from "../../commands/toolkit/parse.ts";
import type { FenceDeadlineFlags } from "../../commands/fence/deadline.ts";
import type { FenceExportFlags } from "../../commands/fence/export.ts";
import type { FenceImportFlags } from "../../commands/fence/import.ts";
import type { FenceInfoFlags } from "../../commands/fence/info.ts";
import type { FenceMergeCommandFlags } from "../../commands/fence/merge.ts";
import type { SwSyncFlags } from "../../commands/fence/sw_sync.ts";
import { bufferSelectFlags, handOffFlags, handOffPositional } from "../../commands/toolkit/flags.ts";

const HAND_OFF_TEXT = [
  "  --hold [DURATION]  print 'ready pid=P fds=N' (--json: {pid, fds, ...}) and keep the fd until DURATION",
  "                     passes or SIGINT/SIGTERM; other processes take it with --pid P --fd N.",
  "  --exec -- CMD...   run CMD with the fd as 3 (DMABUF_FDS=3) and exit with its status.",
];

const syncFileFd = {
  kind: "parsed",
  parse: parseFdNumber,
  placeholder: "N",
  brief: "The sync_file at fd N of this process (or, with --pid, of process P)",
} as const;

const syncFilePid = {
  kind: "parsed",
  parse: parsePid,
  optional: true,
  placeholder: "P",
  brief: "Take the fd from process P (pidfd_getfd; needs ptrace permission over P)",
} as const;

const exportAccessFlags = {
  read: {
    kind: "boolean",
    default: false,
    withNegated: false,
    brief: "Export the writers' fences (what a CPU read waits for)",
  },
  write: {
    kind: "boolean",
    default: false,
    withNegated: false,
    brief: "Export all fences, readers' too (what a CPU write waits for; the default)",
  },
} as const;

const importAccessFlags = {
  read: { kind: "boolean", default: false, withNegated: false, brief: "Import as a read fence" },
  write: {
    kind: "boolean",
    default: false,
    withNegated: false,
    brief: "Import as a write fence (the default)",
  },
} as const;

const infoCommand = buildCommand<FenceInfoFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/fence/info.ts")).fenceInfo,
  parameters: { flags: { ...commonFlags, fd: syncFileFd, pid: syncFilePid } },
  docs: {
    brief: "Show a sync_file's fences (SYNC_IOC_FILE_INFO) without waiting",
    fullDescription: [
      "Prints the sync_file's name and overall status, and per fence the driver, timeline, status (active,",
      "signalled, or an error such as -ENOENT) and when it signalled. For a single sw_sync fence it also shows",
      "the deadline set on it (fence deadline, fence-wait --deadline), read with SW_SYNC_GET_DEADLINE (6.8+;",
      "needs sw_sync's debugfs file, so root). --json: {fd, pid, name, status, state, error, fences [{driver,",
      "timeline, status, state, error, flags, timestampNs}], deadlineNs} — deadlineNs is CLOCK_MONOTONIC ns,",
      "or null when none is set or it cannot be known (not one sw_sync fence, kernel before 6.8, no sw_sync).",
      "",
      "Examples:",
      "  dmabuf fence sw-sync --seqno 1 --exec -- dmabuf fence info --fd 3",
      "  dmabuf fence info --pid 1234 --fd 7 --json",
      "",
      "Exit status: 0; 1 fd not open, not a sync_file, process not reachable; 2 usage error.",
    ].join("\n"),
  },
});

const deadlineCommand = buildCommand<FenceDeadlineFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/fence/deadline.ts")).fenceDeadline,
  parameters: {
    flags: {
      ...commonFlags,
      fd: syncFileFd,
      pid: syncFilePid,
      in: {
        kind: "parsed",
        parse: parseDuration,
        optional: true,
        placeholder: "DURATION",
        brief: "The deadline DURATION from now (16ms, 1s)",
      },
      at: {
        kind: "parsed",
        parse: parseNanoseconds,
        optional: true,
        placeholder: "NS",
        brief: "The deadline at CLOCK_MONOTONIC time NS (as in sync_file timestamps and vblank events)",
      },
    },
  },
  docs: {
    brief: "Set a deadline hint on a sync_file (SYNC_IOC_SET_DEADLINE, Linux 6.8+)",
    fullDescription: [
      "Tells the drivers of the sync_file's fences (--fd N, or --pid P --fd N) that the result is wanted by",
      "a time: --in DURATION from now, or --at NS on CLOCK_MONOTONIC (exactly one). A hint: drivers with",
      "set_deadline (e.g. msm, i915's waitboost) may clock up; others ignore it; the earliest deadline set on a",
      "fence is kept. sw_sync records it, and fence info shows it back. --json: {fd, pid, deadlineNs, setAtNs}",
      "(CLOCK_MONOTONIC ns).",
      "",
      "Examples:",
      "  dmabuf fence sw-sync --seqno 1 --exec -- sh -c 'dmabuf fence deadline --fd 3 --in 16ms &&",
      "    dmabuf fence info --fd 3'",
      "  dmabuf fence deadline --pid 1234 --fd 7 --at 5123000000",
      "",
      "Exit status: 0 set; 1 kernel before 6.8 (ENOTTY), fd not a sync_file, process not reachable; 2 usage",
      "error (neither or both of --in and --at).",
    ].join("\n"),
  },
});

const exportCommand = buildCommand<FenceExportFlags, string[], DmabufContext>({
  loader: async () => (await import("../../commands/fence/export.ts")).fenceExport,
  parameters: {
    flags: { ...commonFlags, ...bufferSelectFlags, ...exportAccessFlags, ...handOffFlags },
    positional: handOffPositional,
  },
  docs: {
    brief: "Export a dma-buf's implicit fences as a sync_file (DMA_BUF_IOCTL_EXPORT_SYNC_FILE)",
    fullDescription: [
      "Exports the fences of a dma-buf (--fd N, --pid P --fd N, or a fresh --heap/--size buffer) as a sync_file:",
      "--read the writers', --write (default) all. An idle buffer gives an already signalled stub fence.",
      "Prints the sync_file like fence info; --json: {fd, access, inode, syncFile {...}}.",
      ...HAND_OFF_TEXT,
      "",
      "Examples:",
      "  dmabuf fence export --pid 1234 --fd 5 --write --exec -- dmabuf fence-wait --fd 3 --timeout 5s",
      "  dmabuf fence export --size 4K --json",
      "",
      "Exit status: 0; 1 kernel without the ioctl (Linux 6.0+), fd not a dma-buf, ...; 2 usage error;",
      "with --exec, the command's status.",
    ].join("\n"),
  },
});

const importCommand = buildCommand<FenceImportFlags, string[], DmabufContext>({
  loader: async () => (await import("../../commands/fence/import.ts")).fenceImport,
  parameters: {
    flags: {
      ...commonFlags,
      ...bufferSelectFlags,
      syncFile: {
        ...syncFileFd,
        brief: "The sync_file to import, at fd N of this process (or of --pid P, like --fd)",
      },
      ...importAccessFlags,
      ...handOffFlags,
    },
    positional: handOffPositional,
  },
  docs: {
    brief: "Add a sync_file's fences to a dma-buf as read or write fences (DMA_BUF_IOCTL_IMPORT_SYNC_FILE)",
    fullDescription: [
      "Imports the sync_file at --sync-file N into the dma-buf (--fd N, --pid P --fd N — both taken from P —",
      "or a fresh --heap/--size buffer) as a --write (default) or --read fence. Until it signals, CPU access",
      "(DMA_BUF_IOCTL_SYNC start), poll and fence-wait --dmabuf block, and bufinfo lists it: 5.19 to 6.x",
      "'write fence:sw_sync <timeline> seq N unsignalled', 7.2 'write fence:<context>:N <timeline> sw_sync",
      "unsignalled' (dmabuf stat reads both). --json: {fd, inode, access, syncFileFd, syncFile}.",
      ...HAND_OFF_TEXT.map((line) => line.replace("the fd", "the dma-buf")),
      "",
      "Examples:",
      "  dmabuf fence import --pid 1234 --fd 5 --sync-file 6 --write",
      "  dmabuf fence sw-sync --seqno 1 --stdin --exec -- \\",
      "    dmabuf fence import --size 1M --sync-file 3 --exec -- dmabuf sync --fd 3 --start --write",
      "",
      "Exit status: 0; 1 kernel without the ioctl (Linux 6.0+), not a sync_file / dma-buf, ...; 2 usage",
      "error; with --exec, the command's status.",
    ].join("\n"),
  },
});

const mergeCommand = buildCommand<FenceMergeCommandFlags, string[], DmabufContext>({
  loader: async () => (await import("../../commands/fence/merge.ts")).fenceMerge,
  parameters: {
    flags: {
      ...commonFlags,
      fd: {
        ...syncFileFd,
        variadic: true,
        brief: "A sync_file to merge; give it twice (or more: merged in order)",
      },
      pid: syncFilePid,
      name: {
        kind: "parsed",
        // Lazy: the limit is struct sync_merge_data's, from ffi/, which --help must not load.
        parse: async (input: string) =>
          (await import("../../commands/toolkit/buffer_name.ts")).parseMergeName(input),
        optional: true,
        placeholder: "NAME",
        brief: "Name of the merged sync_file (at most 31 bytes; default dmabuf-merge)",
      },
      ...handOffFlags,
    },
    positional: handOffPositional,
  },
  docs: {
    brief: "Merge sync_files into one that signals when all have (SYNC_IOC_MERGE)",
    fullDescription: [
      "Merges the sync_files at --fd A --fd B (of this process or of --pid P) and prints the result like fence",
      "info. --json: {fd, sources, pid, syncFile {...}}.",
      ...HAND_OFF_TEXT,
      "",
      "Examples:",
      "  dmabuf fence sw-sync --seqno 1 --seqno 2 --inc-after 1s --exec -- \\",
      "    dmabuf fence merge --fd 3 --fd 4 --exec -- dmabuf fence-wait --fd 3",
      "",
      "Exit status: 0; 1 not a sync_file, ...; 2 usage error (fewer than two --fd); with --exec, the command's",
      "status.",
    ].join("\n"),
  },
});

const swSyncCommand = buildCommand<SwSyncFlags, string[], DmabufContext>({
  loader: async () => (await import("../../commands/fence/sw_sync.ts")).fenceSwSync,
  parameters: {
    flags: {
      ...commonFlags,
      seqno: {
        kind: "parsed",
        parse: parseSeqno,
        variadic: true,
        optional: true,
        placeholder: "N",
        brief: "Create a fence that signals when the timeline reaches N (repeatable; default one at 1)",
      },
      incAfter: {
        kind: "parsed",
        parse: parseDuration,
        optional: true,
        placeholder: "DURATION",
        brief: "After DURATION, advance the timeline to the highest seqno (signals every fence)",
      },
      closeAfter: {
        kind: "parsed",
        parse: parseDuration,
        optional: true,
        placeholder: "DURATION",
        brief: "After DURATION, close the timeline: pending fences signal with -ENOENT",
      },
      stdin: {
        kind: "boolean",
        default: false,
        withNegated: false,
        brief: "Read commands from stdin: inc [N], close, status, quit",
      },
      ...handOffFlags,
    },
    positional: handOffPositional,
  },
  docs: {
    brief: "Make test fences on a sw_sync timeline (no GPU needed) and signal them on cue",
    fullDescription: [
      "Opens a sw_sync timeline (<debugfs>/sync/sw_sync, or /dev/sw_sync; CONFIG_SW_SYNC=y, debugfs mounted,",
      "root), creates a fence (sync_file) per --seqno, and keeps the timeline open while:",
      "  --inc-after DURATION   then advances it to the highest seqno (all fences signal),",
      "  --close-after DURATION then closes it (pending fences signal with -ENOENT: the error path),",
      "  --stdin                commands on stdin: 'inc [N]' advances by N (default 1), 'close' closes the",
      "                         timeline, 'status' reports on stderr, 'quit' closes and ends the hold.",
      "Timeline names are the opener's comm (e.g. deno); the fence name field is ignored by 6.1 kernels.",
      "The fences go to a command or another process:",
      "  --exec -- CMD...       CMD gets the fences as fds 3, 4, ... (DMABUF_FDS); exit with its status.",
      "                         The timeline is not passed on, so only this process can advance or close it.",
      "  --hold [DURATION]      print 'ready pid=P fds=N,...' and keep going until DURATION, SIGINT/SIGTERM or",
      "                         'quit'; other processes take the fences with --pid P --fd N.",
      "Without either, the ready line is printed too and dmabuf lives until the --inc-after/--close-after steps",
      "have run and stdin (with --stdin) ends. The timeline is closed on exit. Progress notes go to stderr.",
      "--json ready document: {pid, fds, timeline {path, value}, fences [{seqno, fd}]}.",
      "",
      "Examples:",
      "  dmabuf fence sw-sync --seqno 1 --inc-after 500ms --exec -- dmabuf fence-wait --fd 3",
      "  dmabuf fence sw-sync --seqno 1 --close-after 500ms --exec -- dmabuf fence-wait --fd 3  # exit 1, -ENOENT",
      "  dmabuf fence sw-sync --seqno 1 --seqno 2 --stdin --hold   # then type: inc 1, status, inc 1, quit",
      "",
      "Exit status: 0; 1 no sw_sync (names what is missing); 2 usage error; with --exec, the command's status.",
    ].join("\n"),
  },
});

/** `dmabuf fence ...`. */
export const fenceRoutes = buildRouteMap({
  routes: {
    info: infoCommand,
    deadline: deadlineCommand,
    export: exportCommand,
    import: importCommand,
    merge: mergeCommand,
    "sw-sync": swSyncCommand,
  },
  docs: { brief: "Export, import, merge, inspect sync_files, set deadlines; sw_sync test fences" },
});
