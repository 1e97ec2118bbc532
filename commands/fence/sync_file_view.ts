/**
 * How `fence` and `fence-wait` show a sync_file: its fences and status as `--json` documents and as a table
 * for people.
 * @module
 */

import type { Output } from "../toolkit/output.ts";
import { formatDuration } from "../toolkit/units.ts";
import {
  fenceError,
  type FenceState,
  fenceStatusText,
  monotonicNowNs,
  type SyncFileState,
} from "../../ffi/sync_file.ts";

/** `active`, `signalled` or `error`: a status in words, for JSON. */
export type FenceStateName = "active" | "signalled" | "error";

/** The word for a status: 0 active, 1 signalled, negative error. */
export function stateName(status: number): FenceStateName {
  if (status > 0) return "signalled";
  return status === 0 ? "active" : "error";
}

/** One fence in `--json` output. */
export interface FenceJson {
  /** Driver name (`sw_sync`, `vgem`, `stub`, ...); null when the kernel no longer names it (6.17+, signalled). */
  driver: string | null;
  /** Timeline name; null as for `driver`. */
  timeline: string | null;
  /** Raw status: 1 signalled, 0 active, negative errno. */
  status: number;
  /** The status in a word. */
  state: FenceStateName;
  /** The errno name of an error status (`ENOENT`), else null. */
  error: string | null;
  /** `sync_fence_info.flags`. */
  flags: number;
  /** CLOCK_MONOTONIC ns of signalling; 0 while active. */
  timestampNs: bigint;
}

/** A sync_file in `--json` output. */
export interface SyncFileJson {
  /** The sync_file's name; null when the kernel no longer names it (6.17+, signalled before dmabuf read it). */
  name: string | null;
  /** Raw overall status. */
  status: number;
  /** The overall status in a word. */
  state: FenceStateName;
  /** The errno name of an error status, else null. */
  error: string | null;
  /** The fences. */
  fences: FenceJson[];
}

function fenceJson(fence: FenceState): FenceJson {
  return {
    driver: fence.driver,
    timeline: fence.timeline,
    status: fence.status,
    state: stateName(fence.status),
    error: fenceError(fence.status),
    flags: fence.flags,
    timestampNs: fence.timestampNs,
  };
}

/** The `--json` view of a sync_file's state. */
export function syncFileJson(state: SyncFileState): SyncFileJson {
  return {
    name: state.name,
    status: state.status,
    state: stateName(state.status),
    error: fenceError(state.status),
    fences: state.fences.map(fenceJson),
  };
}

/** When a fence signalled, relative to `nowNs` (CLOCK_MONOTONIC): `1.20 s ago`, or `-` while active. */
export function signalledAgo(fence: FenceState, nowNs: bigint): string {
  if (fence.status === 0 || fence.timestampNs === 0n) return "-";
  const ms = Number(nowNs - fence.timestampNs) / 1e6;
  return ms < 0 ? "just now" : `${formatDuration(ms)} ago`;
}

/** A status for people, coloured when the output is: green signalled, yellow active, red error. */
export function statusWord(out: Output, status: number): string {
  const text = fenceStatusText(status);
  return out.paint(text, status > 0 ? "green" : status === 0 ? "yellow" : "red");
}

/** Prints `<title>: "<name>" <status>, N fences` and a table of the fences (driver, timeline, status, when). */
export function renderSyncFile(out: Output, options: { title: string; state: SyncFileState }): void {
  const { title, state } = options;
  const count = state.fences.length;
  out.line(
    `${title}: ${state.name === null ? UNNAMED : `"${state.name}"`} ${
      statusWord(out, state.status)
    }, ${count} fence${count === 1 ? "" : "s"}`,
  );
  if (count === 0) return;
  const now = monotonicNowNs();
  const rows = state.fences.map((fence, index) => ({ fence, index }));
  out.table([
    { header: "#", cell: (r) => String(r.index), right: true },
    { header: "DRIVER", cell: (r) => r.fence.driver ?? UNNAMED },
    { header: "TIMELINE", cell: (r) => r.fence.timeline ?? UNNAMED },
    { header: "STATUS", cell: (r) => fenceStatusText(r.fence.status) },
    { header: "SIGNALLED", cell: (r) => signalledAgo(r.fence, now) },
  ], rows);
  if (state.name === null || state.fences.some((fence) => fence.driver === null || fence.timeline === null)) {
    out.line(`${UNNAMED} = ${NAMES_GONE}`);
  }
}

/** How a fence the kernel no longer names shows in tables. */
const UNNAMED = "?";
/** Why some fences have no names. */
export const NAMES_GONE =
  "the kernel no longer names a fence once it has signalled (Linux 6.17+); it had signalled before dmabuf first read it";
