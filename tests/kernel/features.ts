/**
 * What each kernel of the x86_64 tiers has, feature by feature, and what dmabuf does where a kernel lacks it:
 * the data of README.md's kernel table (tests/docs/kernel_table_test.ts checks that the README shows exactly
 * this) and of tests/kernel/features_test.ts, which probes each feature on the kernel it runs on and fails
 * when the probe disagrees with this table.
 *
 * Pure data: no FFI, so the host tier can read it.
 * @module
 */

/** The x86_64 tier kernels. */
export const TIER_KERNELS = ["5.10", "6.1", "6.12", "7.2"] as const;

/** One of {@link TIER_KERNELS}. */
export type TierKernel = typeof TIER_KERNELS[number];

/** A row of the table. */
export interface KernelFeature {
  /** Stable id (the probe's key). */
  id: string;
  /** The feature, as the README names it. */
  what: string;
  /** The kernel that brought it, as far as known here (`6.0`), or a range (`5.13–6.18`). */
  since: string;
  /** Which tier kernels have it. */
  has: Record<TierKernel, boolean>;
  /** What dmabuf does about it: where it is absent (older features), or where present (newer ones). */
  dmabuf: string;
}

const ALL: Record<TierKernel, boolean> = { "5.10": true, "6.1": true, "6.12": true, "7.2": true };
const FROM_6_1: Record<TierKernel, boolean> = { ...ALL, "5.10": false };
const ONLY_7_2: Record<TierKernel, boolean> = { "5.10": false, "6.1": false, "6.12": false, "7.2": true };

/** The table, in README order. */
export const KERNEL_FEATURES: readonly KernelFeature[] = [
  {
    id: "heap-exporter-name",
    what: "heap buffers exported under the heap's name",
    since: "5.11",
    has: FROM_6_1,
    dmabuf: "shows the kernel's `heap_helpers` as exporter, the heap beside it",
  },
  {
    id: "fdinfo-ino",
    what: "`ino:` in a dma-buf's fdinfo",
    since: "5.14",
    has: FROM_6_1,
    dmabuf: "takes the inode from `fstat` of the fd",
  },
  {
    id: "set-name-attached",
    what: "`DMA_BUF_SET_NAME` of a buffer with attachments",
    since: "5.17",
    has: FROM_6_1,
    dmabuf: "says why the kernel answers EBUSY",
  },
  {
    id: "bufinfo-name-column",
    what: "bufinfo name column and usage words (`write fence:`)",
    since: "5.19",
    has: FROM_6_1,
    dmabuf: "reads `Exclusive`/`Shared fence` lines (no seqno)",
  },
  {
    id: "sysfs-stats",
    what: "`/sys/kernel/dmabuf/buffers` (sysfs statistics)",
    since: "5.13–6.18",
    has: { "5.10": false, "6.1": true, "6.12": true, "7.2": false },
    dmabuf: "`stat` falls back to a /proc scan and says so",
  },
  {
    id: "sync-file-export-import",
    what: "`DMA_BUF_IOCTL_EXPORT_SYNC_FILE` / `IMPORT_SYNC_FILE`",
    since: "6.0",
    has: FROM_6_1,
    dmabuf: "refuses `fence export`/`import` naming 6.0; `fence-wait --dmabuf` polls; smoke, bench skip",
  },
  {
    id: "fence-deadline",
    what: "`SYNC_IOC_SET_DEADLINE`",
    since: "6.8",
    has: { "5.10": false, "6.1": false, "6.12": true, "7.2": true },
    dmabuf: "refuses `fence deadline` naming 6.8; `fence-wait --deadline` warns, waits",
  },
  {
    id: "default-cma-region",
    what: "CMA heap also named `default_cma_region`",
    since: "6.17",
    has: ONLY_7_2,
    dmabuf: "`heaps` shows one area, counted once; `--heap cma` takes `default_cma_region`",
  },
  {
    id: "bufinfo-context-seqno",
    what: "bufinfo fences as `context:seqno timeline driver`",
    since: "after 6.17",
    has: ONLY_7_2,
    dmabuf: "reads every format; JSON fences carry `context` and `seq`",
  },
  {
    id: "signalled-names-gone",
    what: "signalled fences no longer named (`signaled-timeline`)",
    since: "6.17",
    has: ONLY_7_2,
    dmabuf: "keeps names seen before the signal, else shows `?`, never the placeholder",
  },
  {
    id: "bpf-dmabuf-iterator",
    what: "BPF iterator `iter/dmabuf` (with BTF, the bpf() syscall, BPF_EVENTS)",
    since: "6.16",
    has: ONLY_7_2,
    dmabuf: "`stat --source bpf` lists every buffer without debugfs; elsewhere refuses naming 6.16",
  },
  {
    id: "dma-buf-events",
    what: "`events/dma_buf` tracepoints",
    since: "after 6.18",
    has: ONLY_7_2,
    dmabuf: "`trace` lists each buffer's life; elsewhere says it cannot",
  },
  {
    id: "sw-sync-enable-signaling",
    what: "sw_sync fences with an `enable_signaling` callback (traced `enable_signal`)",
    since: "gone after 6.12",
    has: { "5.10": true, "6.1": true, "6.12": true, "7.2": false },
    dmabuf: "(7.2: `trace` sees no sw_sync callbacks)",
  },
  {
    id: "sw-sync-taints",
    what: "creating a sw_sync fence taints the kernel (`L`)",
    since: "7.2 (seen)",
    has: ONLY_7_2,
    dmabuf: "`fence sw-sync` warns; smoke's `kernel-taint` check",
  },
  {
    id: "ktap-version-1",
    what: "kunit.py reads `KTAP version 1`",
    since: "6.1 (seen)",
    has: FROM_6_1,
    dmabuf: "`smoke --format ktap` writes KUnit's `TAP version 14`",
  },
];

