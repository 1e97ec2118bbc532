/**
 * Kernel support: the configuration, /dev/dma_heap and each heap kind, udmabuf, sync_file and sw_sync,
 * debugfs and bufinfo, the sysfs statistics, tracefs and the dma_fence and dma_buf events. A missing piece
 * is named with the `CONFIG_` options the configuration lacks for it, or the command that makes it appear.
 * @module
 */

import { DEFAULT_DEBUGFS } from "../../../ffi/text/mounts.ts";
import { TRACEFS_MOUNT_COMMAND, TRACEFS_PATH } from "../../../ffi/tracefs.ts";
import { SYSFS_BUFFERS_DIR } from "../../../ffi/sysfs_stats.ts";
import { SW_SYNC_DEBUGFS_PATH } from "../../../ffi/sw_sync.ts";
import type { MountEntry } from "../../../ffi/text/mounts.ts";
import type { Facts } from "../facts.ts";
import type { DoctorCheck, Verdict } from "../runner.ts";
import {
  atLeast,
  cmaAreaOf,
  cmaDuplicateOf,
  isCmaHeap,
  linuxName,
  missingOptions,
  option,
  optionsLine,
} from "../model.ts";

/** The command that mounts debugfs, and its /etc/fstab line. */
export const DEBUGFS_MOUNT_FIX =
  `mount -t debugfs none ${DEFAULT_DEBUGFS} (at boot: debugfs ${DEFAULT_DEBUGFS} debugfs defaults 0 0 in /etc/fstab)`;

/** A mount as /proc/self/mounts prints it, without the dump and pass fields. */
export function mountLine(mount: MountEntry): string {
  return `${mount.device} ${mount.mountPoint} ${mount.fsType} ${mount.options}`;
}

/**
 * The fix for a kernel piece that is missing: `modprobe MODULE` when the configuration has it as a module,
 * the options the configuration lacks, or (configuration unreadable) every option it needs.
 */
function enableFix(facts: Facts, options: readonly string[], module: string | null): string {
  const main = options.at(-1)!;
  if (module !== null && option(facts, main) === "m") return `modprobe ${module} (${main}=m)`;
  const missing = missingOptions(facts, options);
  if (facts.config.options === null) {
    return `a kernel with ${optionsLine(options)} (its configuration is not readable here)`;
  }
  if (missing.length === 0) {
    return `the configuration has ${
      optionsLine(options)
    }: mount devtmpfs on /dev (mount -t devtmpfs devtmpfs /dev) so the device node appears`;
  }
  return `a kernel with ${optionsLine(missing)}`;
}

function configCheck(facts: Facts): Verdict {
  const { source, options, tried } = facts.config;
  if (source !== null && options !== null) {
    return {
      status: "ok",
      summary: `${source}: ${Object.keys(options).length} options`,
      data: { source },
    };
  }
  return {
    status: "warn",
    summary: "the running kernel's configuration is not readable, so missing options cannot be named",
    detail: `tried ${tried.map((t) => `${t.path} (${t.error})`).join(", ")}`,
    fix:
      `CONFIG_IKCONFIG=y and CONFIG_IKCONFIG_PROC=y (modprobe configs where CONFIG_IKCONFIG=m), or install the kernel's config as /boot/config-${facts.kernel.release}`,
  };
}

const HEAP_OPTIONS = ["CONFIG_DMABUF_HEAPS", "CONFIG_DMABUF_HEAPS_SYSTEM"];

function dmaHeapCheck(facts: Facts): Verdict {
  const { dir, dirExists, nodes } = facts.heaps;
  if (dirExists && nodes.length > 0) {
    return {
      status: "ok",
      summary: `${dir}: ${nodes.map((n) => n.name).join(", ")}`,
      data: { heaps: nodes.length },
    };
  }
  const udmabuf = facts.heaps.udmabuf === null ? "" : "; only udmabuf can make dma-bufs";
  return {
    status: "fail",
    summary: dirExists
      ? `${dir} has no heaps${udmabuf}`
      : `no ${dir}: the kernel offers no dma-heaps${udmabuf}`,
    fix: enableFix(facts, HEAP_OPTIONS, "system_heap"),
    data: { heaps: 0 },
  };
}

