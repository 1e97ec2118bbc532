/**
 * CMA: CmaTotal/CmaFree, `cma=` on the kernel command line, each area as sysfs and debugfs show it, and why
 * an allocation from a CMA heap failed: the area is smaller than the buffer ("size"), the area is in use,
 * free memory is split so that no chunk is large enough ("fragmentation"), or something else (the errno).
 * @module
 */

import { formatBytes } from "../../toolkit/units.ts";
import type { CmaArea } from "../../../ffi/cma.ts";
import type { AllocTrial, Facts } from "../facts.ts";
import type { DoctorCheck, Verdict } from "../runner.ts";
import { areaUse, atLeast, cmaParameter, linuxName, option } from "../model.ts";
import { DEBUGFS_MOUNT_FIX } from "./kernel.ts";

/** The stable name of a CMA failure's cause (in `data.cause` of `--json`). */
export type CmaCause = "size" | "in-use" | "fragmentation" | "unknown" | "other";

function totalCheck(facts: Facts): Verdict {
  const { cmaTotal, cmaFree } = facts.memory;
  const cmdline = facts.cma.cmdline;
  const data = { cmaTotal, cmaFree, cmdline };
  if (cmaTotal === null) {
    return {
      status: "warn",
      summary: "no CMA: /proc/meminfo has no CmaTotal",
      fix: "a kernel with CONFIG_CMA=y and CONFIG_DMA_CMA=y, and cma=64M on its command line",
      data,
    };
  }
  if (cmaTotal === 0) {
    return {
      status: "warn",
      summary: "CmaTotal is 0: no CMA area was reserved at boot",
      fix: "cma=64M on the kernel command line (or CONFIG_CMA_SIZE_MBYTES=64)",
      data,
    };
  }
  const configured = facts.config.options?.["CONFIG_CMA_SIZE_MBYTES"];
  const source = cmdline !== null
    ? `cma=${cmdline} on the kernel command line`
    : configured !== undefined && option(facts, "CONFIG_CMA") === "y"
    ? `no cma= on the kernel command line (CONFIG_CMA_SIZE_MBYTES=${configured}, or a devicetree region)`
    : "no cma= on the kernel command line";
  return {
    status: "ok",
    summary: `CmaTotal ${formatBytes(cmaTotal)}, CmaFree ${formatBytes(cmaFree ?? 0)}; ${source}`,
    data,
  };
}

/** `reserved: 64 MiB, 1 MiB used, largest free chunk 63 MiB; 3 failed page allocations since boot`. */
function describeArea(facts: Facts, area: CmaArea): string {
  const use = areaUse(facts, area);
  const parts: string[] = [];
  if (use.total !== null) parts.push(formatBytes(use.total));
  // CmaFree is not what the area has free (see AreaUse.from), so only the area's own counts are shown.
  if (use.used !== null && use.from !== "meminfo") parts.push(`${formatBytes(use.used)} used`);
  if (use.largest !== null) parts.push(`largest free chunk ${formatBytes(use.largest)}`);
  const failed = area.sysfs?.allocPagesFail;
  if (failed !== null && failed !== undefined && failed > 0) {
    parts.push(`${failed} pages failed to allocate since boot`);
  }
  return `${area.name}: ${parts.length === 0 ? "listed, no sizes readable" : parts.join(", ")}`;
}

function areasCheck(facts: Facts): Verdict {
  const { areas, sysfsError, debugfsError } = facts.cma;
  const sources = `sysfs ${sysfsError ?? "read"}, debugfs ${
    (debugfsError ?? "read").replace(/^debugfs /, "")
  }`;
  if (areas.length === 0) {
    // debugfs's cma/ directory (CONFIG_CMA_DEBUGFS) is the only source before CMA's sysfs came in 5.14.
    const debugfs = debugfsError === "debugfs not mounted"
      ? `${DEBUGFS_MOUNT_FIX}; its cma/ directory needs CONFIG_CMA_DEBUGFS=y`
      : "run as root with debugfs mounted (needs CONFIG_CMA_DEBUGFS=y)";
    const sysfs = atLeast(facts, 5, 14) === false
      ? `${linuxName(facts)} predates CMA's sysfs (CONFIG_CMA_SYSFS, 5.14)`
      : "or a kernel with CONFIG_CMA_SYSFS=y";
    return {
      status: "warn",
      summary: `the CMA areas are not readable (${sources})`,
      fix: `${debugfs}${sysfs.startsWith("or ") ? ", " : "; "}${sysfs}`,
    };
  }
  const chunks = areas.every((a) => a.debugfs?.maxchunk !== null && a.debugfs?.maxchunk !== undefined);
  return {
    status: "ok",
    summary: areas.map((area) => describeArea(facts, area)).join("; "),
    detail: `${sources}` + (chunks ? "" : "; the largest free chunk needs CMA debugfs (root)"),
    data: Object.fromEntries(areas.map((a) => [a.name, areaUse(facts, a).total])),
  };
}

