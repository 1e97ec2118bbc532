/**
 * Hardware gates for the real-kernel tests: a test declares what it needs (a dma-heap, udmabuf, sw_sync,
 * vgem, bufinfo), and {@linkcode hwTest} registers it normally when everything is there, as ignored with the
 * reason in its name when something is missing, or — with `DMABUF_REQUIRE_HW=1`, as the test VM sets it — as
 * a failing test, so a VM that lost a device cannot pass vacuously.
 *
 * ```ts
 * import { hwTest, needs } from "./hw.ts";
 *
 * hwTest({
 *   name: "system heap allocates a page",
 *   needs: [needs.systemHeap],
 *   fn: () => {
 *     // ...
 *   },
 * });
 * ```
 *
 * The checks read /dev, /sys and debugfs through Deno's file APIs, which needs `--allow-all`.
 *
 * @module
 */

/** Something a test needs from the kernel, with a check run once when the test is registered. */
export interface Need {
  /** What is needed, in words, e.g. `the system dma-heap`. */
  readonly what: string;
  /** Returns why the need is not met on this machine (e.g. `no /dev/udmabuf`), or undefined when it is. */
  readonly missing: () => string | undefined;
}

/** A {@linkcode Deno.TestDefinition} that also lists what it needs. */
export type HwTestDefinition = Omit<Deno.TestDefinition, "ignore"> & {
  /** Every need must be met for the test to run. */
  needs: readonly Need[];
};

/** The environment variable that turns missing hardware into failures (the test VM sets it to 1). */
export const REQUIRE_HW_ENV = "DMABUF_REQUIRE_HW";

/** Heap names the kernel gives the CMA heap: the default CMA area, or a devicetree `linux,cma` region. */
const CMA_HEAP_NAMES = ["reserved", "linux,cma"] as const;
const DMA_HEAP_DIR = "/dev/dma_heap";
/**
 * DRM devices in sysfs (`/sys/class/drm/cardN/device`): vgem's is named `vgem`, a platform device up to 6.x
 * (`/sys/devices/platform/vgem`), a faux device on 7.2 (`/sys/devices/faux/vgem`).
 */
const DRM_SYSFS = "/sys/class/drm";
/** Where the kernel's own BTF is (CONFIG_DEBUG_INFO_BTF). */
const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";
/** Present exactly when the kernel has the bpf() syscall. */
const UNPRIVILEGED_BPF_SYSCTL = "/proc/sys/kernel/unprivileged_bpf_disabled";

/** Whether missing hardware must fail tests instead of skipping them. */
export function hwRequired(): boolean {
  return Deno.env.get(REQUIRE_HW_ENV) === "1";
}

/** Whether `path` exists (stat follows links). */
export function exists(path: string): boolean {
  return cannotSee(path) === undefined;
}

/** Why a path cannot be stat'ed, or undefined when it can. */
function cannotSee(path: string): string | undefined {
  try {
    Deno.statSync(path);
    return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `no ${path}`;
    return `cannot see ${path}: ${(error as Error).message}`;
  }
}

/** Why a device node cannot be opened read-write, or undefined when it can. Opening it must be harmless. */
function cannotOpen(path: string): string | undefined {
  try {
    Deno.openSync(path, { read: true, write: true }).close();
    return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `no ${path}`;
    if (error instanceof Deno.errors.PermissionDenied) return `no read-write access to ${path}`;
    return `cannot open ${path}: ${(error as Error).message}`;
  }
}

/** A need met when a device node can be opened read-write (opening must have no side effect). */
export function deviceNeed(what: string, path: string): Need {
  return { what, missing: () => cannotOpen(path) };
}

/** A need met when a file or directory exists and is visible to this process. */
export function fileNeed(what: string, path: string): Need {
  return { what, missing: () => cannotSee(path) };
}

/** Path of the CMA dma-heap under its usual names, or undefined when there is none. */
export function cmaHeapPath(): string | undefined {
  return CMA_HEAP_NAMES.map((name) => `${DMA_HEAP_DIR}/${name}`).find((path) =>
    cannotSee(path) === undefined
  );
}