function systemHeapCheck(facts: Facts): Verdict {
  const node = facts.heaps.nodes.find((n) => n.name === "system");
  if (node !== undefined) return { status: "ok", summary: `${node.path}` };
  return {
    status: "warn",
    summary: `no system heap in ${facts.heaps.dir}`,
    fix: enableFix(facts, HEAP_OPTIONS, "system_heap"),
  };
}

function cmaHeapCheck(facts: Facts): Verdict {
  const heap = facts.heaps.cmaHeap;
  if (heap !== null) {
    const others = facts.heaps.nodes.map((n) => n.name).filter((name) =>
      cmaDuplicateOf(facts, name) === heap
    );
    const area = cmaAreaOf(facts, heap);
    const also = others.length === 0 ? "" : ` (also listed as ${others.join(", ")}: the same CMA area)`;
    return {
      status: "ok",
      summary: `${facts.heaps.dir}/${heap}${also}${area === null ? "" : `, CMA area ${area.name}`}`,
      data: { heap, area: area?.name ?? null },
    };
  }
  const otherCma = facts.heaps.nodes.filter((n) => isCmaHeap(facts, n.name));
  const summary = `no heap for the default CMA area in ${facts.heaps.dir}` +
    (otherCma.length === 0 ? "" : ` (other CMA heaps: ${otherCma.map((n) => n.name).join(", ")})`);
  const options = ["CONFIG_CMA", "CONFIG_DMA_CMA", "CONFIG_DMABUF_HEAPS", "CONFIG_DMABUF_HEAPS_CMA"];
  const configured = facts.config.options !== null && missingOptions(facts, options).length === 0;
  const total = facts.memory.cmaTotal;
  if (configured && option(facts, "CONFIG_DMABUF_HEAPS_CMA") === "y" && (total === null || total === 0)) {
    return {
      status: "warn",
      summary: `${summary}: the kernel reserved no CMA area (CmaTotal ${total === null ? "absent" : "0"})`,
      fix: "cma=64M on the kernel command line (or CONFIG_CMA_SIZE_MBYTES=64)",
    };
  }
  return { status: "warn", summary, fix: enableFix(facts, options, "cma_heap") };
}

function udmabufCheck(facts: Facts): Verdict {
  const node = facts.heaps.udmabuf;
  if (node !== null) return { status: "ok", summary: node.path };
  return {
    status: "warn",
    summary: "no /dev/udmabuf: memfds cannot be turned into dma-bufs",
    fix: enableFix(facts, ["CONFIG_MEMFD_CREATE", "CONFIG_UDMABUF"], "udmabuf"),
  };
}

function syncFileCheck(facts: Facts): Verdict {
  if (facts.features.syncFileExported) {
    return {
      status: "ok",
      summary: "a sync_file was exported from a dma-buf (DMA_BUF_IOCTL_EXPORT_SYNC_FILE)",
    };
  }
  const state = option(facts, "CONFIG_SYNC_FILE");
  if (state === "y") return { status: "ok", summary: "CONFIG_SYNC_FILE=y" };
  if (state === "unknown") {
    return {
      status: "skip",
      summary:
        "no sync_file could be made without a fence source, and the kernel's configuration is not readable",
      fix: "make the configuration readable (CONFIG_IKCONFIG_PROC=y) so doctor can tell",
    };
  }
  return {
    status: "warn",
    summary: "the kernel has no sync_file: fences cannot be exported, imported or waited on from userspace",
    fix: "a kernel with CONFIG_SYNC_FILE=y",
  };
}

