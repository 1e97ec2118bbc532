/**
 * Reads everything `dmabuf doctor` decides on (see {@link Facts}) from the running system: procfs, sysfs,
 * debugfs and tracefs where mounted and readable, the device nodes, the kernel's configuration and BTF; and
 * tries what can only be tried: opening each device, allocating, mapping and freeing a buffer of each heap,
 * and the version-gated ioctls with arguments the kernel refuses. It changes nothing else: sw_sync is looked
 * at but never opened (opening it makes a timeline; 7.2 taints the kernel for a fence on one), and the
 * tracefs automount under debugfs is never touched.
 * @module
 */

import { readPosixAcl } from "../../ffi/acl.ts";
import { readCmaAreas } from "../../ffi/cma.ts";
import type { DmaBuf } from "../../ffi/dma_buf.ts";
import {
  CMA_ALIAS,
  DmaHeap,
  HEAP_DIR,
  listHeaps,
  resolveHeapName,
  UDMABUF_HEAP,
  UDMABUF_PATH,
} from "../../ffi/dma_heap.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { Fd, listDir, OpenFlags, openPath, readLink, readProcSysFile, stat } from "../../ffi/fd.ts";
import { probeExportSyncFile, probeImportSyncFile, probeSetDeadline } from "../../ffi/feature_probe.ts";
import type { IoctlProbe } from "../../ffi/feature_probe.ts";
import { readKernelConfig } from "../../ffi/kernel_config.ts";
import { readMounts } from "../../ffi/procfs.ts";
import { SYSFS_BUFFERS_DIR } from "../../ffi/sysfs_stats.ts";
import { SW_SYNC_DEBUGFS_PATH } from "../../ffi/sw_sync.ts";
import { parseGroups, parsePasswd } from "../../ffi/text/accounts.ts";
import { BUFINFO_IN_DEBUGFS, DEFAULT_DEBUGFS, type MountEntry, parseMounts } from "../../ffi/text/mounts.ts";
import { parseCgroupV2Path, parseLimits, parseStatusIds } from "../../ffi/text/process.ts";
import { TRACEFS_PATH, tracefsMounts } from "../../ffi/tracefs.ts";
import { allocUdmabuf, UDMABUF_DEFAULT_LIMIT_MB } from "../../ffi/udmabuf.ts";
import { pageAlign, pageSize } from "../../ffi/page_size.ts";
import { formatBytes } from "../toolkit/units.ts";
import { memoryLeft } from "../heap_errors.ts";
import { probeBpfDmabufIter } from "./bpf_probe.ts";
import type {
  AllocTrial,
  DeviceNode,
  Facts,
  FeatureFacts,
  FeatureProbe,
  FileState,
  LimitFacts,
  TraceFacts,
  UdmabufLimitFacts,
  UserFacts,
} from "./facts.ts";
import { cmaDuplicateOf, isCmaHeap, nodeOf, parseVersion, targets } from "./model.ts";

/** What the user asked for. */
export interface GatherOptions {
  /** `--heap`, or null for every heap and udmabuf. */
  heap: string | null;
  /** `--size` in bytes, or null for one page. */
  size: number | null;
}

/** The name doctor's own buffers get in memfds (udmabuf), to be recognisable while they live. */
const BUFFER_NAME = "dmabuf-doctor";
/** udmabuf's module parameters. */
const UDMABUF_PARAMETERS = "/sys/module/udmabuf/parameters";
/** dma-heap's `mem_accounting` parameter (7.x). */
const MEM_ACCOUNTING = "/sys/module/dma_heap/parameters/mem_accounting";
/** The files of a tracefs event system directory that are not events. */
const EVENT_CONTROL_FILES = new Set(["enable", "filter"]);

const MiB = 1024 * 1024;

/** The errno name (or Deno error code, or message) of an error. */
function codeOf(error: unknown): string {
  if (error instanceof SyscallError) return error.code;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.message : String(error);
}

