/**
 * What the checks derive from the facts: the kernel's options and version, names of users and groups, the
 * heaps a run looks at, and which CMA area a heap allocates from. Pure functions of {@link Facts}.
 * @module
 */

import type { CmaArea } from "../../ffi/cma.ts";
import {
  CMA_ALIAS,
  CMA_HEAP_NAMES,
  DEFAULT_CMA_HEAP,
  UDMABUF_HEAP,
  UDMABUF_PATH,
} from "../../ffi/dma_heap.ts";
import type { AllocTrial, DeviceNode, Facts, KernelVersion } from "./facts.ts";

const MiB = 1024 * 1024;

/** What the configuration says about an option: `y`, `m`, `n` (off), `absent` (no such option), `unknown`. */
export type OptionState = "y" | "m" | "n" | "absent" | "unknown";

/** What the kernel's configuration says about `option` (`unknown` when the configuration is unreadable). */
export function option(facts: Facts, name: string): OptionState {
  const options = facts.config.options;
  if (options === null) return "unknown";
  const value = options[name];
  if (value === undefined) return "absent";
  return value === "y" || value === "m" ? value : "n";
}

/** The options of `names` that the configuration has neither built in nor as a module. */
export function missingOptions(facts: Facts, names: readonly string[]): string[] {
  return names.filter((name) => {
    const state = option(facts, name);
    return state !== "y" && state !== "m";
  });
}

/** `CONFIG_A=y and CONFIG_B=y`. */
export function optionsLine(names: readonly string[]): string {
  const set = names.map((name) => `${name}=y`);
  return set.length <= 1 ? set.join("") : `${set.slice(0, -1).join(", ")} and ${set.at(-1)}`;
}

/** Parses the major and minor number of a release (`6.12.118-1~deb12u1` → 6.12). */
export function parseVersion(release: string): KernelVersion | null {
  const match = /^(\d+)\.(\d+)/.exec(release);
  return match === null ? null : { major: Number(match[1]), minor: Number(match[2]) };
}

