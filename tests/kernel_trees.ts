/**
 * The kernel trees a test must find in the VM cache. Tests that read the cache's kernel trees (the struct
 * layouts against each kernel's headers, each kernel's own kunit.py) run on whatever is built when run alone;
 * `npm test` runs them once more after the VM tiers, when every tier's kernel is built, with
 * `DMABUF_KERNEL_TREES` naming those kernels (`x86_64:5.10 arm64:6.12 ...`), and then a kernel missing from
 * the cache fails the test instead of leaving it out.
 * @module
 */

/** A kernel by architecture and `major.minor`. */
export interface TreeSpec {
  arch: string;
  version: string;
}

/** The kernels `DMABUF_KERNEL_TREES` requires, or null when it is not set. */
export function requiredTrees(): TreeSpec[] | null {
  const value = Deno.env.get("DMABUF_KERNEL_TREES");
  if (value === undefined || value.trim() === "") return null;
  return value.trim().split(/\s+/).map((word) => {
    const match = /^([a-z0-9_]+):(\d+\.\d+)$/.exec(word);
    if (match === null) throw new Error(`DMABUF_KERNEL_TREES: "${word}" is not ARCH:MAJOR.MINOR`);
    return { arch: match[1]!, version: match[2]! };
  });
}

/** The required kernels (`arm64:6.12`) that none of `found` is: same architecture, a release of that version. */
export function missingTrees(required: TreeSpec[], found: TreeSpec[]): string[] {
  const of = (release: string) => release.split(".").slice(0, 2).join(".");
  return required
    .filter((want) => !found.some((have) => have.arch === want.arch && of(have.version) === want.version))
    .map((want) => `${want.arch}:${want.version}`);
}
