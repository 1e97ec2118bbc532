/**
 * The kernel's own BTF (`/sys/kernel/btf/vmlinux`, `CONFIG_DEBUG_INFO_BTF`): whether a name (a function, a
 * struct, a kfunc) is in its string section. Layout from `include/uapi/linux/btf.h`: `struct btf_header`
 * `__u16 magic` (0xeB9F) @0, `__u8 version` @2, `__u8 flags` @3, `__u32 hdr_len` @4, `__u32 type_off` @8,
 * `__u32 type_len` @12, `__u32 str_off` @16, `__u32 str_len` @20; the offsets count from the end of the
 * header, in the kernel's byte order. Strings are NUL-terminated and the section starts with an empty one, so
 * every name is preceded by a NUL.
 * @module
 */

/** The running kernel's BTF (world-readable). */
export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

/** `BTF_MAGIC`. */
const BTF_MAGIC = 0xeb9f;
/** The part of `struct btf_header` read here. */
const HEADER_SIZE = 24;

/**
 * The string section of a BTF blob.
 * @throws {RangeError} when `bytes` is not BTF or its string section lies outside it
 */
export function btfStrings(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength < HEADER_SIZE) throw new RangeError(`Not BTF: ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = view.getUint16(0, true) === BTF_MAGIC;
  if (!little && view.getUint16(0, false) !== BTF_MAGIC) {
    throw new RangeError(`Not BTF: magic 0x${view.getUint16(0, true).toString(16)}`);
  }
  const headerLength = view.getUint32(4, little);
  const start = headerLength + view.getUint32(16, little);
  const end = start + view.getUint32(20, little);
  if (end > bytes.byteLength) {
    throw new RangeError(`Invalid BTF: string section ends at ${end}, after the ${bytes.byteLength} bytes`);
  }
  return bytes.subarray(start, end);
}

/** Whether `name` is one of the NUL-terminated strings in a BTF string section. */
export function hasBtfString(strings: Uint8Array, name: string): boolean {
  const needle = new TextEncoder().encode(`\0${name}\0`);
  const first = needle[1]!;
  for (let at = strings.indexOf(first); at > 0; at = strings.indexOf(first, at + 1)) {
    if (strings[at - 1] !== 0) continue;
    let match = true;
    for (let i = 1; i < needle.length && match; i++) match = strings[at - 1 + i] === needle[i];
    if (match) return true;
  }
  return false;
}

/**
 * Whether the kernel's BTF names `name`.
 * @throws {Error} Deno's NotFound when the kernel has no BTF, PermissionDenied when it may not be read
 * @throws {RangeError} when the file is not BTF
 */
export function vmlinuxHasName(name: string, path = VMLINUX_BTF): boolean {
  return hasBtfString(btfStrings(Deno.readFileSync(path)), name);
}
