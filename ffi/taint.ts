/**
 * The kernel's taint flags (`/proc/sys/kernel/tainted`, `include/linux/panic.h` `TAINT_*`, the letters of
 * `kernel/panic.c` `taint_flags`): a test run that taints the kernel must say so, because a lab's later
 * results on that boot are suspect (and some tests, like sw_sync fence creation on 7.x, taint by design).
 *
 * ```ts
 * const before = readTaint();
 * // ... run something ...
 * const added = taintFlags(readTaint()! & ~before!); // [{ bit: 14, letter: "L", name: "TAINT_SOFTLOCKUP", ... }]
 * ```
 * @module
 */

import { readProcSysFile } from "./fd.ts";

/** Where the kernel shows its taint mask. */
export const TAINTED_PATH = "/proc/sys/kernel/tainted";

/** One taint flag: its bit, the letter `Tainted:` lines print, the kernel's name and what it means. */
export interface TaintFlag {
  bit: number;
  letter: string;
  name: string;
  meaning: string;
}

/** The flags known to Linux 7.2 (`TAINT_FLAGS_COUNT` = 20); a higher bit is reported by number. */
const FLAGS: readonly Omit<TaintFlag, "bit">[] = [
  { letter: "P", name: "TAINT_PROPRIETARY_MODULE", meaning: "a proprietary module was loaded" },
  { letter: "F", name: "TAINT_FORCED_MODULE", meaning: "a module was force-loaded" },
  { letter: "S", name: "TAINT_CPU_OUT_OF_SPEC", meaning: "the CPU runs out of specification" },
  { letter: "R", name: "TAINT_FORCED_RMMOD", meaning: "a module was force-unloaded" },
  { letter: "M", name: "TAINT_MACHINE_CHECK", meaning: "a machine check exception occurred" },
  { letter: "B", name: "TAINT_BAD_PAGE", meaning: "a bad page was referenced or some unexpected page flags" },
  { letter: "U", name: "TAINT_USER", meaning: "taint requested by userspace" },
  { letter: "D", name: "TAINT_DIE", meaning: "the kernel died recently (OOPS or BUG)" },
  { letter: "A", name: "TAINT_OVERRIDDEN_ACPI_TABLE", meaning: "an ACPI table was overridden" },
  { letter: "W", name: "TAINT_WARN", meaning: "the kernel issued a warning" },
  { letter: "C", name: "TAINT_CRAP", meaning: "a staging driver was loaded" },
  { letter: "I", name: "TAINT_FIRMWARE_WORKAROUND", meaning: "a workaround for a platform firmware bug" },
  { letter: "O", name: "TAINT_OOT_MODULE", meaning: "an out-of-tree module was loaded" },
  { letter: "E", name: "TAINT_UNSIGNED_MODULE", meaning: "an unsigned module was loaded" },
  {
    letter: "L",
    name: "TAINT_SOFTLOCKUP",
    meaning:
      "a soft lockup occurred, or something that can deadlock the kernel ran (7.2: sw_sync fence creation)",
  },
  { letter: "K", name: "TAINT_LIVEPATCH", meaning: "the kernel was live-patched" },
  { letter: "X", name: "TAINT_AUX", meaning: "an auxiliary taint, defined by distributions" },
  { letter: "T", name: "TAINT_RANDSTRUCT", meaning: "the kernel was built with the randstruct plugin" },
  { letter: "N", name: "TAINT_TEST", meaning: "an in-kernel test (KUnit) ran" },
  { letter: "J", name: "TAINT_FWCTL", meaning: "fwctl's debug interface was used" },
];

/** `TAINT_SOFTLOCKUP`, the bit `sw_sync_ioctl_create_fence` sets on 7.2. */
export const TAINT_SOFTLOCKUP_BIT = 14;

/** The kernel's taint mask; null when it cannot be read (no /proc, or CONFIG_PROC_SYSCTL off). */
export function readTaint(path = TAINTED_PATH): number | null {
  try {
    const value = Number(readProcSysFile(path).trim());
    return Number.isSafeInteger(value) && value >= 0 ? value : null;
  } catch {
    return null;
  }
}

/** The flags set in `mask`, lowest bit first. */
export function taintFlags(mask: number): TaintFlag[] {
  const flags: TaintFlag[] = [];
  for (let bit = 0; bit < 53 && 2 ** bit <= mask; bit++) {
    if (Math.floor(mask / 2 ** bit) % 2 === 0) continue;
    const known = FLAGS[bit];
    flags.push(
      known === undefined
        ? { bit, letter: "?", name: `taint bit ${bit}`, meaning: "not known to dmabuf" }
        : { bit, ...known },
    );
  }
  return flags;
}

/** The bits set in `after` that were clear in `before`. */
export function addedTaint(before: number, after: number): number {
  return Number(BigInt(after) & ~BigInt(before));
}

/** Flags in words: `L (TAINT_SOFTLOCKUP: ...)`, comma-separated. */
export function describeTaint(mask: number): string {
  return taintFlags(mask).map((f) => `${f.letter} (${f.name}: ${f.meaning})`).join(", ");
}