/** Whether the running kernel is `major.minor` or newer; null when its release has no version. */
export function atLeast(facts: Facts, major: number, minor: number): boolean | null {
  const v = facts.kernel.version;
  if (v === null) return null;
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** `Linux 6.12` (or the release as it is when it has no version). */
export function linuxName(facts: Facts): string {
  const v = facts.kernel.version;
  return v === null ? `Linux ${facts.kernel.release}` : `Linux ${v.major}.${v.minor}`;
}

/** `65534 (nobody)`, or the number alone when /etc/passwd does not name it. */
export function userText(facts: Facts, uid: number): string {
  const name = facts.user.userNames[uid];
  return name === undefined ? String(uid) : `${uid} (${name})`;
}

/** `44 (video)`, or the number alone. */
export function groupText(facts: Facts, gid: number): string {
  const name = facts.user.groupNames[gid];
  return name === undefined ? String(gid) : `${gid} (${name})`;
}

/** The gid of a group name, or null when /etc/group has no such group. */
export function gidOf(facts: Facts, name: string): number | null {
  for (const [gid, groupName] of Object.entries(facts.user.groupNames)) {
    if (groupName === name) return Number(gid);
  }
  return null;
}

/** `0600` for a mode. */
export function modeText(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

/** `mode 0600, owner 0:0 (root:root)` of a node (the names where /etc/passwd and /etc/group have them). */
export function ownerText(facts: Facts, node: DeviceNode): string {
  if (node.mode === null || node.uid === null || node.gid === null) return "mode and owner unknown";
  const user = facts.user.userNames[node.uid];
  const group = facts.user.groupNames[node.gid];
  // A board without /etc/passwd and /etc/group has numbers only.
  const names = user === undefined && group === undefined
    ? ""
    : ` (${user ?? node.uid}:${group ?? node.gid})`;
  return `mode ${modeText(node.mode)}, owner ${node.uid}:${node.gid}${names}`;
}

/** The heaps this run looks at: `--heap` (resolved), else every heap and udmabuf. */
export function targets(facts: Facts): string[] {
  if (facts.request.resolvedHeap !== null) return [facts.request.resolvedHeap];
  const names = facts.heaps.nodes.map((node) => node.name);
  if (facts.heaps.udmabuf !== null) names.push(UDMABUF_HEAP);
  return names;
}

/** The node of a heap name (or `udmabuf`); a missing one when neither the directory nor /dev has it. */
export function nodeOf(facts: Facts, name: string): DeviceNode {
  const found = name === UDMABUF_HEAP ? facts.heaps.udmabuf : facts.heaps.nodes.find((n) => n.name === name);
  return found ?? {
    name,
    path: name === UDMABUF_HEAP ? UDMABUF_PATH : `${facts.heaps.dir}/${name}`,
    target: null,
    exists: false,
    mode: null,
    uid: null,
    gid: null,
    openError: "ENOENT",
    acl: null,
  };
}

/** The trial made on a heap, or undefined when none was made. */
export function trialOf(facts: Facts, heap: string): AllocTrial | undefined {
  return facts.trials.find((t) => t.heap === heap);
}

/** Whether a heap allocates from CMA: one of the CMA heap names, the `cma` alias, or named after a CMA area. */
export function isCmaHeap(facts: Facts, heap: string): boolean {
  return heap === CMA_ALIAS || (CMA_HEAP_NAMES as readonly string[]).includes(heap) ||
    facts.cma.areas.some((area) => area.name === heap);
}

/**
 * The CMA area a CMA heap allocates from: the area of the same name (a heap is named after its area), or
 * for `default_cma_region` and the `cma` alias the only area when there is one; null when it cannot be told.
 */
export function cmaAreaOf(facts: Facts, heap: string): CmaArea | null {
  const areas = facts.cma.areas;
  const named = areas.find((area) => area.name === heap);
  if (named !== undefined) return named;
  const isDefault = heap === DEFAULT_CMA_HEAP || heap === CMA_ALIAS || heap === facts.heaps.cmaHeap;
  return isDefault && areas.length === 1 ? areas[0]! : null;
}

/**
 * The heap that already stands for `heap`'s CMA area (the one the `cma` alias names), when `heap` is a second
 * name of the same area (7.2 lists the default area as `default_cma_region` and under its own name); else null.
 */
export function cmaDuplicateOf(facts: Facts, heap: string): string | null {
  const primary = facts.heaps.cmaHeap;
  if (primary === null || primary === heap || !isCmaHeap(facts, heap)) return null;
  const mine = cmaAreaOf(facts, heap);
  const theirs = cmaAreaOf(facts, primary);
  return mine !== null && theirs !== null && mine.name === theirs.name ? primary : null;
}

/** Pages → bytes on this kernel. */
export function pagesToBytes(facts: Facts, pages: number): number {
  return pages * facts.kernel.pageSize;
}

/** An area's size, what is allocated in it and its largest free chunk, in bytes (each null when unknown). */
export interface AreaUse {
  /** The area's size. */
  total: number | null;
  /** Bytes allocated. */
  used: number | null;
  /** Bytes free. */
  free: number | null;
  /** The largest run of free bytes. */
  largest: number | null;
  /**
   * Where {@link used} and {@link free} come from: the area's bitmap (`debugfs`), its counters (`sysfs`), or
   * `meminfo` (CmaFree counts pages free in the buddy allocator, which movable allocations borrow, so it
   * can be far below what the bitmap has free), or null when unknown.
   */
  from: "debugfs" | "sysfs" | "meminfo" | null;
}

/**
 * What an area holds: debugfs when readable (count, used, maxchunk), else sysfs (total_pages,
 * available_pages where the kernel has them), else /proc/meminfo when the area is the only one.
 */
export function areaUse(facts: Facts, area: CmaArea | null): AreaUse {
  const bytes = (pages: number | null | undefined) =>
    pages === null || pages === undefined ? null : pagesToBytes(facts, pages);
  const only = facts.cma.areas.length <= 1;
  const total = bytes(area?.debugfs?.count) ?? bytes(area?.sysfs?.totalPages) ??
    (only ? facts.memory.cmaTotal : null);
  const largest = bytes(area?.debugfs?.maxchunk);
  const used = bytes(area?.debugfs?.used);
  if (used !== null && total !== null) return { total, used, free: total - used, largest, from: "debugfs" };
  const available = bytes(area?.sysfs?.availablePages);
  if (available !== null && total !== null) {
    return { total, used: total - available, free: available, largest, from: "sysfs" };
  }
  const free = only ? facts.memory.cmaFree : null;
  if (free !== null && total !== null) return { total, used: total - free, free, largest, from: "meminfo" };
  return { total, used: null, free: null, largest, from: null };
}

/** A `cma=` value that holds `bytes`: the next power of two in MiB (`cma=128M` for 96 MiB). */
export function cmaParameter(bytes: number): string {
  let mib = 1;
  while (mib * MiB < bytes) mib *= 2;
  return `cma=${mib}M`;
}

/** Whole MiB that hold `bytes` (for `size_limit_mb`). */
export function mibCeil(bytes: number): number {
  return Math.ceil(bytes / MiB);
}
