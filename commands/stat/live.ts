/**
 * `dmabuf stat` on the live system: a snapshot from debugfs bufinfo, the BPF iterator, sysfs stats or a /proc
 * scan, whichever is asked for or, with `auto`, the best that answers. Loaded only when the system is read,
 * so `stat --input` loads no FFI code.
 * @module
 */

import type { BpfMissing } from "../../ffi/bpf/dmabuf_iter.ts";
import { CliError } from "../toolkit/errors.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { readProcSysFile } from "../../ffi/fd.ts";
import { type ProcessScan, readMounts, scanAllProcesses } from "../../ffi/procfs.ts";
import { readSysfsStats, SYSFS_BUFFERS_DIR } from "../../ffi/sysfs_stats.ts";
import { bufinfoPath, DEFAULT_DEBUGFS } from "../../ffi/text/mounts.ts";
import {
  fromBufinfoText,
  listSnapshot,
  type Snapshot,
  type SourceChoice,
  type SourceName,
  type StatBuffer,
} from "./snapshot.ts";

/** A source that cannot be used here: why, and what the user can do. */
export class SourceUnavailable extends Error {
  /** What the user can do about it. */
  readonly hint: string;
  /** The BPF verifier's log when it refused the iterator program, else null. */
  readonly log: string | null;
  /** Makes the error. */
  constructor(message: string, hint: string, log: string | null = null) {
    super(message);
    this.name = "SourceUnavailable";
    this.hint = hint;
    this.log = log;
  }
}

const SYSFS_KERNEL = "CONFIG_DMABUF_SYSFS_STATS (v5.13 to v6.18)";

/** Reads debugfs bufinfo. @throws {SourceUnavailable} */
function readDebugfs(): Snapshot {
  const path = bufinfoPath(readMounts());
  if (path === null) {
    throw new SourceUnavailable(
      "debugfs is not mounted",
      `mount it as root: mount -t debugfs debugfs ${DEFAULT_DEBUGFS}`,
    );
  }
  let text: string;
  try {
    text = readProcSysFile(path);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    if (error.is("EACCES") || error.is("EPERM")) {
      throw new SourceUnavailable(
        `reading ${path} needs root (${error.code}; debugfs is usually mode 0700)`,
        "run as root, or use --source sysfs or --source proc",
      );
    }
    if (error.is("ENOENT")) {
      throw new SourceUnavailable(
        `${path} does not exist`,
        "the kernel has no dma-buf debugfs (CONFIG_DEBUG_FS with CONFIG_DMA_SHARED_BUFFER)",
      );
    }
    throw new SourceUnavailable(
      `cannot read ${path}: ${error.message}`,
      "try --source sysfs or --source proc",
    );
  }
  const snapshot = fromBufinfoText(text, "debugfs", path);
  if (snapshot === null) {
    throw new SourceUnavailable(`${path} is not in a bufinfo format dmabuf knows`, "please report it");
  }
  return snapshot;
}

function scanOrNull(): ProcessScan | null {
  try {
    return scanAllProcesses();
  } catch {
    return null;
  }
}

/** Names, counts and flags per inode from a /proc scan (the first fd that names the buffer wins). */
function procIndex(scan: ProcessScan): Map<number, Omit<StatBuffer, "inode">> {
  const index = new Map<number, Omit<StatBuffer, "inode">>();
  for (const process of scan.processes) {
    for (const ref of process.fds) {
      if (index.has(ref.inode) && index.get(ref.inode)!.exporter !== null) continue;
      index.set(ref.inode, {
        size: ref.size,
        exporter: ref.exporter,
        name: ref.name,
        count: ref.count,
        flags: ref.flags,
        mode: null,
        attachments: null,
        fences: null,
      });
    }
  }
  for (const process of scan.processes) {
    for (const map of process.maps) {
      const known = index.get(map.inode);
      if (known === undefined) {
        index.set(map.inode, {
          size: map.vmaSize,
          exporter: null,
          name: map.name,
          count: null,
          flags: null,
          mode: null,
          attachments: null,
          fences: null,
        });
      } else if (known.exporter === null && map.vmaSize > known.size) {
        known.size = map.vmaSize;
      }
    }
  }
  return index;
}

