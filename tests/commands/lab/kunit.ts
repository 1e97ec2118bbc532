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

/** A kunit.py and the kernel version of its tree (`5.10.223`), whose KTAP dialect it reads. */
export interface Kunit {
  path: string;
  release: string;
}

/**
 * Every kunit.py of the VM cache's kernel trees (`~/.cache/dmabuf-vm/<version>-<hash>/linux`), one per kernel
 * version, oldest first; else one extracted from `/usr/src`; [] when there is none.
 */
export async function findKunits(): Promise<Kunit[]> {
  const home = Deno.env.get("HOME") ?? "/root";
  const vmCache = `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/dmabuf-vm`;
  const found = new Map<string, Kunit>();
  for (const kernel of await entries(vmCache)) {
    const release = /^(\d+\.\d+(?:\.\d+)?)/.exec(kernel)?.[1];
    const path = `${vmCache}/${kernel}/linux/tools/testing/kunit/kunit.py`;
    if (release !== undefined && !found.has(release) && await exists(path)) {
      found.set(release, { path, release });
    }
  }
  if (found.size > 0) {
    const key = (r: string) => r.split(".").map((n) => n.padStart(4, "0")).join(".");
    return [...found.values()].sort((a, b) => key(a.release).localeCompare(key(b.release)));
  }
  const path = await findKunit();
  if (path === null) return [];
  return [{ path, release: /kunit-(\d+\.\d+(?:\.\d+)?)/.exec(path)?.[1] ?? "6.1" }];
}

/** The path of a kunit.py, or null when there is none and no kernel source to take one from. */
export async function findKunit(): Promise<string | null> {
  const home = Deno.env.get("HOME") ?? "/root";
  const vmCache = `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/dmabuf-vm`;
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

/** What a kunit.py made of a KTAP text: exit status, stdout, stderr and its KernelCI-style JSON. */
export interface KunitRun {
  code: number;
  stdout: string;
  stderr: string;
  json: KunitGroup;
}

/** A group of kunit.py's JSON (`kunit_json.py`): sub-groups per suite, test cases with a status. */
export interface KunitGroup {
  name: string;
  /** Absent from 5.10's root group. */
  sub_groups?: KunitGroup[];
  /** Absent from 5.10's root group. */
  test_cases?: { name: string; status: string }[];
}

/** Runs `kunit.py parse --json=FILE` on `text`. */
export async function kunitParse(kunit: string, text: string): Promise<KunitRun> {
  const dir = await Deno.makeTempDir({ prefix: "dmabuf-ktap-" });
  try {
    const input = `${dir}/smoke.ktap`;
    const json = `${dir}/smoke.json`;
    await Deno.writeTextFile(input, text);
    const output = await new Deno.Command("python3", {
      args: [kunit, "parse", `--json=${json}`, input],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
      json: JSON.parse(await Deno.readTextFile(json)) as KunitGroup,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Counts of a report, as kunit.py must find them. */
export interface KunitCounts {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Checks kunit.py's summary line and error markers against `counts`. kunit.py from 6.x prints `Ran N tests:
 * passed: P[, failed: F][, skipped: S]` (or `Passed: ..., Skipped: S, Errors: 0`); 5.10's prints `N tests run.
 * F failed. 0 crashed.` and, knowing no SKIP directive, counts a skipped check as passed.
 */
export function assertKunitSummary(stdout: string, counts: KunitCounts): void {
  const { total, passed, failed, skipped } = counts;
  const modern = `Testing complete\\. Ran ${total} tests: passed: ${passed}` +
    `${failed > 0 ? `, failed: ${failed}` : ""}${skipped > 0 ? `, skipped: ${skipped}` : ""}$|` +
    `Testing complete\\. Passed: ${passed}, Failed: ${failed}, Crashed: 0, Skipped: ${skipped}, Errors: 0`;
  const old = `Testing complete\\. ${total} tests run\\. ${failed} failed\\. 0 crashed\\.`;
  if (!new RegExp(`${modern}|${old}`, "m").test(stdout)) {
    throw new Error(`kunit.py's summary does not match ${JSON.stringify(counts)}:\n${stdout}`);
  }
  if (/\[CRASHED\]|\[ERROR\]|[Ee]rrors?: [1-9]|missing|could not find|failed to parse/.test(stdout)) {
    throw new Error(`kunit.py reported a parse problem:\n${stdout}`);
  }
}

/**
 * Every test case of kunit.py's JSON as `group/name STATUS`. 5.10's kunit.py keeps a SKIP directive in the
 * name (`open # SKIP reason`) with status PASS: the name is cut at ` # ` and such a case reported as SKIP.
 */
export function kunitCases(group: KunitGroup, path: string[] = []): string[] {
  return [
    ...(group.test_cases ?? []).map((t) => {
      const skip = / # SKIP\b/.exec(t.name);
      const name = skip === null ? t.name : t.name.slice(0, skip.index);
      return `${[...path, name].join("/")} ${skip === null ? t.status : "SKIP"}`;
    }),
    ...(group.sub_groups ?? []).flatMap((g) => kunitCases(g, [...path, g.name])),
  ];
}
