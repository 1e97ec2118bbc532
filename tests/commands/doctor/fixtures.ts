/**
 * Synthetic facts for the checks' unit tests: a healthy x86_64 board on Linux 6.12 run as root (the system
 * and CMA heaps, udmabuf, debugfs, tracefs, a 64 MiB CMA area), which each test breaks the way it needs.
 * @module
 */

import type { DeviceNode, Facts } from "../../../commands/doctor/facts.ts";
import { type DoctorResult, runDoctorChecks } from "../../../commands/doctor/runner.ts";
import { doctorChecks } from "../../../commands/doctor/checks/mod.ts";

const MiB = 1024 * 1024;
const PAGE = 4096;

/** A device node owned by root, mode 0600, that root may open. */
export function node(name: string, path = `/dev/dma_heap/${name}`): DeviceNode {
  return { name, path, target: null, exists: true, mode: 0o600, uid: 0, gid: 0, openError: null, acl: null };
}

/** The facts of a healthy 6.12 board as root. */
export function healthy(): Facts {
  return {
    request: { heap: null, resolvedHeap: null, size: null },
    kernel: {
      release: "6.12.118",
      version: { major: 6, minor: 12 },
      machine: "x86_64",
      pageSize: PAGE,
      cmdline: "console=ttyS0 cma=64M quiet",
    },
    config: {
      source: "/proc/config.gz",
      options: {
        CONFIG_DMABUF_HEAPS: "y",
        CONFIG_DMABUF_HEAPS_SYSTEM: "y",
        CONFIG_DMABUF_HEAPS_CMA: "y",
        CONFIG_CMA: "y",
        CONFIG_DMA_CMA: "y",
        CONFIG_CMA_SIZE_MBYTES: "64",
        CONFIG_UDMABUF: "y",
        CONFIG_MEMFD_CREATE: "y",
        CONFIG_SYNC_FILE: "y",
        CONFIG_SW_SYNC: "y",
        CONFIG_DEBUG_FS: "y",
        CONFIG_DMABUF_SYSFS_STATS: "y",
        CONFIG_FTRACE: "y",
      },
      tried: [],
    },
    user: {
      uid: 0,
      gid: 0,
      groups: [0],
      userNames: { 0: "root", 65534: "nobody" },
      groupNames: { 0: "root", 44: "video", 65534: "nogroup" },
    },
    heaps: {
      dir: "/dev/dma_heap",
      dirExists: true,
      nodes: [node("reserved"), node("system")],
      udmabuf: node("udmabuf", "/dev/udmabuf"),
      cmaHeap: "reserved",
    },
    mounts: {
      readable: true,
      debugfs: {
        device: "debugfs",
        mountPoint: "/sys/kernel/debug",
        fsType: "debugfs",
        options: "rw,relatime",
      },
      tracefs: {
        device: "tracefs",
        mountPoint: "/sys/kernel/tracing",
        fsType: "tracefs",
        options: "rw,relatime",
      },
      cgroup2: null,
    },
    debugfs: {
      bufinfo: { path: "/sys/kernel/debug/dma_buf/bufinfo", error: null },
      bufinfoBuffers: 0,
      swSync: { path: "/sys/kernel/debug/sync/sw_sync", error: null },
    },
    sysfsStats: { path: "/sys/kernel/dmabuf/buffers", error: null },
    trace: {
      tracefsDir: true,
      dmaFence: ["dma_fence_destroy", "dma_fence_emit", "dma_fence_init", "dma_fence_signaled"],
      dmaBuf: "ENOENT",
    },
    memory: { memAvailable: 1800 * MiB, cmaFree: 64 * MiB, cmaTotal: 64 * MiB },
    cma: {
      cmdline: "64M",
      areas: [{
        name: "reserved",
        sysfs: {
          allocPagesSuccess: 0,
          allocPagesFail: 0,
          releasePagesSuccess: 0,
          totalPages: null,
          availablePages: null,
        },
        debugfs: {
          dir: "/sys/kernel/debug/cma/reserved",
          count: 16384,
          used: 0,
          maxchunk: 16384,
          maxchunkFrom: "maxchunk",
          orderPerBit: 0,
        },
      }],
      sysfsError: null,
      debugfsError: null,
    },
    udmabufLimits: { parameters: true, sizeLimitMb: 64, listLimit: 1024 },
    limits: { openFiles: { pid: 1, limit: { soft: 1024, hard: 4096 } }, memAccounting: null, cgroup: null },
    features: {
      probeBuffer: "system",
      syncFileExported: true,
      exportSyncFile: { present: true, reason: "EINVAL to an invalid argument: the kernel knows the ioctl" },
      importSyncFile: { present: true, reason: "EINVAL to an invalid argument: the kernel knows the ioctl" },
      setDeadline: { present: true, reason: "EINVAL to an invalid argument: the kernel knows the ioctl" },
      bpfDmabufIter: { present: false, reason: "no /sys/kernel/btf/vmlinux" },
    },
    trials: ["reserved", "system", "udmabuf"].map((heap) => ({
      heap,
      size: PAGE,
      allocError: null,
      mapError: null,
      ms: 0.5,
      notTried: null,
    })),
  };
}

/** Runs the whole battery on `facts`. */
export function run(facts: Facts): DoctorResult[] {
  return runDoctorChecks(doctorChecks(facts), facts);
}

/** The result of check `id` on `facts`. */
export function result(facts: Facts, id: string): DoctorResult {
  const found = run(facts).find((r) => r.id === id);
  if (found === undefined) throw new Error(`no check ${id} in the battery`);
  return found;
}