/**
 * Why an allocation of `trial.size` from the CMA heap over `area` failed, with the fix: "size" (the area is
 * smaller), "in-use" (less is free than asked for), "fragmentation" (enough is free, but no free chunk is
 * large enough), "unknown" (enough is free, the largest chunk could not be read), "other".
 */
export function cmaFailure(facts: Facts, trial: AllocTrial, area: CmaArea | null): Verdict {
  const use = areaUse(facts, area);
  const size = trial.size;
  const name = area === null ? "the CMA area" : `the CMA area ${area.name}`;
  const data = { cause: "other" as CmaCause, errno: trial.allocError, size, ...use };
  const fail = (cause: CmaCause, summary: string, fix: string, detail?: string): Verdict => ({
    status: "fail",
    summary: `${cause}: ${summary}`,
    fix,
    data: { ...data, cause },
    ...(detail === undefined ? {} : { detail }),
  });
  const errno = trial.allocError!;
  if (errno !== "ENOMEM") {
    return fail(
      "other",
      `allocating ${formatBytes(size)} failed with ${errno}`,
      "look for the heap's message in dmesg",
    );
  }
  const others = use.used ?? 0;
  const fromMeminfo = use.from === "meminfo" ? " (CmaFree in /proc/meminfo)" : "";
  if (use.total !== null && size > use.total) {
    return fail(
      "size",
      `${formatBytes(size)} is larger than ${name} (${formatBytes(use.total)})`,
      `${cmaParameter(size + others)} on the kernel command line (an area of at least ${formatBytes(size)}` +
        (others > 0 ? ` plus the ${formatBytes(others)} in use` : "") + ")",
    );
  }
  if (use.free !== null && size > use.free) {
    return fail(
      "in-use",
      `${formatBytes(use.free)} of ${name} is free${fromMeminfo}, less than ${formatBytes(size)}` +
        (use.used === null ? "" : ` (${formatBytes(use.used)} in use)`),
      `free the CMA buffers others hold (dmabuf stat --procs shows who holds dma-bufs), or reserve more: ` +
        `${cmaParameter(size + others)}`,
    );
  }
  if (use.largest !== null && use.largest < size) {
    return fail(
      "fragmentation",
      `${formatBytes(use.free ?? size)} of ${name} is free, but the largest free chunk is ` +
        `${formatBytes(use.largest)}, less than ${formatBytes(size)}`,
      `allocate the large buffers first and keep them (small long-lived buffers split the area), or reserve ` +
        `more: ${cmaParameter((use.total ?? others) + size)}`,
    );
  }
  if (use.largest === null) {
    return fail(
      "unknown",
      `ENOMEM although ${
        use.free === null ? "the free memory is unknown" : `${formatBytes(use.free)} is free${fromMeminfo}`
      }; ` +
        `probably fragmentation, but the largest free chunk could not be read (${
          facts.cma.debugfsError ?? "no maxchunk"
        })`,
      "run doctor as root with debugfs mounted (CONFIG_CMA_DEBUGFS=y) to read the largest free chunk",
    );
  }
  return fail(
    "other",
    `ENOMEM although the largest free chunk (${formatBytes(use.largest)}) holds ${formatBytes(size)}`,
    `CMA aligns a buffer to its power-of-two size (up to CONFIG_CMA_ALIGNMENT pages), which a chunk of that ` +
      `size may not meet: reserve more (${
        cmaParameter((use.total ?? others) + size)
      }) and look for cma_alloc ` +
      "messages in dmesg",
  );
}

/** The CMA checks, in order. */
export function cmaChecks(): DoctorCheck[] {
  return [
    {
      id: "cma.total",
      section: "cma",
      title: "CmaTotal/CmaFree in /proc/meminfo and cma= on the kernel command line",
      requires: [],
      run: totalCheck,
    },
    {
      id: "cma.areas",
      section: "cma",
      title: "each CMA area: size, use and largest free chunk (sysfs, debugfs)",
      requires: ["cma.total"],
      run: areasCheck,
    },
  ];
}