/** Reads sysfs stats and joins names from a /proc scan. @throws {SourceUnavailable} */
function readSysfs(): Snapshot {
  let stats;
  try {
    stats = readSysfsStats();
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOENT")) {
      throw new SourceUnavailable(`${SYSFS_BUFFERS_DIR} does not exist`, `the kernel has no ${SYSFS_KERNEL}`);
    }
    if (error instanceof SyscallError) {
      throw new SourceUnavailable(`cannot read ${SYSFS_BUFFERS_DIR}: ${error.message}`, "try --source proc");
    }
    throw error;
  }
  const scan = scanOrNull();
  const index = scan === null ? new Map() : procIndex(scan);
  const buffers = stats.map((s): StatBuffer => {
    const held = index.get(s.inode);
    return {
      inode: s.inode,
      size: s.size,
      exporter: s.exporter,
      name: held?.name ?? null,
      count: held?.count ?? null,
      flags: held?.flags ?? null,
      mode: null,
      attachments: null,
      fences: null,
      ...(held === undefined ? { nameKnown: false as const } : {}),
    };
  });
  return listSnapshot("sysfs", SYSFS_BUFFERS_DIR, buffers, scan);
}

/** Builds the buffer list from a /proc scan (sizes and exporters of map-only buffers from sysfs when present). */
function readProc(): Snapshot {
  const scan = scanAllProcesses();
  const index = procIndex(scan);
  let sysfs = new Map<number, { size: number; exporter: string }>();
  if ([...index.values()].some((b) => b.exporter === null)) {
    try {
      sysfs = new Map(readSysfsStats().map((s) => [s.inode, s]));
    } catch {
      // No sysfs stats: map-only buffers keep their mapped length and an unknown exporter.
    }
  }
  const buffers = [...index.entries()].map(([inode, b]): StatBuffer => {
    const stats = b.exporter === null ? sysfs.get(inode) : undefined;
    return stats === undefined
      ? { inode, ...b }
      : { inode, ...b, size: stats.size, exporter: stats.exporter };
  });
  return listSnapshot(
    "proc",
    "/proc/*/fdinfo + /proc/*/maps of the processes this user may read",
    buffers,
    scan,
  );
}

/** What the user can do when `iter/dmabuf` is missing a piece. */
const BPF_HINTS: Record<BpfMissing, string> = {
  "bpf-syscall": "use --source debugfs, sysfs or proc",
  btf: "use --source debugfs, sysfs or proc",
  iterator: "use --source debugfs, sysfs or proc",
  "btf-layout": "please report it with the output of uname -r",
  privilege: "run as root (a container must keep CAP_BPF and CAP_PERFMON)",
  verifier: "dmabuf stat --source bpf --verbose shows the verifier's log",
  failed: "please report it",
};

/**
 * Reads the BPF iterator (its code loaded only now: the other sources never load it).
 * @throws {SourceUnavailable} naming the missing piece; its `log` is the verifier's when it refused
 */
async function readBpf(): Promise<Snapshot> {
  const [{ readBpfSnapshot }, { BpfUnavailable }] = await Promise.all([
    import("./bpf_source.ts"),
    import("../../ffi/bpf/dmabuf_iter.ts"),
  ]);
  try {
    return readBpfSnapshot();
  } catch (error) {
    if (!(error instanceof BpfUnavailable)) throw error;
    throw new SourceUnavailable(error.message, BPF_HINTS[error.missing], error.log);
  }
}

/** The sources in the order `auto` tries them. */
const READERS: readonly [SourceName, () => Snapshot | Promise<Snapshot>][] = [
  ["debugfs", readDebugfs],
  ["bpf", readBpf],
  ["sysfs", readSysfs],
  ["proc", readProc],
];

/** The error for a verifier log, so `--verbose` prints it after the one-line refusal (as the cause). */
function verifierLog(log: string): Error {
  const error = new Error("the verifier's log");
  error.stack = `the verifier's log:\n${log.trimEnd()}`;
  return error;
}

/**
 * A snapshot from the chosen source; `auto` tries debugfs bufinfo, then the BPF iterator, then sysfs stats,
 * then the /proc scan, and records why each better one was not used.
 * @throws {CliError} when an explicitly chosen source is unavailable (with the reason and a hint)
 */
export async function takeSnapshot(choice: SourceChoice): Promise<Snapshot> {
  if (choice !== "auto") {
    const reader = READERS.find(([name]) => name === choice)![1];
    try {
      return await reader();
    } catch (error) {
      if (!(error instanceof SourceUnavailable)) throw error;
      const cause = error.log === null ? undefined : verifierLog(error.log);
      throw new CliError(error.message, { hint: error.hint, ...(cause === undefined ? {} : { cause }) });
    }
  }
  const fallbacks: string[] = [];
  for (const [name, reader] of READERS) {
    try {
      return { ...await reader(), fallbacks };
    } catch (error) {
      if (!(error instanceof SourceUnavailable) || name === "proc") throw error;
      fallbacks.push(`${name}: ${error.message} (${error.hint})`);
    }
  }
  throw new Error("unreachable: the proc source always answers");
}

/** Makes sure a snapshot has a /proc scan (for `--procs`). */
export function withScan(snapshot: Snapshot): Snapshot {
  return snapshot.scan === null ? { ...snapshot, scan: scanAllProcesses() } : snapshot;
}
