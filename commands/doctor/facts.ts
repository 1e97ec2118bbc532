/**
 * What `dmabuf doctor` knows about the system: everything it read or tried, as plain data. The checks
 * decide on these facts alone, so each decision is tested on synthetic facts (tests/commands/doctor/), and
 * `gather.ts` is the only part that touches the system.
 * @module
 */

import type { AclEntry } from "../../ffi/acl.ts";
import type { CmaAreas } from "../../ffi/cma.ts";
import type { ConfigAttempt } from "../../ffi/kernel_config.ts";
import type { Limit } from "../../ffi/text/process.ts";
import type { MountEntry } from "../../ffi/text/mounts.ts";
import type { MemoryLeft } from "../heap_errors.ts";

/** A kernel release's major and minor number (`6.12.118-1` → 6, 12). */
export interface KernelVersion {
  /** The major number. */
  major: number;
  /** The minor number. */
  minor: number;
}

/** The running kernel. */
export interface KernelFacts {
  /** `uname -r`. */
  release: string;
  /** Major and minor of {@link release}, or null when it does not start with them. */
  version: KernelVersion | null;
  /** The machine (`x86_64`, `aarch64`). */
  machine: string;
  /** The page size in bytes. */
  pageSize: number;
  /** `/proc/cmdline`, or null when unreadable. */
  cmdline: string | null;
}

/** The kernel's configuration, where readable. */
export interface ConfigFacts {
  /** Where it was read from, or null. */
  source: string | null;
  /** Each option's value by name (`y`, `m`, `n` for "is not set", numbers, strings), or null. */
  options: Record<string, string> | null;
  /** The places tried that could not be read. */
  tried: ConfigAttempt[];
}

/** Who runs doctor, with the local names of users and groups. */
export interface UserFacts {
  /** Effective uid. */
  uid: number;
  /** Effective gid. */
  gid: number;
  /** Supplementary groups. */
  groups: number[];
  /** User names by uid (from /etc/passwd). */
  userNames: Record<string, string>;
  /** Group names by gid (from /etc/group). */
  groupNames: Record<string, string>;
}

/** A device node doctor looked at: a heap, or /dev/udmabuf. */
export interface DeviceNode {
  /** The heap name (the directory entry), or `udmabuf`. */
  name: string;
  /** The device path. */
  path: string;
  /** Where a symlink points, else null. */
  target: string | null;
  /** Whether the node exists. */
  exists: boolean;
  /** Permission bits, or null when it cannot be stat'ed. */
  mode: number | null;
  /** Owner uid. */
  uid: number | null;
  /** Owner gid. */
  gid: number | null;
  /** The errno name when this user cannot open it as allocation needs (heaps read-only, udmabuf read-write). */
  openError: string | null;
  /** Its access ACL, or null when it has none. */
  acl: AclEntry[] | null;
}

/** The dma-heaps and udmabuf. */
export interface HeapFacts {
  /** The heap directory. */
  dir: string;
  /** Whether the heap directory exists. */
  dirExists: boolean;
  /** Every heap in it, sorted by name. */
  nodes: DeviceNode[];
  /** /dev/udmabuf, or null when it does not exist. */
  udmabuf: DeviceNode | null;
  /** The heap the `cma` alias names, or null when there is none. */
  cmaHeap: string | null;
}

/** The mounts doctor cares about, each with its line as /proc/self/mounts shows it. */
export interface MountFacts {
  /** Whether /proc/self/mounts could be read. */
  readable: boolean;
  /** The debugfs mount, or null. */
  debugfs: MountEntry | null;
  /** The tracefs mount ({@link TRACEFS_PATH} preferred), or null. */
  tracefs: MountEntry | null;
  /** The cgroup2 mount point, or null. */
  cgroup2: string | null;
}

/** A file whose presence or readability was looked at. */
export interface FileState {
  /** Its path. */
  path: string;
  /** null when present (and readable where that was asked), else the errno name. */
  error: string | null;
}

/** debugfs files doctor looks at. */
export interface DebugfsFacts {
  /** `dma_buf/bufinfo`, read; null when debugfs is not mounted. */
  bufinfo: FileState | null;
  /** How many buffers bufinfo listed when it was read. */
  bufinfoBuffers: number | null;
  /** `sync/sw_sync`, looked at (stat) but never opened; null when debugfs is not mounted. */
  swSync: FileState | null;
}

/** Tracing. */
export interface TraceFacts {
  /** Whether `/sys/kernel/tracing` exists (the kernel has tracefs, mounted or not). */
  tracefsDir: boolean;
  /** The dma_fence events in `<tracefs>/events/dma_fence`, or the errno name, or null without tracefs mounted. */
  dmaFence: string[] | string | null;
  /** The dma_buf events in `<tracefs>/events/dma_buf`, likewise. */
  dmaBuf: string[] | string | null;
}

