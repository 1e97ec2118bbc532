/**
 * Parsers of a process's own procfs text: the ids in `/proc/<pid>/status` (`fs/proc/array.c`), its resource
 * limits in `/proc/<pid>/limits` (`fs/proc/base.c` `proc_pid_limits`) and its cgroup v2 path in
 * `/proc/<pid>/cgroup` (`0::/path`).
 * @module
 */

/** The credentials `/proc/<pid>/status` shows. */
export interface ProcessIds {
  /** Effective uid (the second of the four `Uid:` values). */
  uid: number;
  /** Effective gid. */
  gid: number;
  /** Supplementary groups (`Groups:`), in the kernel's order. */
  groups: number[];
}

/** The effective ids and supplementary groups from `/proc/<pid>/status`; null when a line is missing. */
export function parseStatusIds(text: string): ProcessIds | null {
  const field = (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name}:`));
    return line === undefined
      ? null
      : line.slice(name.length + 1).trim().split(/\s+/).filter((v) => v !== "");
  };
  const uid = field("Uid");
  const gid = field("Gid");
  const groups = field("Groups");
  if (uid === null || gid === null || uid.length < 2 || gid.length < 2) return null;
  return { uid: Number(uid[1]), gid: Number(gid[1]), groups: (groups ?? []).map(Number) };
}

/** A soft and hard resource limit; `null` stands for `unlimited`. */
export interface Limit {
  /** The soft limit (what the process gets), or null for unlimited. */
  soft: number | null;
  /** The hard limit (how far it may raise the soft one), or null for unlimited. */
  hard: number | null;
}

/**
 * The limits in `/proc/<pid>/limits` by name (`Max open files`, `Max locked memory`, ...). Lines read
 * `Max open files            1024                 524288               files`: the name is padded to 25
 * columns, so it is split there, not on spaces.
 */
export function parseLimits(text: string): Map<string, Limit> {
  const NAME_WIDTH = 25;
  const out = new Map<string, Limit>();
  const value = (word: string | undefined) =>
    word === undefined || word === "unlimited" ? null : Number(word);
  for (const line of text.split("\n").slice(1)) {
    if (line.trim() === "") continue;
    const name = line.slice(0, NAME_WIDTH).trim();
    const [soft, hard] = line.slice(NAME_WIDTH).trim().split(/\s+/);
    out.set(name, { soft: value(soft), hard: value(hard) });
  }
  return out;
}

/** The cgroup v2 path in `/proc/<pid>/cgroup` (the `0::` line), or null when the process is in none. */
export function parseCgroupV2Path(text: string): string | null {
  const line = text.split("\n").find((l) => l.startsWith("0::"));
  return line === undefined ? null : line.slice(3);
}
