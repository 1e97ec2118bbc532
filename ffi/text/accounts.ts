/**
 * Parsers of `/etc/passwd` and `/etc/group` (`name:password:id:...`), to name the users and groups a device
 * node's owner and a process's credentials are numbers of. Only the local files: names from NSS services
 * (LDAP, systemd's dynamic users) stay numbers.
 * @module
 */

/** A local group: its name, gid and listed members. */
export interface GroupEntry {
  /** The group name. */
  name: string;
  /** The gid. */
  gid: number;
  /** The users listed as supplementary members (the fourth field). */
  members: string[];
}

/** The user names of `/etc/passwd` by uid (the first name wins when two share a uid). */
export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 3 || line.startsWith("#")) continue;
    const uid = Number(fields[2]);
    if (Number.isInteger(uid) && !out.has(uid)) out.set(uid, fields[0]!);
  }
  return out;
}

/** The groups of `/etc/group`, in file order. */
export function parseGroups(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 3 || line.startsWith("#")) continue;
    const gid = Number(fields[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: fields[0]!, gid, members: (fields[3] ?? "").split(",").filter((m) => m !== "") });
  }
  return out;
}