function swSyncCheck(facts: Facts): Verdict {
  const file = facts.debugfs.swSync;
  const state = option(facts, "CONFIG_SW_SYNC");
  const enable = "a kernel with CONFIG_SW_SYNC=y (which needs CONFIG_SYNC_FILE=y and CONFIG_DEBUG_FS=y)";
  if (file !== null && file.error === null) return { status: "ok", summary: file.path };
  if (state === "n" || state === "absent") {
    return { status: "warn", summary: "the kernel has no sw_sync (CONFIG_SW_SYNC is not set)", fix: enable };
  }
  if (file === null) {
    const summary = state === "y"
      ? "CONFIG_SW_SYNC=y, but its timeline file is in debugfs, which is not mounted"
      : "sw_sync's file is in debugfs, which is not mounted";
    return { status: state === "y" ? "warn" : "skip", summary, fix: DEBUGFS_MOUNT_FIX };
  }
  if (file.error === "EACCES" || file.error === "EPERM") {
    return {
      status: state === "y" ? "warn" : "skip",
      summary: `${file.path}: ${file.error}; debugfs is root-only` +
        (state === "y" ? " (CONFIG_SW_SYNC=y)" : ""),
      fix: "run as root (sw_sync timelines live in debugfs, which only root may enter)",
    };
  }
  return { status: "warn", summary: `${file.path}: ${file.error}`, fix: enable };
}

/**
 * What `dmabuf stat` reads here when bufinfo cannot be read, in its own order (`--source auto`): the BPF
 * iterator when dmabuf's program ran in this process, sysfs statistics when readable, else the /proc scan.
 */
function statFallback(facts: Facts): string {
  if (facts.features.bpfDmabufIter.usable === true) {
    return "the BPF iterator, which lists every buffer as bufinfo does";
  }
  if (facts.sysfsStats.error === null) return "sysfs statistics (named by a /proc scan)";
  return "a scan of the processes you may read (/proc), which misses buffers no process holds";
}

function debugfsCheck(facts: Facts): Verdict {
  const mount = facts.mounts.debugfs;
  if (mount !== null) {
    return { status: "ok", summary: mountLine(mount), data: { mountPoint: mount.mountPoint } };
  }
  if (!facts.mounts.readable) {
    return { status: "skip", summary: "/proc/self/mounts is not readable", fix: "mount -t proc proc /proc" };
  }
  const without = `without it: no bufinfo (dmabuf stat falls back to ${statFallback(facts)}), ` +
    "no sw_sync, no CMA chunk sizes";
  const state = option(facts, "CONFIG_DEBUG_FS");
  if (state === "n" || state === "absent") {
    return {
      status: "warn",
      summary: "the kernel has no debugfs",
      detail: without,
      fix: "a kernel with CONFIG_DEBUG_FS=y",
    };
  }
  return { status: "warn", summary: "debugfs is not mounted", detail: without, fix: DEBUGFS_MOUNT_FIX };
}

function bufinfoCheck(facts: Facts): Verdict {
  const file = facts.debugfs.bufinfo!;
  if (file.error === null) {
    return {
      status: "ok",
      summary: `${file.path}: ${facts.debugfs.bufinfoBuffers ?? "?"} buffers`,
      data: { buffers: facts.debugfs.bufinfoBuffers },
    };
  }
  if (file.error === "EACCES" || file.error === "EPERM") {
    return {
      status: "warn",
      summary: `${file.path}: ${file.error}; debugfs is root-only (usually mode 0700)`,
      detail: `dmabuf stat falls back to ${statFallback(facts)}`,
      fix: "run as root to see every buffer (sudo dmabuf stat)",
    };
  }
  return {
    status: "warn",
    summary: `${file.path}: ${file.error}`,
    fix: "a kernel with CONFIG_DMA_SHARED_BUFFER=y and CONFIG_DEBUG_FS=y",
  };
}

function sysfsStatsCheck(facts: Facts): Verdict {
  const { path, error } = facts.sysfsStats;
  if (error === null) return { status: "ok", summary: path };
  const state = option(facts, "CONFIG_DMABUF_SYSFS_STATS");
  const fallback = facts.features.bpfDmabufIter.usable === true
    ? "dmabuf stat reads bufinfo (root) or the BPF iterator instead"
    : "dmabuf stat reads bufinfo (root) or scans /proc instead";
  // The option existed from 5.13 and was removed later; without a configuration, the version says whether
  // this kernel could have it.
  const couldHave = state === "n" ||
    (state === "unknown" && atLeast(facts, 5, 13) === true && atLeast(facts, 6, 19) === false);
  if (state === "absent" || (state === "unknown" && !couldHave)) {
    return {
      status: "ok",
      summary: `${
        linuxName(facts)
      } has no dma-buf sysfs statistics (the deprecated option came in 5.13 and was later removed); ${fallback}`,
      data: { present: false },
    };
  }
  return {
    status: "warn",
    summary: `no ${SYSFS_BUFFERS_DIR} (${error}); ${fallback}`,
    fix:
      "a kernel with CONFIG_DMABUF_SYSFS_STATS=y (deprecated; only needed for a world-readable buffer list)",
    data: { present: false },
  };
}