/** The tier kernel a `uname -r` release belongs to, or undefined for another kernel. */
export function tierKernel(release: string): TierKernel | undefined {
  const version = /^(\d+\.\d+)/.exec(release)?.[1];
  return (TIER_KERNELS as readonly string[]).includes(version ?? "") ? version as TierKernel : undefined;
}

/**
 * The README table (markdown) of {@link KERNEL_FEATURES}: a row per feature, a yes/no column per tier kernel,
 * and what dmabuf does about it.
 */
export function featuresTable(): string {
  const rows = KERNEL_FEATURES.map((f) => [
    f.what,
    f.since,
    ...TIER_KERNELS.map((k) => f.has[k] ? "yes" : "no"),
    f.dmabuf,
  ]);
  const header = ["feature", "since", ...TIER_KERNELS, "what dmabuf does"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat(widths[i]! - [...c].length)).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

/**
 * Whether the kernel (`uname -r`, the running one by default) has feature `id`: the table's answer for a tier
 * kernel; for another kernel, whether it is at least the feature's `since` when that is a plain version.
 * @throws {Error} for an unknown id, or another kernel and a feature without a plain `since`
 */
export function kernelHas(id: string, release: string = Deno.osRelease()): boolean {
  const feature = KERNEL_FEATURES.find((f) => f.id === id);
  if (feature === undefined) throw new Error(`No feature ${id} in the kernel table`);
  const tier = tierKernel(release);
  if (tier !== undefined) return feature.has[tier];
  const since = /^(\d+)\.(\d+)$/.exec(feature.since);
  const version = /^(\d+)\.(\d+)/.exec(release);
  if (since === null || version === null) {
    throw new Error(`The kernel table cannot say whether ${release} has ${id} (since ${feature.since})`);
  }
  const [a, b] = [Number(version[1]), Number(version[2])];
  const [c, d] = [Number(since[1]), Number(since[2])];
  return a !== c ? a > c : b >= d;
}

/** The exporter name 5.10's heaps give their buffers (`DEFINE_DMA_BUF_EXPORT_INFO` in heap-helpers.c). */
export const HEAP_HELPERS_EXPORTER = "heap_helpers";

/** The exporter name the running kernel gives buffers of heap `heap`: the heap's name, or 5.10's heap_helpers. */
export function heapExporter(heap: string, release: string = Deno.osRelease()): string {
  return kernelHas("heap-exporter-name", release) ? heap : HEAP_HELPERS_EXPORTER;
}
