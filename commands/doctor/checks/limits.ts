/**
 * Limits: udmabuf's `size_limit_mb` and `list_limit` against `--size`, the open-files limit, and on kernels
 * that charge heap buffers to cgroups (`dma_heap.mem_accounting`), the cgroup's `memory.max`.
 * @module
 */

import { formatBytes } from "../../toolkit/units.ts";
import { UDMABUF_HEAP } from "../../../ffi/dma_heap.ts";
import { UDMABUF_DEFAULT_LIMIT_MB } from "../../../ffi/udmabuf.ts";
import { pageAlign } from "../../../ffi/page_size.ts";
import type { Facts } from "../facts.ts";
import type { DoctorCheck, Verdict } from "../runner.ts";
import { mibCeil, targets, trialOf } from "../model.ts";

const MiB = 1024 * 1024;
/** udmabuf's `list_limit` before it became a module parameter. */
const UDMABUF_DEFAULT_LIST_LIMIT = 1024;
/** Below this many open files, a pipeline with many buffers runs out of fds. */
export const OPEN_FILES_ENOUGH = 1024;
/** Where udmabuf's parameters are. */
const UDMABUF_PARAMETERS = "/sys/module/udmabuf/parameters";

function udmabufLimitCheck(facts: Facts): Verdict {
  const limits = facts.udmabufLimits;
  const sizeLimitMb = limits.sizeLimitMb ?? UDMABUF_DEFAULT_LIMIT_MB;
  const listLimit = limits.listLimit ?? UDMABUF_DEFAULT_LIST_LIMIT;
  const fixed = limits.sizeLimitMb === null;
  const limitText = fixed
    ? `${
      formatBytes(sizeLimitMb * MiB)
    } per buffer, fixed (this kernel's udmabuf has no size_limit_mb parameter), at most ${listLimit} memfd ranges`
    : `size_limit_mb ${sizeLimitMb} (${formatBytes(sizeLimitMb * MiB)} per buffer), list_limit ${listLimit}`;
  const data = { sizeLimitMb, listLimit, parameter: !fixed };
  const size = facts.request.size;
  if (size === null) return { status: "ok", summary: limitText, data };
  if (!targets(facts).includes(UDMABUF_HEAP)) {
    return {
      status: "ok",
      summary: `${limitText}; not compared with --size (udmabuf is not asked for)`,
      data,
    };
  }
  const pages = pageAlign(size, facts.kernel.pageSize);
  if (pages <= sizeLimitMb * MiB) {
    return { status: "ok", summary: `${limitText}; ${formatBytes(size)} fits`, data };
  }
  const trial = trialOf(facts, UDMABUF_HEAP);
  const refused = trial?.allocError === "EINVAL" ? " (UDMABUF_CREATE refused it: EINVAL)" : "";
  const wanted = mibCeil(pages);
  return {
    status: "fail",
    summary: `${formatBytes(size)} is over udmabuf's limit of ${formatBytes(sizeLimitMb * MiB)}${refused}`,
    detail: limitText,
    fix: fixed
      ? "this kernel's udmabuf limit cannot be changed (6.1 has the size_limit_mb parameter): allocate from a " +
        `dma-heap (--heap system), or use buffers of at most ${formatBytes(sizeLimitMb * MiB)}`
      : `echo ${wanted} > ${UDMABUF_PARAMETERS}/size_limit_mb as root (now), or udmabuf.size_limit_mb=${wanted} ` +
        "on the kernel command line (at boot)",
    data,
  };
}

function openFilesCheck(facts: Facts): Verdict {
  const found = facts.limits.openFiles;
  if (found === null) {
    return {
      status: "skip",
      summary: "the open-files limit of the process that started dmabuf is not readable",
      fix: "look at it with ulimit -n",
    };
  }
  const { pid, limit } = found;
  const text = (n: number | null) => n === null ? "unlimited" : String(n);
  const summary =
    `pid ${pid} (the process that started dmabuf): soft ${text(limit.soft)}, hard ${text(limit.hard)}` +
    "; every dma-buf fd counts";
  const data = { pid, soft: limit.soft, hard: limit.hard };
  if (limit.soft === null || limit.soft >= OPEN_FILES_ENOUGH) return { status: "ok", summary, data };
  const canRaise = limit.hard === null || limit.hard >= OPEN_FILES_ENOUGH;
  return {
    status: "warn",
    summary: `${summary}: fewer than ${OPEN_FILES_ENOUGH}`,
    fix: canRaise
      ? `ulimit -n ${
        limit.hard === null ? OPEN_FILES_ENOUGH * 4 : Math.min(limit.hard, OPEN_FILES_ENOUGH * 4)
      } ` +
        "in the shell, or LimitNOFILE= in the service's systemd unit"
      : `raise the hard limit: nofile in /etc/security/limits.conf, or LimitNOFILE= in the service's systemd unit`,
    data,
  };
}

function cgroupCheck(facts: Facts): Verdict {
  const { memAccounting, cgroup } = facts.limits;
  const data = {
    memAccounting,
    memoryMax: cgroup?.memoryMax ?? null,
    memoryCurrent: cgroup?.memoryCurrent ?? null,
  };
  if (memAccounting === null) {
    return {
      status: "ok",
      summary: "no dma_heap.mem_accounting parameter: heap buffers are not charged to the allocating cgroup",
      data,
    };
  }
  if (!memAccounting) {
    return {
      status: "ok",
      summary: "dma_heap.mem_accounting=N: heap buffers are not charged to cgroups",
      data,
    };
  }
  if (cgroup === null) {
    return { status: "ok", summary: "dma_heap.mem_accounting=Y, but this process is in no cgroup v2", data };
  }
  const max = cgroup.memoryMax;
  const where = `cgroup ${cgroup.path}`;
  if (max === null || max === "max") {
    return {
      status: "ok",
      summary: `dma_heap.mem_accounting=Y: system-heap buffers are charged to ${where}, memory.max ${
        max ?? "unreadable"
      }`,
      data,
    };
  }
  const room = max - (cgroup.memoryCurrent ?? 0);
  const size = facts.request.size;
  const summary = `dma_heap.mem_accounting=Y: system-heap buffers are charged to ${where}: memory.max ` +
    `${formatBytes(max)}, ${formatBytes(cgroup.memoryCurrent ?? 0)} in use`;
  if (size === null || size <= room || !targets(facts).includes("system")) {
    return { status: "ok", summary, data };
  }
  return {
    status: "fail",
    summary: `${summary}: ${formatBytes(size)} does not fit in the ${formatBytes(Math.max(room, 0))} left`,
    fix:
      `raise memory.max of ${cgroup.path} (MemoryMax= for a systemd unit), or boot with dma_heap.mem_accounting=0`,
    data,
  };
}

/** The limit checks, in order. */
export function limitChecks(): DoctorCheck[] {
  return [
    {
      id: "limits.udmabuf",
      section: "limits",
      title: "udmabuf's size_limit_mb and list_limit against --size",
      requires: ["kernel.udmabuf"],
      run: udmabufLimitCheck,
    },
    {
      id: "limits.open-files",
      section: "limits",
      title: "the open-files limit (RLIMIT_NOFILE)",
      requires: [],
      run: openFilesCheck,
    },
    {
      id: "limits.cgroup-memory",
      section: "limits",
      title: "the cgroup's memory.max, where heap buffers are charged (dma_heap.mem_accounting)",
      requires: [],
      run: cgroupCheck,
    },
  ];
}