/** The errno of looking at `path` (stat), or null when it is there. */
function statError(path: string): string | null {
  try {
    stat(path);
    return null;
  } catch (error) {
    return codeOf(error);
  }
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function gatherUser(): UserFacts {
  const ids = readOr(() => parseStatusIds(readProcSysFile("/proc/self/status")), null);
  const userNames = readOr(
    () => parsePasswd(Deno.readTextFileSync("/etc/passwd")),
    new Map<number, string>(),
  );
  const groups = readOr(() => parseGroups(Deno.readTextFileSync("/etc/group")), []);
  return {
    uid: ids?.uid ?? Deno.uid() ?? -1,
    gid: ids?.gid ?? Deno.gid() ?? -1,
    groups: ids?.groups ?? [],
    userNames: Object.fromEntries(userNames),
    groupNames: Object.fromEntries(groups.map((g) => [g.gid, g.name])),
  };
}

function acl(path: string): DeviceNode["acl"] {
  return readOr(() => readPosixAcl(path), null);
}

function udmabufNode(): DeviceNode | null {
  try {
    Deno.lstatSync(UDMABUF_PATH);
  } catch {
    return null;
  }
  let openError: string | null = null;
  try {
    openPath(UDMABUF_PATH, { flags: OpenFlags.O_RDWR }).close();
  } catch (error) {
    openError = codeOf(error);
  }
  const info = readOr(() => stat(UDMABUF_PATH), null);
  return {
    name: UDMABUF_HEAP,
    path: UDMABUF_PATH,
    target: readOr(() => readLink(UDMABUF_PATH), null),
    exists: info !== null,
    mode: info === null ? null : info.mode & 0o7777,
    uid: info?.uid ?? null,
    gid: info?.gid ?? null,
    openError,
    acl: acl(UDMABUF_PATH),
  };
}

function gatherHeaps(): Facts["heaps"] {
  const dirExists = statError(HEAP_DIR) === null;
  const entries = readOr(() => listHeaps(HEAP_DIR, null), null) ?? [];
  const nodes: DeviceNode[] = entries.map((entry) => ({
    name: entry.name,
    path: entry.path,
    target: entry.target,
    exists: entry.error !== "ENOENT",
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    openError: entry.error,
    acl: acl(entry.path),
  }));
  const alias = readOr(() => resolveHeapName(CMA_ALIAS), CMA_ALIAS);
  const cmaHeap = nodes.some((n) => n.name === alias) ? alias : null;
  return { dir: HEAP_DIR, dirExists, nodes, udmabuf: udmabufNode(), cmaHeap };
}

function gatherMounts(): Facts["mounts"] {
  const text = readMounts();
  const mounts = text === null ? [] : parseMounts(text);
  const debugfs = mounts.filter((m) => m.fsType === "debugfs");
  const tracefs = tracefsMounts(mounts)[0];
  return {
    readable: text !== null,
    debugfs: debugfs.find((m) => m.mountPoint === DEFAULT_DEBUGFS) ?? debugfs[0] ?? null,
    tracefs: tracefs === undefined ? null : mounts.find((m: MountEntry) => m.mountPoint === tracefs) ?? null,
    cgroup2: mounts.find((m) => m.fsType === "cgroup2")?.mountPoint ?? null,
  };
}

function gatherDebugfs(debugfs: string | null): Facts["debugfs"] {
  if (debugfs === null) return { bufinfo: null, bufinfoBuffers: null, swSync: null };
  const path = `${debugfs}/${BUFINFO_IN_DEBUGFS}`;
  let bufinfo: FileState;
  let bufinfoBuffers: number | null = null;
  try {
    const total = /^Total (\d+) objects/m.exec(readProcSysFile(path));
    bufinfoBuffers = total === null ? null : Number(total[1]);
    bufinfo = { path, error: null };
  } catch (error) {
    bufinfo = { path, error: codeOf(error) };
  }
  const swSync = `${debugfs}/${SW_SYNC_DEBUGFS_PATH}`;
  return { bufinfo, bufinfoBuffers, swSync: { path: swSync, error: statError(swSync) } };
}

function events(dir: string): string[] | string {
  try {
    return listDir(dir).filter((name) => !EVENT_CONTROL_FILES.has(name)).sort();
  } catch (error) {
    return codeOf(error);
  }
}

function gatherTrace(tracefs: string | null): TraceFacts {
  return {
    tracefsDir: statError(TRACEFS_PATH) === null,
    dmaFence: tracefs === null ? null : events(`${tracefs}/events/dma_fence`),
    dmaBuf: tracefs === null ? null : events(`${tracefs}/events/dma_buf`),
  };
}

function numberFile(path: string): number | null {
  return readOr(() => {
    const value = Number(readProcSysFile(path).trim());
    return Number.isFinite(value) ? value : null;
  }, null);
}

function gatherUdmabufLimits(): UdmabufLimitFacts {
  return {
    parameters: statError(UDMABUF_PARAMETERS) === null,
    sizeLimitMb: numberFile(`${UDMABUF_PARAMETERS}/size_limit_mb`),
    listLimit: numberFile(`${UDMABUF_PARAMETERS}/list_limit`),
  };
}

function gatherLimits(cgroup2: string | null): LimitFacts {
  const pid = Deno.ppid;
  const limit = readOr(
    () => parseLimits(readProcSysFile(`/proc/${pid}/limits`)).get("Max open files") ?? null,
    null,
  );
  const accounting = readOr(() => readProcSysFile(MEM_ACCOUNTING).trim(), null);
  const path = readOr(() => parseCgroupV2Path(readProcSysFile("/proc/self/cgroup")), null);
  const memory = (file: string) => readOr(() => readProcSysFile(`${cgroup2}${path}/${file}`).trim(), null);
  const max = cgroup2 === null || path === null ? null : memory("memory.max");
  const current = cgroup2 === null || path === null ? null : memory("memory.current");
  return {
    openFiles: limit === null ? null : { pid, limit },
    memAccounting: accounting === null ? null : accounting === "Y" || accounting === "1",
    cgroup: cgroup2 === null || path === null ? null : {
      path,
      memoryMax: max === null ? null : max === "max" ? "max" : Number(max),
      memoryCurrent: current === null ? null : Number(current),
    },
  };
}

/** A fresh buffer of `size` bytes from a heap or udmabuf. @throws {SyscallError} */
function allocate(heap: string, size: number): DmaBuf {
  if (heap === UDMABUF_HEAP) return allocUdmabuf(size, BUFFER_NAME);
  using device = DmaHeap.open(heap);
  return device.alloc(size);
}

function probeOutcome(probe: () => IoctlProbe): FeatureProbe {
  try {
    const found = probe();
    return found.present
      ? { present: true, reason: `${found.errno} to an invalid argument: the kernel knows the ioctl` }
      : { present: false, reason: `${found.errno}: the kernel does not know the ioctl` };
  } catch (error) {
    return { present: null, reason: `the probe failed: ${codeOf(error)}` };
  }
}

/** The version-gated features, probed on a one-page buffer from the first heap (system first) this user may use. */
function gatherFeatures(facts: Facts): FeatureFacts {
  const candidates = [...facts.heaps.nodes].sort((a, b) =>
    Number(b.name === "system") - Number(a.name === "system")
  );
  if (facts.heaps.udmabuf !== null) candidates.push(facts.heaps.udmabuf);
  let buffer: DmaBuf | null = null;
  let source: string | null = null;
  const failures: string[] = [];
  for (const node of candidates) {
    if (node.openError !== null) continue;
    try {
      buffer = allocate(node.name, facts.kernel.pageSize);
      source = node.name;
      break;
    } catch (error) {
      failures.push(`${node.name}: ${codeOf(error)}`);
    }
  }
  const bpfDmabufIter = probeBpfDmabufIter();
  if (buffer === null) {
    const reason = "no dma-buf to probe on: " +
      (failures.length === 0
        ? "no heap or udmabuf this user may open"
        : `allocation failed (${failures.join(", ")})`);
    const none = { present: null, reason };
    return {
      probeBuffer: null,
      syncFileExported: false,
      exportSyncFile: none,
      importSyncFile: none,
      setDeadline: none,
      bpfDmabufIter,
    };
  }
  using probed = buffer;
  const exportSyncFile = probeOutcome(() => probeExportSyncFile(probed));
  const importSyncFile = probeOutcome(() => probeImportSyncFile(probed));
  let setDeadline: FeatureProbe = {
    present: null,
    reason:
      "no sync_file to probe on: without DMA_BUF_IOCTL_EXPORT_SYNC_FILE one needs a fence, and doctor makes none",
  };
  let syncFileExported = false;
  if (exportSyncFile.present === true) {
    try {
      // An idle buffer exports a signalled stub fence: a sync_file with nothing behind it.
      using syncFile: Fd = probed.exportSyncFile("read");
      syncFileExported = true;
      setDeadline = probeOutcome(() => probeSetDeadline(syncFile));
    } catch (error) {
      setDeadline = { present: null, reason: `exporting a sync_file to probe on failed: ${codeOf(error)}` };
    }
  }
  return {
    probeBuffer: source,
    syncFileExported,
    exportSyncFile,
    importSyncFile,
    setDeadline,
    bpfDmabufIter,
  };
}

/** Allocates `size` from `heap`, maps it read-write inside a SYNC bracket, touches both ends, frees it. */
function tryAllocation(heap: string, size: number): AllocTrial {
  const start = performance.now();
  let buffer: DmaBuf;
  try {
    buffer = allocate(heap, size);
  } catch (error) {
    return {
      heap,
      size,
      allocError: codeOf(error),
      mapError: null,
      ms: performance.now() - start,
      notTried: null,
    };
  }
  const ms = performance.now() - start;
  using owned = buffer;
  let mapError: string | null = null;
  try {
    using mapping = owned.map({ write: true });
    using _cpu = owned.beginCpuAccess("rw");
    const mark = Uint8Array.of(0xa5);
    for (const offset of [0, mapping.length - 1]) {
      mapping.write(offset, mark);
      if (mapping.read(offset, 1)[0] !== mark[0]) mapError = `byte ${offset} did not read back`;
    }
  } catch (error) {
    mapError = codeOf(error);
  }
  return { heap, size, allocError: null, mapError, ms, notTried: null };
}

/**
 * Why an allocation of `size` from `heap` is not tried, or null: more than MemAvailable from the system heap
 * (or any heap but a CMA one, which fails cleanly) or from udmabuf within its limit (its memfd's pages) could
 * wake the OOM killer, which would change the system.
 */
function riskOf(facts: Facts, heap: string, size: number): string | null {
  const available = facts.memory.memAvailable;
  if (available === null || size <= available || isCmaHeap(facts, heap)) return null;
  // Over udmabuf's limit the kernel refuses before touching a page: tried, to confirm the limit.
  const limitMb = facts.udmabufLimits.sizeLimitMb ?? UDMABUF_DEFAULT_LIMIT_MB;
  if (heap === UDMABUF_HEAP && pageAlign(size, facts.kernel.pageSize) > limitMb * MiB) return null;
  return `it is more than MemAvailable (${formatBytes(available)}), and trying could wake the OOM killer`;
}

/** Reads the system and tries the allocations (see the module description). Never throws for the system's state. */
export async function gatherFacts(options: GatherOptions): Promise<Facts> {
  const release = Deno.osRelease();
  const cmdline = readOr(() => readProcSysFile("/proc/cmdline").trim(), null);
  const config = await readKernelConfig();
  const mounts = gatherMounts();
  const debugfs = mounts.debugfs?.mountPoint ?? null;
  const heaps = gatherHeaps();
  const resolvedHeap = options.heap === null
    ? null
    : options.heap === UDMABUF_HEAP
    ? UDMABUF_HEAP
    : readOr(() => resolveHeapName(options.heap!), options.heap);
  const facts: Facts = {
    request: { heap: options.heap, resolvedHeap, size: options.size },
    kernel: {
      release,
      version: parseVersion(release),
      machine: Deno.build.arch,
      pageSize: pageSize(),
      cmdline,
    },
    config: {
      source: config.config?.path ?? null,
      options: config.config === null ? null : Object.fromEntries(config.config.options),
      tried: config.tried,
    },
    user: gatherUser(),
    heaps,
    mounts,
    debugfs: gatherDebugfs(debugfs),
    sysfsStats: { path: SYSFS_BUFFERS_DIR, error: statError(SYSFS_BUFFERS_DIR) },
    trace: gatherTrace(mounts.tracefs?.mountPoint ?? null),
    memory: memoryLeft(),
    cma: {
      cmdline: /(?:^|\s)cma=(\S+)/.exec(cmdline ?? "")?.[1] ?? null,
      ...readCmaAreas({ debugfs }),
    },
    udmabufLimits: gatherUdmabufLimits(),
    limits: gatherLimits(mounts.cgroup2),
    features: {
      probeBuffer: null,
      syncFileExported: false,
      exportSyncFile: { present: null, reason: "not probed yet" },
      importSyncFile: { present: null, reason: "not probed yet" },
      setDeadline: { present: null, reason: "not probed yet" },
      bpfDmabufIter: { present: null, reason: "not probed yet" },
    },
    trials: [],
  };
  facts.features = gatherFeatures(facts);
  const size = options.size ?? facts.kernel.pageSize;
  for (const heap of targets(facts)) {
    if (nodeOf(facts, heap).openError !== null || cmaDuplicateOf(facts, heap) !== null) continue;
    const risk = riskOf(facts, heap, size);
    facts.trials.push(
      risk === null
        ? tryAllocation(heap, size)
        : { heap, size, allocError: null, mapError: null, ms: 0, notTried: risk },
    );
  }
  return facts;
}
