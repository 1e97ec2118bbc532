/**
 * Builds small BTF blobs for tests, byte by byte as `include/uapi/linux/btf.h` lays them out (independently of
 * ffi/bpf/btf.ts, which parses them).
 * @module
 */

import { BtfKind } from "../../../ffi/bpf/btf.ts";

/** A member of a struct or union being built: name, type id, bit offset, bitfield width (0 = none). */
export type MemberSpec = [name: string, type: number, bitOffset: number, bitfieldSize?: number];

/** Builds a blob type by type; each `add*` returns the new type's id (1, 2, ...). */
export class BtfBlob {
  readonly #strings: number[] = [0];
  readonly #stringIndex = new Map<string, number>([["", 0]]);
  readonly #types: number[] = [];
  #count = 0;
  /** Extra `struct btf_layout` entries (7.x): `[info_sz, elem_sz]` per kind; empty = no layout section. */
  layout: [number, number][] = [];

  /** The id the next type added gets (for a pointer to a type added after it). */
  get nextId(): number {
    return this.#count + 1;
  }

  /** The offset of `text` in the string section (added once). */
  string(text: string): number {
    const known = this.#stringIndex.get(text);
    if (known !== undefined) return known;
    const offset = this.#strings.length;
    this.#strings.push(...new TextEncoder().encode(text), 0);
    this.#stringIndex.set(text, offset);
    return offset;
  }

  /** A raw `struct btf_type` and the words after it. */
  raw(
    name: string,
    kind: number,
    vlen: number,
    kindFlag: boolean,
    third: number,
    extra: number[] = [],
  ): number {
    const info = ((kindFlag ? 1 : 0) << 31 | kind << 24 | vlen) >>> 0;
    this.#types.push(this.string(name), info, third, ...extra);
    return ++this.#count;
  }

  /** `BTF_KIND_INT` of `bytes`, signed or not. */
  int(name: string, bytes: number, signed = false): number {
    return this.raw(name, BtfKind.BTF_KIND_INT, 0, false, bytes, [
      ((signed ? 1 : 0) << 24 | bytes * 8) >>> 0,
    ]);
  }

  /** A `BTF_KIND_PTR` to `type`. */
  ptr(type: number): number {
    return this.raw("", BtfKind.BTF_KIND_PTR, 0, false, type);
  }

  /** A typedef or qualifier (`BTF_KIND_TYPEDEF`, `_CONST`, ...) of `type`. */
  ref(kind: number, name: string, type: number): number {
    return this.raw(name, kind, 0, false, type);
  }

  /** A struct or union; the kind_flag is set when a member has a bitfield width. */
  struct(name: string, size: number, members: MemberSpec[], kind: number = BtfKind.BTF_KIND_STRUCT): number {
    const kindFlag = members.some(([, , , bits]) => (bits ?? 0) > 0);
    const extra = members.flatMap(([member, type, bitOffset, bits]) => [
      this.string(member),
      type,
      kindFlag ? ((bits ?? 0) << 24 | bitOffset) >>> 0 : bitOffset,
    ]);
    return this.raw(name, kind, members.length, kindFlag, size, extra);
  }

  /** A `BTF_KIND_FUNC_PROTO` returning `ret` with named parameters. */
  proto(ret: number, params: [string, number][]): number {
    return this.raw(
      "",
      BtfKind.BTF_KIND_FUNC_PROTO,
      params.length,
      false,
      ret,
      params.flatMap(([n, t]) => [this.string(n), t]),
    );
  }

  /** A `BTF_KIND_FUNC` of prototype `proto`. */
  func(name: string, proto: number): number {
    return this.raw(name, BtfKind.BTF_KIND_FUNC, 0, false, proto);
  }

  /** A `BTF_KIND_ENUM` (4 bytes; kind_flag = signed). */
  enumType(name: string, values: [string, number][], signed = false): number {
    return this.raw(
      name,
      BtfKind.BTF_KIND_ENUM,
      values.length,
      signed,
      4,
      values.flatMap(([n, v]) => [this.string(n), v >>> 0]),
    );
  }

  /** A `BTF_KIND_ENUM64` (8 bytes). */
  enum64(name: string, values: [string, bigint][], signed = false): number {
    const words = values.flatMap(([n, v]) => {
      const raw = BigInt.asUintN(64, v);
      return [this.string(n), Number(raw & 0xffffffffn), Number(raw >> 32n)];
    });
    return this.raw(name, BtfKind.BTF_KIND_ENUM64, values.length, signed, 8, words);
  }

  /** A `BTF_KIND_ARRAY` of `count` elements of `type`. */
  array(type: number, indexType: number, count: number): number {
    return this.raw("", BtfKind.BTF_KIND_ARRAY, 0, false, 0, [type, indexType, count]);
  }

  /** The whole blob: header (24 bytes, or 32 with a layout section), types, strings, layout. */
  bytes(): Uint8Array<ArrayBuffer> {
    const hdrLen = this.layout.length > 0 ? 32 : 24;
    const typeLen = this.#types.length * 4;
    const strLen = this.#strings.length;
    const strPadded = (strLen + 3) & ~3;
    const layoutLen = this.layout.length * 4;
    const out = new Uint8Array(hdrLen + typeLen + strPadded + layoutLen);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    v.setUint8(2, 1);
    v.setUint32(4, hdrLen, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true);
    v.setUint32(20, strLen, true);
    if (hdrLen === 32) {
      v.setUint32(24, typeLen + strPadded, true);
      v.setUint32(28, layoutLen, true);
    }
    this.#types.forEach((word, i) => v.setUint32(hdrLen + i * 4, word, true));
    out.set(this.#strings, hdrLen + typeLen);
    this.layout.forEach(([info, elem], kind) => {
      v.setUint8(hdrLen + typeLen + strPadded + kind * 4, info);
      v.setUint8(hdrLen + typeLen + strPadded + kind * 4 + 1, elem);
    });
    return out;
  }
}