/** udmabuf's limits. */
export interface UdmabufLimitFacts {
  /** Whether the module parameters directory exists (`/sys/module/udmabuf/parameters`). */
  parameters: boolean;
  /** `size_limit_mb`, or null when there is no such parameter. */
  sizeLimitMb: number | null;
  /** `list_limit`, or null when there is no such parameter. */
  listLimit: number | null;
}

/** The cgroup the process is in. */
export interface CgroupFacts {
  /** The cgroup v2 path (`/user.slice/...`). */
  path: string;
  /** `memory.max` in bytes, `max`, or null when unreadable. */
  memoryMax: number | "max" | null;
  /** `memory.current` in bytes, or null when unreadable. */
  memoryCurrent: number | null;
}

/** Resource limits. */
export interface LimitFacts {
  /** The open-files limit of the process that started dmabuf (Deno raises its own soft limit to the hard one). */
  openFiles: { pid: number; limit: Limit } | null;
  /** `dma_heap.mem_accounting`, or null when the kernel has no such parameter. */
  memAccounting: boolean | null;
  /** The process's cgroup, or null when there is no cgroup2 mount or no v2 path. */
  cgroup: CgroupFacts | null;
}

/** The outcome of a feature probe. */
export interface FeatureProbe {
  /** true: present; false: absent; null: not probed (see {@link reason}). */
  present: boolean | null;
  /** How it was found out (`EINVAL to flags 0`), or why it was not probed. */
  reason: string;
  /** For a feature dmabuf itself reads through (the BPF iterator): whether dmabuf's own use of it worked here. */
  usable?: boolean;
}

/** The version-gated features. */
export interface FeatureFacts {
  /** Where the probes' dma-buf came from (`system`, `udmabuf`), or null when none could be allocated. */
  probeBuffer: string | null;
  /** Whether a sync_file was exported from the probe buffer (to probe SET_DEADLINE on). */
  syncFileExported: boolean;
  /** `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` (6.0). */
  exportSyncFile: FeatureProbe;
  /** `DMA_BUF_IOCTL_IMPORT_SYNC_FILE` (6.0). */
  importSyncFile: FeatureProbe;
  /** `SYNC_IOC_SET_DEADLINE` (6.8). */
  setDeadline: FeatureProbe;
  /** The BPF dmabuf iterator (6.16). */
  bpfDmabufIter: FeatureProbe;
}

/** One allocation tried from a heap or udmabuf, then freed. */
export interface AllocTrial {
  /** The heap name, or `udmabuf`. */
  heap: string;
  /** Bytes asked for. */
  size: number;
  /** The errno name when the allocation failed, else null. */
  allocError: string | null;
  /** The errno name when mapping (or its SYNC bracket) failed, else null; null when not mapped. */
  mapError: string | null;
  /** Milliseconds the allocation took. */
  ms: number;
  /** Why the allocation was not tried (more than MemAvailable from a heap that could wake the OOM killer), or null. */
  notTried: string | null;
}

/** What the user asked for. */
export interface RequestFacts {
  /** `--heap`, as given (`cma` unresolved), or null. */
  heap: string | null;
  /** The heap `--heap` names after resolving `cma`, or null. */
  resolvedHeap: string | null;
  /** `--size` in bytes, or null. */
  size: number | null;
}

/** Everything doctor knows. */
export interface Facts {
  /** The request. */
  request: RequestFacts;
  /** The kernel. */
  kernel: KernelFacts;
  /** Its configuration. */
  config: ConfigFacts;
  /** The user. */
  user: UserFacts;
  /** Heaps and udmabuf. */
  heaps: HeapFacts;
  /** Mounts. */
  mounts: MountFacts;
  /** debugfs files. */
  debugfs: DebugfsFacts;
  /** `/sys/kernel/dmabuf/buffers`. */
  sysfsStats: FileState;
  /** Tracing. */
  trace: TraceFacts;
  /** MemAvailable, CmaTotal and CmaFree from /proc/meminfo. */
  memory: MemoryLeft;
  /** CMA: the `cma=` parameter and the areas. */
  cma: {
    /** The value of `cma=` on the kernel command line, or null. */
    cmdline: string | null;
  } & CmaAreas;
  /** udmabuf's limits. */
  udmabufLimits: UdmabufLimitFacts;
  /** Resource limits. */
  limits: LimitFacts;
  /** Version-gated features. */
  features: FeatureFacts;
  /** Allocations tried. */
  trials: AllocTrial[];
}