function tracefsCheck(facts: Facts): Verdict {
  const mount = facts.mounts.tracefs;
  if (mount !== null) {
    return { status: "ok", summary: mountLine(mount), data: { mountPoint: mount.mountPoint } };
  }
  if (facts.trace.tracefsDir) {
    return { status: "warn", summary: "tracefs is not mounted", fix: TRACEFS_MOUNT_COMMAND };
  }
  return {
    status: "warn",
    summary: `the kernel has no tracefs (no ${TRACEFS_PATH})`,
    fix: "a kernel with CONFIG_FTRACE=y",
  };
}

function eventsCheck(facts: Facts, system: "dma_fence" | "dma_buf"): Verdict {
  const events = system === "dma_fence" ? facts.trace.dmaFence : facts.trace.dmaBuf;
  const dir = `${facts.mounts.tracefs?.mountPoint ?? TRACEFS_PATH}/events/${system}`;
  if (Array.isArray(events)) {
    return { status: "ok", summary: `${dir}: ${events.join(", ")}`, data: { events: events.length } };
  }
  if (events === "EACCES" || events === "EPERM") {
    return { status: "skip", summary: `${dir}: ${events}; tracefs is root-only`, fix: "run as root" };
  }
  if (system === "dma_fence") {
    return {
      status: "warn",
      summary: `no ${dir} (${events})`,
      fix: "a kernel with CONFIG_FTRACE=y and CONFIG_DMA_SHARED_BUFFER=y",
    };
  }
  return {
    status: "warn",
    summary: `no ${dir}: ${linuxName(facts)} has no dma_buf tracepoints (buffer export, fd, map, attach)`,
    fix:
      "a newer kernel for buffer events (7.2 has events/dma_buf); dmabuf trace follows fences without them",
  };
}

/** The kernel-support checks, in order. */
export function kernelChecks(): DoctorCheck[] {
  const check = (id: string, title: string, requires: string[], run: (f: Facts) => Verdict): DoctorCheck => ({
    id: `kernel.${id}`,
    section: "kernel",
    title,
    requires: requires.map((r) => `kernel.${r}`),
    run,
  });
  return [
    check("config", "the running kernel's configuration is readable", [], configCheck),
    check("dma-heap", "/dev/dma_heap exists and has heaps", [], dmaHeapCheck),
    check("heap-system", "the system heap", ["dma-heap"], systemHeapCheck),
    check("heap-cma", "a heap for the default CMA area", ["dma-heap"], cmaHeapCheck),
    check("udmabuf", "/dev/udmabuf", [], udmabufCheck),
    check("sync-file", "sync_file (CONFIG_SYNC_FILE)", [], syncFileCheck),
    check("sw-sync", `sw_sync (debugfs ${SW_SYNC_DEBUGFS_PATH}), looked at, never opened`, [], swSyncCheck),
    check("debugfs", "debugfs is mounted", [], debugfsCheck),
    check("bufinfo", "debugfs dma_buf/bufinfo is readable", ["debugfs"], bufinfoCheck),
    check("sysfs-stats", `dma-buf sysfs statistics (${SYSFS_BUFFERS_DIR})`, [], sysfsStatsCheck),
    check("tracefs", "tracefs is mounted", [], tracefsCheck),
    check("trace-dma-fence", "tracefs events/dma_fence", ["tracefs"], (f) => eventsCheck(f, "dma_fence")),
    check("trace-dma-buf", "tracefs events/dma_buf", ["tracefs"], (f) => eventsCheck(f, "dma_buf")),
  ];
}
