/**
 * BTF, the kernel's own description of its types (`include/uapi/linux/btf.h`), parsed in TypeScript: the
 * header, the type section (every kind up to `BTF_KIND_ENUM64`, and kinds added later when the blob carries
 * the layout section of 7.x that says how long each kind's record is) and the string section. Lookups go by
 * name at run time, so a struct's layout comes from the running kernel and never from a header: `struct file`
 * is `__randomize_layout`, and members move between versions.
 *
 * Only what the tool needs is decoded: an index of where each type starts is built in one pass, and a type's
 * members, parameters or enumerators are read when asked for. Every read is bounds-checked; a malformed blob
 * throws {@link BtfError}.
 * @module
 */

/** `BTF_MAGIC`: the first two bytes of a BTF blob in the byte order of the kernel that wrote it. */
export const BTF_MAGIC = 0xeb9f;
/** `BTF_VERSION`. */
export const BTF_VERSION = 1;
/** Where the running kernel exposes its own BTF (`CONFIG_DEBUG_INFO_BTF`, sysfs). */
export const VMLINUX_BTF_PATH = "/sys/kernel/btf/vmlinux";

/** `BTF_KIND_*` (`include/uapi/linux/btf.h`). */
export const BtfKind = {
  BTF_KIND_UNKN: 0,
  BTF_KIND_INT: 1,
  BTF_KIND_PTR: 2,
  BTF_KIND_ARRAY: 3,
  BTF_KIND_STRUCT: 4,
  BTF_KIND_UNION: 5,
  BTF_KIND_ENUM: 6,
  BTF_KIND_FWD: 7,
  BTF_KIND_TYPEDEF: 8,
  BTF_KIND_VOLATILE: 9,
  BTF_KIND_CONST: 10,
  BTF_KIND_RESTRICT: 11,
  BTF_KIND_FUNC: 12,
  BTF_KIND_FUNC_PROTO: 13,
  BTF_KIND_VAR: 14,
  BTF_KIND_DATASEC: 15,
  BTF_KIND_FLOAT: 16,
  BTF_KIND_DECL_TAG: 17,
  BTF_KIND_TYPE_TAG: 18,
  BTF_KIND_ENUM64: 19,
} as const;

/** A `BTF_KIND_*` value. */
export type BtfKindValue = typeof BtfKind[keyof typeof BtfKind];

/** `sizeof(struct btf_header)` before 7.x added the layout section: magic..str_len. */
const HEADER_BASE_SIZE = 24;
/** `sizeof(struct btf_header)` with `layout_off` and `layout_len`. */
const HEADER_LAYOUT_SIZE = 32;
/** `sizeof(struct btf_type)`: name_off, info, size/type. */
const TYPE_HEADER_SIZE = 12;
/** `sizeof(struct btf_layout)`: info_sz, elem_sz, flags. */
const LAYOUT_ENTRY_SIZE = 4;

/** `BTF_INFO_KIND(info)`: bits 24-30 (bits 29-30 were zero before 7.x widened it). */
const INFO_KIND_SHIFT = 24;
const INFO_KIND_MASK = 0x7f;
/** `BTF_INFO_VLEN(info)`: bits 0-23 (bits 16-23 were zero before 7.x widened it). */
const INFO_VLEN_MASK = 0xffffff;
/** `BTF_INFO_KFLAG(info)`: bit 31. */
const INFO_KFLAG_SHIFT = 31;
/** `BTF_MEMBER_BIT_OFFSET(val)` / `BTF_MEMBER_BITFIELD_SIZE(val)` when the struct's kind_flag is set. */
const MEMBER_BIT_OFFSET_MASK = 0xffffff;
const MEMBER_BITFIELD_SIZE_SHIFT = 24;
/** `BTF_INT_ENCODING` / `BTF_INT_OFFSET` / `BTF_INT_BITS` of the u32 after an INT. */
const INT_ENCODING_SHIFT = 24;
const INT_ENCODING_MASK = 0x0f;
const INT_OFFSET_SHIFT = 16;
const INT_OFFSET_MASK = 0xff;
const INT_BITS_MASK = 0xff;
/** `BTF_INT_SIGNED`. */
export const BTF_INT_SIGNED = 1 << 0;
/** How many typedef/modifier hops {@link Btf.resolve} follows before calling the chain a loop. */
const MAX_RESOLVE_DEPTH = 32;
const BITS_PER_BYTE = 8;

