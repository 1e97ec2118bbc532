/**
 * The version-gated features: whether this kernel has each, probed where a probe is possible (an ioctl with
 * an argument the kernel refuses: EINVAL when it knows the request, ENOTTY when not; the BPF iterator by its
 * name in the kernel's BTF), and by the kernel version only where nothing could be probed.
 * @module
 */

import type { Facts, FeatureProbe } from "../facts.ts";
import type { DoctorCheck, Verdict } from "../runner.ts";
import { atLeast, linuxName } from "../model.ts";

/** A version-gated feature. */
interface Feature {
  /** The check id's last part. */
  id: string;
  /** What it is. */
  name: string;
  /** The release that brought it. */
  since: [number, number];
  /** The probe's outcome in the facts. */
  probe: (facts: Facts) => FeatureProbe;
  /** What a kernel without it means for the user. */
  without: string;
  /** What else the kernel needs besides the release. */
  needs?: string;
}

const FEATURES: readonly Feature[] = [
  {
    id: "export-sync-file",
    name: "DMA_BUF_IOCTL_EXPORT_SYNC_FILE",
    since: [6, 0],
    probe: (f) => f.features.exportSyncFile,
    without:
      "a buffer's implicit fences cannot be taken out as a sync_file (poll() on the dma-buf fd still waits for them)",
  },
  {
    id: "import-sync-file",
    name: "DMA_BUF_IOCTL_IMPORT_SYNC_FILE",
    since: [6, 0],
    probe: (f) => f.features.importSyncFile,
    without: "a sync_file's fence cannot be attached to a buffer from userspace",
  },
  {
    id: "set-deadline",
    name: "SYNC_IOC_SET_DEADLINE",
    since: [6, 8],
    probe: (f) => f.features.setDeadline,
    without: "fence deadline hints are not passed to drivers (dmabuf fence deadline refuses)",
  },
  {
    id: "bpf-dmabuf-iter",
    name: "the BPF dmabuf iterator (iter/dmabuf)",
    since: [6, 16],
    probe: (f) => f.features.bpfDmabufIter,
    without: "the per-buffer list needs debugfs (bufinfo) as root",
    needs: "CONFIG_BPF_SYSCALL=y and CONFIG_DEBUG_INFO_BTF=y",
  },
];

function decide(facts: Facts, feature: Feature): Verdict {
  const probe = feature.probe(facts);
  const [major, minor] = feature.since;
  const release = `Linux ${major}.${minor}`;
  const upgrade = `${release} or later` + (feature.needs === undefined ? "" : ` with ${feature.needs}`) +
    `; until then ${feature.without}`;
  const data = { present: probe.present, since: `${major}.${minor}` };
  if (probe.present === true) return { status: "ok", summary: `present (${probe.reason})`, data };
  if (probe.present === false) {
    return { status: "warn", summary: `absent (${probe.reason}); it came in ${release}`, fix: upgrade, data };
  }
  const byVersion = atLeast(facts, major, minor);
  if (byVersion === false) {
    return {
      status: "warn",
      summary: `absent: ${linuxName(facts)} predates it (${release}); not probed: ${probe.reason}`,
      fix: upgrade,
      data,
    };
  }
  const nothing = facts.heaps.nodes.length === 0 && facts.heaps.udmabuf === null;
  return {
    status: "skip",
    summary: `not probed: ${probe.reason}` +
      (byVersion === true ? `; by its version (${linuxName(facts)}) it should have it` : ""),
    fix: nothing
      ? "a kernel with dma-heaps or udmabuf to probe on (see kernel.dma-heap)"
      : "run as root, or give this user a heap (see access.*), so doctor can allocate a buffer to probe on",
    data,
  };
}

/** The version-gated feature checks, in order. */
export function featureChecks(): DoctorCheck[] {
  return FEATURES.map((feature) => ({
    id: `feature.${feature.id}`,
    section: "features",
    title: `${feature.name} (${feature.since.join(".")})`,
    requires: [],
    run: (facts: Facts) => decide(facts, feature),
  }));
}
