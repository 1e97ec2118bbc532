/**
 * The running kernel's version, for the few statements that only a version can support (a behaviour no
 * probe can show without side effects). Everything else is probed: an ioctl the kernel lacks answers ENOTTY,
 * a file it lacks does not exist.
 *
 * ```ts
 * kernelVersion("6.12.118-amd64"); // { major: 6, minor: 12 }
 * kernelAtLeast("6.8");            // on the running kernel
 * ```
 * @module
 */

/** A kernel version, major and minor (`6.12`). */
export interface KernelVersion {
  major: number;
  minor: number;
}

/** The version of a `uname -r` release (`6.12.118-1-amd64` → 6.12); null when it does not start with one. */
export function kernelVersion(release: string = Deno.osRelease()): KernelVersion | null {
  const match = /^(\d+)\.(\d+)/.exec(release);
  return match === null ? null : { major: Number(match[1]), minor: Number(match[2]) };
}

/** Parses `"6.8"` into a {@link KernelVersion}. @throws {RangeError} when it is not MAJOR.MINOR */
export function parseKernelVersion(text: string): KernelVersion {
  const version = /^\d+\.\d+$/.test(text) ? kernelVersion(text) : null;
  if (version === null) throw new RangeError(`Not a kernel version: "${text}" (expected MAJOR.MINOR)`);
  return version;
}

/** Whether `version` is `since` or later. */
export function versionAtLeast(version: KernelVersion, since: KernelVersion): boolean {
  return version.major !== since.major ? version.major > since.major : version.minor >= since.minor;
}

/**
 * Whether the kernel (`release`, default the running one) is `since` (`"6.8"`) or later; false when the
 * release does not start with a version.
 */
export function kernelAtLeast(since: string, release: string = Deno.osRelease()): boolean {
  const version = kernelVersion(release);
  return version !== null && versionAtLeast(version, parseKernelVersion(since));
}