/**
 * Bytes that follow `struct btf_type` for each kind this file knows: `[info_sz, elem_sz]` (the singular
 * record, and one element per vlen). The same pair the layout section gives.
 */
const KNOWN_LAYOUT: Readonly<Record<number, readonly [number, number]>> = {
  [BtfKind.BTF_KIND_UNKN]: [0, 0],
  [BtfKind.BTF_KIND_INT]: [4, 0], // u32 encoding/offset/bits
  [BtfKind.BTF_KIND_PTR]: [0, 0],
  [BtfKind.BTF_KIND_ARRAY]: [12, 0], // struct btf_array
  [BtfKind.BTF_KIND_STRUCT]: [0, 12], // struct btf_member
  [BtfKind.BTF_KIND_UNION]: [0, 12],
  [BtfKind.BTF_KIND_ENUM]: [0, 8], // struct btf_enum
  [BtfKind.BTF_KIND_FWD]: [0, 0],
  [BtfKind.BTF_KIND_TYPEDEF]: [0, 0],
  [BtfKind.BTF_KIND_VOLATILE]: [0, 0],
  [BtfKind.BTF_KIND_CONST]: [0, 0],
  [BtfKind.BTF_KIND_RESTRICT]: [0, 0],
  [BtfKind.BTF_KIND_FUNC]: [0, 0],
  [BtfKind.BTF_KIND_FUNC_PROTO]: [0, 8], // struct btf_param
  [BtfKind.BTF_KIND_VAR]: [4, 0], // struct btf_var
  [BtfKind.BTF_KIND_DATASEC]: [0, 12], // struct btf_var_secinfo
  [BtfKind.BTF_KIND_FLOAT]: [0, 0],
  [BtfKind.BTF_KIND_DECL_TAG]: [4, 0], // struct btf_decl_tag
  [BtfKind.BTF_KIND_TYPE_TAG]: [0, 0],
  [BtfKind.BTF_KIND_ENUM64]: [0, 12], // struct btf_enum64
};

/** Kinds whose third word is a size (the others' is a type id). */
const SIZED_KINDS: ReadonlySet<number> = new Set([
  BtfKind.BTF_KIND_INT,
  BtfKind.BTF_KIND_ENUM,
  BtfKind.BTF_KIND_STRUCT,
  BtfKind.BTF_KIND_UNION,
  BtfKind.BTF_KIND_DATASEC,
  BtfKind.BTF_KIND_FLOAT,
  BtfKind.BTF_KIND_ENUM64,
]);

/** Kinds {@link Btf.resolve} looks through: typedefs and qualifiers. */
const TRANSPARENT_KINDS: ReadonlySet<number> = new Set([
  BtfKind.BTF_KIND_TYPEDEF,
  BtfKind.BTF_KIND_VOLATILE,
  BtfKind.BTF_KIND_CONST,
  BtfKind.BTF_KIND_RESTRICT,
  BtfKind.BTF_KIND_TYPE_TAG,
]);

/** A malformed BTF blob, or a type that is not what a lookup needs. */
export class BtfError extends Error {
  /** Makes the error. */
  constructor(message: string) {
    super(message);
    this.name = "BtfError";
  }
}

