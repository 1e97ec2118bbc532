/**
 * Finds the kernel's KTAP parser, `tools/testing/kunit/kunit.py`: in a kernel tree of the VM cache
 * (`~/.cache/dmabuf-vm/<kernel>/linux`), else extracted once from Debian's `/usr/src/linux-source-*.tar.xz`
 * into `~/.cache/dmabuf/kunit-<version>` (only `tools/testing/kunit`, a few seconds).
 * @module
 */

/** Why the kunit.py tests are ignored when {@link findKunit} finds nothing. */
export const KUNIT_MISSING =
  "no kunit.py: no kernel tree in ~/.cache/dmabuf-vm and no /usr/src/linux-source-*.tar.xz";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    return names.sort();
  } catch {
    return [];
  }
}

/** The path of a kunit.py, or null when there is none and no kernel source to take one from. */
export async function findKunit(): Promise<string | null> {
  const home = Deno.env.get("HOME") ?? "/root";
  const vmCache = `${home}/.cache/dmabuf-vm`;
  for (const kernel of await entries(vmCache)) {
    const path = `${vmCache}/${kernel}/linux/tools/testing/kunit/kunit.py`;
    if (await exists(path)) return path;
  }
  const tarballs = (await entries("/usr/src")).filter((n) => /^linux-source-.*\.tar\.xz$/.test(n));
  const tarball = tarballs[0];
  if (tarball === undefined) return null;
  const version = tarball.replace(/^linux-source-|\.tar\.xz$/g, "");
  const dir = `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/dmabuf/kunit-${version}`;
  const path = `${dir}/linux-source-${version}/tools/testing/kunit/kunit.py`;
  if (await exists(path)) return path;
  await Deno.mkdir(dir, { recursive: true });
  const tar = await new Deno.Command("tar", {
    args: ["-xJf", `/usr/src/${tarball}`, "-C", dir, `linux-source-${version}/tools/testing/kunit`],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!tar.success) {
    throw new Error(
      `Cannot extract kunit.py from /usr/src/${tarball}: ${new TextDecoder().decode(tar.stderr)}`,
    );
  }
  return path;
}