/** Path of vgem's primary DRM node (`/dev/dri/cardN`), or undefined when vgem is not there. */
export function vgemCardPath(): string | undefined {
  try {
    for (const entry of Deno.readDirSync(DRM_SYSFS)) {
      if (!/^card\d+$/.test(entry.name)) continue;
      const device = Deno.realPathSync(`${DRM_SYSFS}/${entry.name}/device`);
      if (device.endsWith("/vgem")) return `/dev/dri/${entry.name}`;
    }
  } catch {
    // No DRM devices.
  }
  return undefined;
}

/** The needs of the dmabuf tests, each checked when a test using it is registered. */
export const needs = {
  systemHeap: deviceNeed("the system dma-heap", `${DMA_HEAP_DIR}/system`),
  cmaHeap: {
    what: "a CMA dma-heap",
    missing: () => {
      const path = cmaHeapPath();
      return path === undefined
        ? `no CMA heap (${CMA_HEAP_NAMES.join(" or ")}) in ${DMA_HEAP_DIR}`
        : cannotOpen(path);
    },
  },
  udmabuf: deviceNeed("udmabuf", "/dev/udmabuf"),
  /** Opening sw_sync creates a timeline, so only its presence is checked. */
  swSync: fileNeed("sw_sync", "/sys/kernel/debug/sync/sw_sync"),
  vgem: {
    what: "the vgem DRM device",
    missing: () => {
      const path = vgemCardPath();
      return path === undefined ? `no vgem device (${DRM_SYSFS}/card*/device)` : cannotOpen(path);
    },
  },
  bufinfo: fileNeed("dma-buf bufinfo", "/sys/kernel/debug/dma_buf/bufinfo"),
  /**
   * For host tests only: the real-kernel tiers assert the refusal where the iterator is missing instead. Root,
   * the bpf() syscall (its sysctl) and BTF naming bpf_iter_dmabuf (6.16+), found by a byte search of the BTF
   * so the check does not use the parser under test.
   */
  bpfIterator: {
    what: "the BPF iterator iter/dmabuf",
    missing: () => {
      if (Deno.uid() !== 0) return "not root";
      if (cannotSee(UNPRIVILEGED_BPF_SYSCTL) !== undefined) return "no bpf() syscall";
      let btf: Uint8Array;
      try {
        btf = Deno.readFileSync(VMLINUX_BTF);
      } catch {
        return `no ${VMLINUX_BTF}`;
      }
      const name = new TextEncoder().encode("\0bpf_iter_dmabuf\0");
      for (let i = btf.indexOf(0); i !== -1; i = btf.indexOf(0, i + 1)) {
        if (name.every((byte, j) => btf[i + j] === byte)) return undefined;
      }
      return "no bpf_iter_dmabuf in the kernel's BTF (Linux 6.16+)";
    },
  },
} as const satisfies Record<string, Need>;

/** Reasons the given needs are not met here, one per unmet need. */
export function unmet(list: readonly Need[]): string[] {
  return list.flatMap((need) => need.missing() ?? []);
}

/**
 * Registers a test that needs kernel hardware: run when every need is met; otherwise ignored with the
 * reasons in its name, or failing when `DMABUF_REQUIRE_HW=1`.
 *
 * @param definition a Deno.test definition plus `needs`
 */
export function hwTest(definition: HwTestDefinition): void {
  const { needs: list, ...test } = definition;
  const reasons = unmet(list);
  if (reasons.length === 0) {
    Deno.test(test);
  } else if (hwRequired()) {
    Deno.test({
      ...test,
      fn: () => {
        throw new Error(`Missing hardware with ${REQUIRE_HW_ENV}=1: ${reasons.join(", ")}`);
      },
    });
  } else {
    Deno.test({
      ...test,
      name: `${test.name} [ignored: ${reasons.join(", ")} on this machine]`,
      ignore: true,
    });
  }
}