/** `struct btf_header`. */
export interface BtfHeader {
  /** `version` (1). */
  version: number;
  /** `flags`. */
  flags: number;
  /** `hdr_len`: 24, or 32 with the layout section. */
  hdrLen: number;
  /** `type_off`, relative to the end of the header. */
  typeOff: number;
  /** `type_len`. */
  typeLen: number;
  /** `str_off`, relative to the end of the header. */
  strOff: number;
  /** `str_len`. */
  strLen: number;
  /** `layout_off` (0 without a layout section). */
  layoutOff: number;
  /** `layout_len` (0 without a layout section). */
  layoutLen: number;
}

/** One `struct btf_type` with its kind-specific word decoded. */
export interface BtfType {
  /** Type id (1-based; 0 is void). */
  id: number;
  /** `BTF_KIND_*`. */
  kind: number;
  /** Its name; "" when anonymous. */
  name: string;
  /** vlen: members, parameters, enumerators, variables. */
  vlen: number;
  /** kind_flag. */
  kindFlag: boolean;
  /** `size` for sized kinds (INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64), else 0. */
  size: number;
  /** `type` for referring kinds (PTR, TYPEDEF, qualifiers, FUNC, FUNC_PROTO return, VAR, DECL_TAG); else 0. */
  type: number;
}

/** A struct or union member (`struct btf_member`). */
export interface BtfMember {
  /** Its name; "" for an anonymous struct or union member. */
  name: string;
  /** Its type id. */
  type: number;
  /** Offset in bits from the start of the enclosing struct. */
  bitOffset: number;
  /** Width in bits of a bitfield; 0 when it is not one (or the struct's kind_flag is clear). */
  bitfieldSize: number;
}

/** A function parameter (`struct btf_param`). */
export interface BtfParam {
  /** Its name ("" when unnamed). */
  name: string;
  /** Its type id (0 for a trailing `...`). */
  type: number;
}

/** An enumerator of an ENUM or ENUM64. */
export interface BtfEnumerator {
  /** Its name. */
  name: string;
  /** Its value (ENUM64 values beyond 2^53 lose precision; the kernel's uapi enums are small). */
  value: number;
}

/** An INT's encoding (`BTF_INT_ENCODING`, `BTF_INT_OFFSET`, `BTF_INT_BITS`). */
export interface BtfInt {
  /** `BTF_INT_SIGNED` | `BTF_INT_CHAR` | `BTF_INT_BOOL` bits. */
  encoding: number;
  /** Bit offset of the value inside the int's bytes. */
  bitOffset: number;
  /** Width in bits. */
  bits: number;
}

/** Where a member found by {@link Btf.memberPath} sits, from the start of the outermost struct. */
export interface MemberLocation {
  /** Offset in bits. */
  bitOffset: number;
  /** Width in bits of a bitfield; 0 when the member is not one. */
  bitfieldSize: number;
  /** The member's type id (as declared, typedefs not resolved). */
  type: number;
}

/**
 * A parsed BTF blob. Type ids are 1-based (0 is void); `typeCount` counts the types after void.
 */
export class Btf {
  /** The header. */
  readonly header: BtfHeader;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  /** Absolute byte offset of the type and string sections. */
  readonly #typeStart: number;
  readonly #strStart: number;
  /** Absolute offset of each type's `struct btf_type`, by id (index 0 unused). */
  readonly #offsets: Uint32Array;
  /** `[info_sz, elem_sz]` per kind from the blob's layout section, when it has one. */
  readonly #layout: Map<number, readonly [number, number]>;
  readonly #decoder = new TextDecoder();
  /** The blob as aligned little-endian u32s, when its alignment and this machine's byte order allow. */
  readonly #words: Uint32Array | null;

