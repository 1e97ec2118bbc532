/**
 * POSIX access ACLs of a file (the `system.posix_acl_access` extended attribute), as systemd-logind's
 * `uaccess` tag leaves them on device nodes for the user of the active seat. Layout from
 * `include/uapi/linux/posix_acl_xattr.h`: a little-endian `__le32 a_version` (2), then 8-byte entries
 * `__le16 e_tag` @0, `__le16 e_perm` @2, `__le32 e_id` @4.
 * @module
 */

import { SyscallError } from "./errno.ts";
import { check, cString, libc } from "./libc.ts";

/** The attribute that holds a file's access ACL. */
export const ACL_XATTR = "system.posix_acl_access";

/** `POSIX_ACL_XATTR_VERSION`. */
const ACL_VERSION = 2;
const HEADER_SIZE = 4;
const ENTRY_SIZE = 8;
/** An ACL attribute is small: 4 + 8 bytes per entry; this fits 500 entries. */
const MAX_ACL_BYTES = 4096;

/** `e_tag` values (`include/uapi/linux/posix_acl.h`). */
export const AclTag = {
  ACL_USER_OBJ: 0x01,
  ACL_USER: 0x02,
  ACL_GROUP_OBJ: 0x04,
  ACL_GROUP: 0x08,
  ACL_MASK: 0x10,
  ACL_OTHER: 0x20,
} as const;

/** `e_perm` bits. */
export const AclPerm = { ACL_READ: 0x04, ACL_WRITE: 0x02, ACL_EXECUTE: 0x01 } as const;

/** One ACL entry. */
export interface AclEntry {
  /** `user`, `group` (named entries), `user_obj`, `group_obj`, `mask`, `other`. */
  tag: "user_obj" | "user" | "group_obj" | "group" | "mask" | "other";
  /** The uid or gid of a named entry, else null. */
  id: number | null;
  /** `rwx` bits (`ACL_READ` 4, `ACL_WRITE` 2, `ACL_EXECUTE` 1). */
  perm: number;
}

const TAGS = new Map<number, AclEntry["tag"]>([
  [AclTag.ACL_USER_OBJ, "user_obj"],
  [AclTag.ACL_USER, "user"],
  [AclTag.ACL_GROUP_OBJ, "group_obj"],
  [AclTag.ACL_GROUP, "group"],
  [AclTag.ACL_MASK, "mask"],
  [AclTag.ACL_OTHER, "other"],
]);

/**
 * Decodes a `system.posix_acl_access` value.
 * @throws {RangeError} for a wrong version, a length that is not whole entries, or an unknown tag
 */
export function parsePosixAcl(bytes: Uint8Array): AclEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER_SIZE || (bytes.byteLength - HEADER_SIZE) % ENTRY_SIZE !== 0) {
    throw new RangeError(`Invalid POSIX ACL: ${bytes.byteLength} bytes is not a header and whole entries`);
  }
  const version = view.getUint32(0, true);
  if (version !== ACL_VERSION) throw new RangeError(`Invalid POSIX ACL: version ${version}, expected 2`);
  const out: AclEntry[] = [];
  for (let at = HEADER_SIZE; at < bytes.byteLength; at += ENTRY_SIZE) {
    const code = view.getUint16(at, true);
    const tag = TAGS.get(code);
    if (tag === undefined) throw new RangeError(`Invalid POSIX ACL: unknown tag 0x${code.toString(16)}`);
    const named = tag === "user" || tag === "group";
    out.push({ tag, id: named ? view.getUint32(at + 4, true) : null, perm: view.getUint16(at + 2, true) });
  }
  return out;
}

/** `user:1000:rw-`, `group::r--`, `mask::rw-`, as getfacl writes an entry. */
export function formatAclEntry(entry: AclEntry): string {
  const kind = entry.tag.replace("_obj", "");
  const perm = (entry.perm & AclPerm.ACL_READ ? "r" : "-") + (entry.perm & AclPerm.ACL_WRITE ? "w" : "-") +
    (entry.perm & AclPerm.ACL_EXECUTE ? "x" : "-");
  return `${kind}:${entry.id ?? ""}:${perm}`;
}

/**
 * The access ACL of `path`, or null when it has none beyond its mode bits (`ENODATA`) or its filesystem has
 * no ACLs (`EOPNOTSUPP`).
 * @throws {SyscallError} for other failures (ENOENT, EACCES)
 * @throws {RangeError} when the attribute is malformed
 */
export function readPosixAcl(path: string): AclEntry[] | null {
  const out = new Uint8Array(MAX_ACL_BYTES);
  let length: number;
  try {
    length = Number(
      check(libc().getxattr(cString(path), cString(ACL_XATTR), out, BigInt(out.length)), "getxattr", path),
    );
  } catch (error) {
    if (error instanceof SyscallError && (error.is("ENODATA") || error.is("EOPNOTSUPP"))) return null;
    throw error;
  }
  return parsePosixAcl(out.subarray(0, length));
}