  private constructor(bytes: Uint8Array, header: BtfHeader) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.header = header;
    this.#typeStart = header.hdrLen + header.typeOff;
    this.#strStart = header.hdrLen + header.strOff;
    this.#words = bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN
      ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2)
      : null;
    this.#layout = this.#readLayout();
    this.#offsets = this.#index();
  }

  /**
   * Parses a BTF blob in this machine's byte order (little-endian: x86_64 and arm64).
   * @throws {BtfError} when it is not BTF, is big-endian, or a section or type runs past its end
   */
  static parse(bytes: Uint8Array): Btf {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < HEADER_BASE_SIZE) {
      throw new BtfError(`BTF too short: ${bytes.byteLength} bytes, the header alone is ${HEADER_BASE_SIZE}`);
    }
    const magic = view.getUint16(0, true);
    if (magic !== BTF_MAGIC) {
      const swapped = ((magic & 0xff) << 8) | (magic >> 8);
      throw new BtfError(
        swapped === BTF_MAGIC
          ? "BTF in the other byte order (a big-endian kernel's): not supported"
          : `not BTF: magic 0x${magic.toString(16)}, expected 0x${BTF_MAGIC.toString(16)}`,
      );
    }
    const version = view.getUint8(2);
    if (version !== BTF_VERSION) throw new BtfError(`BTF version ${version}: only ${BTF_VERSION} is known`);
    const hdrLen = view.getUint32(4, true);
    if (hdrLen < HEADER_BASE_SIZE || hdrLen > bytes.byteLength) {
      throw new BtfError(`BTF hdr_len ${hdrLen} is outside ${HEADER_BASE_SIZE}..${bytes.byteLength}`);
    }
    const word = (offset: number) => view.getUint32(offset, true);
    const hasLayout = hdrLen >= HEADER_LAYOUT_SIZE;
    const header: BtfHeader = {
      version,
      flags: view.getUint8(3),
      hdrLen,
      typeOff: word(8),
      typeLen: word(12),
      strOff: word(16),
      strLen: word(20),
      layoutOff: hasLayout ? word(24) : 0,
      layoutLen: hasLayout ? word(28) : 0,
    };
    const sections: [string, number, number][] = [
      ["type", header.typeOff, header.typeLen],
      ["string", header.strOff, header.strLen],
      ["layout", header.layoutOff, header.layoutLen],
    ];
    for (const [name, off, len] of sections) {
      if (hdrLen + off + len > bytes.byteLength) {
        throw new BtfError(
          `BTF ${name} section (offset ${off}, length ${len}) runs past the blob's ${bytes.byteLength} bytes`,
        );
      }
    }
    if (header.strLen === 0 || bytes[hdrLen + header.strOff] !== 0) {
      throw new BtfError("BTF string section does not start with the empty string");
    }
    return new Btf(bytes, header);
  }

  /** Number of types after void (the largest type id). */
  get typeCount(): number {
    return this.#offsets.length - 1;
  }

  /** The string at `offset` in the string section. @throws {BtfError} when outside it or not terminated */
  stringAt(offset: number): string {
    if (offset >= this.header.strLen) {
      throw new BtfError(
        `BTF name offset ${offset} is outside the ${this.header.strLen}-byte string section`,
      );
    }
    const start = this.#strStart + offset;
    const end = this.#bytes.indexOf(0, start);
    if (end === -1 || end >= this.#strStart + this.header.strLen) {
      throw new BtfError(`BTF string at offset ${offset} is not NUL-terminated inside the string section`);
    }
    return this.#decoder.decode(this.#bytes.subarray(start, end));
  }

  /** The type `id`. @throws {BtfError} when there is no such id */
  type(id: number): BtfType {
    const at = this.#offsetOf(id);
    const info = this.#view.getUint32(at + 4, true);
    const kind = (info >>> INFO_KIND_SHIFT) & INFO_KIND_MASK;
    const third = this.#view.getUint32(at + 8, true);
    const sized = SIZED_KINDS.has(kind);
    return {
      id,
      kind,
      name: this.stringAt(this.#view.getUint32(at, true)),
      vlen: info & INFO_VLEN_MASK,
      kindFlag: info >>> INFO_KFLAG_SHIFT === 1,
      size: sized ? third : 0,
      type: sized ? 0 : third,
    };
  }

  /** The kind of type `id` (cheaper than {@link type}). @throws {BtfError} when there is no such id */
  kindOf(id: number): number {
    return (this.#view.getUint32(this.#offsetOf(id) + 4, true) >>> INFO_KIND_SHIFT) & INFO_KIND_MASK;
  }

  /**
   * Ids of the types of `kind` called `name`, in id order (usually one; `[]` when none).
   */
  findAll(kind: number, name: string): number[] {
    const found: number[] = [];
    this.#scan([[kind, name]], (_, id) => {
      found.push(id);
      return true;
    });
    return found;
  }

  /**
   * For each `[kind, name]`, the first type of that kind with that name, or null — all in one scan of the
   * types (a lookup of a dozen names costs one pass, not a dozen).
   */
  findEach(wanted: readonly (readonly [kind: number, name: string])[]): (number | null)[] {
    const found: (number | null)[] = wanted.map(() => null);
    let left = wanted.length;
    this.#scan(wanted, (index, id) => {
      if (found[index] !== null) return true;
      found[index] = id;
      return --left > 0;
    });
    return found;
  }

  /**
   * Calls `match(index, id)` for each type whose kind and name are `wanted[index]`'s, in id order, until it
   * returns false. Names are compared as bytes straight from the string section: a first-byte table rejects
   * almost every type at once, so nothing is decoded and nothing allocated per type.
   */
  #scan(
    wanted: readonly (readonly [kind: number, name: string])[],
    match: (index: number, id: number) => boolean,
  ): void {
    const encoder = new TextEncoder();
    const needles = wanted.map(([, name]) => encoder.encode(name));
    const byFirstByte = new Map<number, number[]>();
    for (const [index, needle] of needles.entries()) {
      if (needle.length === 0) continue;
      const list = byFirstByte.get(needle[0]!);
      if (list === undefined) byFirstByte.set(needle[0]!, [index]);
      else list.push(index);
    }
    const bytes = this.#bytes;
    const strStart = this.#strStart;
    const strEnd = strStart + this.header.strLen;
    const words = this.#words;
    const offsets = this.#offsets;
    for (let id = 1; id < offsets.length; id++) {
      const at = offsets[id]!;
      const nameAt = strStart + (words === null ? this.#view.getUint32(at, true) : words[at >>> 2]!);
      if (nameAt >= strEnd) continue; // an out-of-range name: stringAt() reports it when asked
      const candidates = byFirstByte.get(bytes[nameAt]!);
      if (candidates === undefined) continue;
      const info = words === null ? this.#view.getUint32(at + 4, true) : words[(at >>> 2) + 1]!;
      const kind = (info >>> INFO_KIND_SHIFT) & INFO_KIND_MASK;
      for (const index of candidates) {
        const needle = needles[index]!;
        if (
          wanted[index]![0] !== kind || nameAt + needle.length >= strEnd ||
          bytes[nameAt + needle.length] !== 0
        ) {
          continue;
        }
        let same = true;
        for (let i = 1; i < needle.length && same; i++) same = bytes[nameAt + i] === needle[i];
        if (same && !match(index, id)) return;
      }
    }
  }

  /**
   * The id of the type of `kind` called `name`; with several (a struct's forward declaration is a FWD, not a
   * STRUCT, so that is rare), the first. Null when there is none.
   */
  find(kind: number, name: string): number | null {
    return this.findAll(kind, name)[0] ?? null;
  }

  /** `id` with typedefs, const, volatile, restrict and type tags looked through. @throws {BtfError} */
  resolve(id: number): number {
    let current = id;
    for (let hop = 0; hop < MAX_RESOLVE_DEPTH; hop++) {
      if (current === 0 || !TRANSPARENT_KINDS.has(this.kindOf(current))) return current;
      current = this.type(current).type;
    }
    throw new BtfError(`BTF type ${id}: more than ${MAX_RESOLVE_DEPTH} typedef/qualifier hops (a loop?)`);
  }

  /**
   * The size in bytes of type `id` after {@link resolve}: an INT, ENUM, STRUCT, UNION, FLOAT, ENUM64, a
   * pointer (8 on LP64) or an ARRAY (elements times element size).
   * @throws {BtfError} for void, functions and other kinds without a size
   */
  sizeOf(id: number): number {
    const resolved = this.resolve(id);
    if (resolved === 0) throw new BtfError("BTF: void has no size");
    const t = this.type(resolved);
    if (SIZED_KINDS.has(t.kind) && t.kind !== BtfKind.BTF_KIND_DATASEC) return t.size;
    if (t.kind === BtfKind.BTF_KIND_PTR) return POINTER_SIZE;
    if (t.kind === BtfKind.BTF_KIND_ARRAY) {
      const at = this.#offsetOf(resolved) + TYPE_HEADER_SIZE;
      const element = this.#view.getUint32(at, true);
      return this.#view.getUint32(at + 8, true) * this.sizeOf(element);
    }
    throw new BtfError(`BTF type ${id} (${kindName(t.kind)} ${t.name}) has no size`);
  }

  /** An INT's encoding. @throws {BtfError} when `id` is not an INT */
  intOf(id: number): BtfInt {
    const at = this.#expect(id, [BtfKind.BTF_KIND_INT]) + TYPE_HEADER_SIZE;
    const word = this.#view.getUint32(at, true);
    return {
      encoding: (word >>> INT_ENCODING_SHIFT) & INT_ENCODING_MASK,
      bitOffset: (word >>> INT_OFFSET_SHIFT) & INT_OFFSET_MASK,
      bits: word & INT_BITS_MASK,
    };
  }

  /** The members of a STRUCT or UNION. @throws {BtfError} when `id` is neither */
  members(id: number): BtfMember[] {
    const at = this.#expect(id, [BtfKind.BTF_KIND_STRUCT, BtfKind.BTF_KIND_UNION]);
    const { vlen, kindFlag } = this.type(id);
    const members: BtfMember[] = [];
    for (let i = 0; i < vlen; i++) {
      const m = at + TYPE_HEADER_SIZE + i * 12;
      const offset = this.#view.getUint32(m + 8, true);
      members.push({
        name: this.stringAt(this.#view.getUint32(m, true)),
        type: this.#view.getUint32(m + 4, true),
        bitOffset: kindFlag ? offset & MEMBER_BIT_OFFSET_MASK : offset,
        bitfieldSize: kindFlag ? offset >>> MEMBER_BITFIELD_SIZE_SHIFT : 0,
      });
    }
    return members;
  }

  /** The parameters of a FUNC_PROTO, or of a FUNC's prototype. @throws {BtfError} for other kinds */
  params(id: number): BtfParam[] {
    const proto = this.kindOf(id) === BtfKind.BTF_KIND_FUNC ? this.type(id).type : id;
    const at = this.#expect(proto, [BtfKind.BTF_KIND_FUNC_PROTO]);
    const { vlen } = this.type(proto);
    const params: BtfParam[] = [];
    for (let i = 0; i < vlen; i++) {
      const p = at + TYPE_HEADER_SIZE + i * 8;
      params.push({
        name: this.stringAt(this.#view.getUint32(p, true)),
        type: this.#view.getUint32(p + 4, true),
      });
    }
    return params;
  }

  /** The enumerators of an ENUM or ENUM64. @throws {BtfError} for other kinds */
  enumerators(id: number): BtfEnumerator[] {
    const at = this.#expect(id, [BtfKind.BTF_KIND_ENUM, BtfKind.BTF_KIND_ENUM64]);
    const t = this.type(id);
    const wide = t.kind === BtfKind.BTF_KIND_ENUM64;
    const signed = t.kindFlag;
    const out: BtfEnumerator[] = [];
    for (let i = 0; i < t.vlen; i++) {
      const e = at + TYPE_HEADER_SIZE + i * (wide ? 12 : 8);
      const name = this.stringAt(this.#view.getUint32(e, true));
      let value: number;
      if (wide) {
        const low = BigInt(this.#view.getUint32(e + 4, true));
        const high = BigInt(this.#view.getUint32(e + 8, true));
        const raw = (high << 32n) | low;
        value = Number(signed ? BigInt.asIntN(64, raw) : raw);
      } else {
        value = signed ? this.#view.getInt32(e + 4, true) : this.#view.getUint32(e + 4, true);
      }
      out.push({ name, value });
    }
    return out;
  }

  /**
   * Where member `path[0].path[1]...` of struct/union `id` is, following nested structs by name and looking
   * into anonymous struct and union members as C does (`struct file`'s `f_path` is inside an anonymous union).
   * @throws {BtfError} naming the struct and member when a step is missing or is not a struct to step into
   */
  memberPath(id: number, path: readonly string[]): MemberLocation {
    let container = this.resolve(id);
    let bitOffset = 0;
    let found: MemberLocation | null = null;
    for (const [i, name] of path.entries()) {
      if (i > 0) {
        container = this.resolve(found!.type);
        const kind = this.kindOf(container);
        if (kind !== BtfKind.BTF_KIND_STRUCT && kind !== BtfKind.BTF_KIND_UNION) {
          throw new BtfError(
            `${path.slice(0, i).join(".")} is a ${kindName(kind)}, not a struct: no .${name}`,
          );
        }
      }
      const member = this.#findMember(container, name);
      if (member === null) {
        throw new BtfError(`${this.#describe(container)} has no member ${name}`);
      }
      bitOffset += member.bitOffset;
      found = { bitOffset, bitfieldSize: member.bitfieldSize, type: member.type };
    }
    if (found === null) throw new BtfError("memberPath needs at least one member name");
    return found;
  }

  /** Whether struct/union `id` has a member `name` (directly or in an anonymous member). */
  hasMember(id: number, name: string): boolean {
    return this.#findMember(this.resolve(id), name) !== null;
  }

  /** `struct NAME`, `union NAME` or `FUNC NAME` of a type, for messages. */
  #describe(id: number): string {
    const t = this.type(id);
    const what = t.kind === BtfKind.BTF_KIND_STRUCT
      ? "struct"
      : t.kind === BtfKind.BTF_KIND_UNION
      ? "union"
      : kindName(t.kind);
    return `${what} ${t.name === "" ? "(anonymous)" : t.name}`;
  }

  /** A member by name, looking into anonymous struct/union members; its offset is from `id`'s start. */
  #findMember(id: number, name: string): BtfMember | null {
    for (const member of this.members(id)) {
      if (member.name === name) return member;
      if (member.name !== "") continue;
      const inner = this.resolve(member.type);
      const kind = this.kindOf(inner);
      if (kind !== BtfKind.BTF_KIND_STRUCT && kind !== BtfKind.BTF_KIND_UNION) continue;
      const nested = this.#findMember(inner, name);
      if (nested !== null) return { ...nested, bitOffset: member.bitOffset + nested.bitOffset };
    }
    return null;
  }

  #offsetOf(id: number): number {
    if (!Number.isInteger(id) || id < 1 || id >= this.#offsets.length) {
      throw new BtfError(`BTF has no type id ${id} (it has 1..${this.#offsets.length - 1})`);
    }
    return this.#offsets[id]!;
  }

  #expect(id: number, kinds: readonly number[]): number {
    const at = this.#offsetOf(id);
    const kind = this.kindOf(id);
    if (!kinds.includes(kind)) {
      throw new BtfError(
        `BTF type ${id} is a ${kindName(kind)}, expected ${kinds.map(kindName).join(" or ")}`,
      );
    }
    return at;
  }

  #readLayout(): Map<number, readonly [number, number]> {
    const layout = new Map<number, readonly [number, number]>();
    const { layoutLen, layoutOff, hdrLen } = this.header;
    if (layoutLen === 0) return layout;
    if (layoutLen % LAYOUT_ENTRY_SIZE !== 0) {
      throw new BtfError(`BTF layout section of ${layoutLen} bytes is not whole struct btf_layout entries`);
    }
    for (let kind = 0; kind < layoutLen / LAYOUT_ENTRY_SIZE; kind++) {
      const at = hdrLen + layoutOff + kind * LAYOUT_ENTRY_SIZE;
      layout.set(kind, [this.#view.getUint8(at), this.#view.getUint8(at + 1)]);
    }
    return layout;
  }

  /** One pass over the type section: where each type starts. */
  #index(): Uint32Array {
    const end = this.#typeStart + this.header.typeLen;
    // Per kind: bytes after struct btf_type, and per vlen element (-1: unknown). Typed arrays and locals:
    // this loop runs once per type, cold, and under emulation every property lookup counts.
    const infoSize = new Int16Array(INFO_KIND_MASK + 1).fill(-1);
    const elemSize = new Int16Array(INFO_KIND_MASK + 1);
    for (const [kind, [info, elem]] of [...Object.entries(KNOWN_LAYOUT), ...this.#layout.entries()]) {
      infoSize[Number(kind)] = info;
      elemSize[Number(kind)] = elem;
    }
    const words = this.#words;
    const view = this.#view;
    let offsets = new Uint32Array(INDEX_START);
    let count = 1;
    let at = this.#typeStart;
    while (at < end) {
      if (at + TYPE_HEADER_SIZE > end) {
        throw new BtfError(`BTF type ${count} at byte ${at - this.#typeStart} is cut off by the section end`);
      }
      const info = words === null ? view.getUint32(at + 4, true) : words[(at >>> 2) + 1]!;
      const kind = (info >>> INFO_KIND_SHIFT) & INFO_KIND_MASK;
      const fixed = infoSize[kind]!;
      if (fixed < 0) {
        throw new BtfError(
          `BTF type ${count} has kind ${kind}, which dmabuf does not know and the blob has no layout ` +
            "section for",
        );
      }
      const next = at + TYPE_HEADER_SIZE + fixed + (info & INFO_VLEN_MASK) * elemSize[kind]!;
      if (next > end) {
        throw new BtfError(`BTF type ${count} (${kindName(kind)}) runs past the end of the type section`);
      }
      if (count === offsets.length) {
        const grown = new Uint32Array(offsets.length * 2);
        grown.set(offsets);
        offsets = grown;
      }
      offsets[count++] = at;
      at = next;
    }
    return offsets.slice(0, count);
  }
}

/** Whether this machine stores a u32's low byte first (a Uint32Array then reads little-endian BTF). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The index's first capacity, in types (a vmlinux has 70,000 to 130,000; it doubles as needed). */
const INDEX_START = 1 << 16;

/** Pointers are 64-bit on the LP64 kernels the tool runs on. */
const POINTER_SIZE = 8;

/** The kernel's name for a kind, e.g. `BTF_KIND_STRUCT`, or `kind N`. */
export function kindName(kind: number): string {
  const entry = Object.entries(BtfKind).find(([, value]) => value === kind);
  return entry === undefined ? `kind ${kind}` : entry[0];
}

/** Bytes from bits, for a member known to be byte-aligned. @throws {BtfError} when it is not */
export function byteOffset(location: MemberLocation, what: string): number {
  if (location.bitfieldSize !== 0 || location.bitOffset % BITS_PER_BYTE !== 0) {
    throw new BtfError(`${what} is a bitfield (bit ${location.bitOffset}, ${location.bitfieldSize} bits)`);
  }
  return location.bitOffset / BITS_PER_BYTE;
}
