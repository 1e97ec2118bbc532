/**
 * Kernel structs declared once: the fields in order with their C types give the size, each field's offset
 * (C's natural alignment on LP64 Linux, the same on x86_64 and arm64), and the little-endian encoder and
 * decoder, so an offset cannot be mistyped in one place and not another. `tests/ffi/structs_headers_test.ts`
 * compiles a C program against the kernel headers of the VM's kernels and compares every size and offset.
 *
 * ```ts
 * const Example = layout("example", { header: "linux/example.h" }, { len: u64, fdFlags: u32 });
 * Example.SIZE;                        // 16 (8 + 4, rounded up to the u64's alignment)
 * Example.offsets.fdFlags;             // 8
 * Example.encode({ len: 4096n });      // fields not given are 0
 * Example.decode(bytes).fdFlags;
 * ```
 * @module
 */

/** A C type of a field: its size and alignment on LP64 Linux, and how its value is read and written. */
export interface FieldType<T> {
  /** The C spelling, for messages: `__u32`, `char[32]`. */
  readonly c: string;
  /** Size in bytes. */
  readonly size: number;
  /** Alignment in bytes. */
  readonly align: number;
  /** The value all-zero bytes hold. */
  readonly zero: T;
  /** Reads the value at `at`. */
  read(view: DataView, bytes: Uint8Array, at: number): T;
  /** Writes `value` at `at` (the bytes there are zero). @throws {RangeError} a value the field cannot hold */
  write(view: DataView, bytes: Uint8Array, at: number, value: T): void;
}

type Get<T> = (this: DataView, at: number, littleEndian: boolean) => T;
type Set<T> = (this: DataView, at: number, value: T, littleEndian: boolean) => void;

/** An integer field of `size` bytes, read and written little-endian by `DataView`'s `get` and `set`. */
function integer<T>(c: string, size: number, zero: T, get: Get<T>, set: Set<T>): FieldType<T> {
  return {
    c,
    size,
    align: size,
    zero,
    read: (view, _bytes, at) => get.call(view, at, true),
    write: (view, _bytes, at, value) => set.call(view, at, value, true),
  };
}

const dv = DataView.prototype;
/** `__u16`. */
export const u16: FieldType<number> = integer("__u16", 2, 0, dv.getUint16, dv.setUint16);
/** `short` / `__s16`. */
export const s16: FieldType<number> = integer("__s16", 2, 0, dv.getInt16, dv.setInt16);
/** `__u32`. */
export const u32: FieldType<number> = integer("__u32", 4, 0, dv.getUint32, dv.setUint32);
/** `int` / `__s32`. */
export const s32: FieldType<number> = integer("__s32", 4, 0, dv.getInt32, dv.setInt32);
/** `__u64` as a BigInt (lengths, addresses, nanoseconds). */
export const u64: FieldType<bigint> = integer("__u64", 8, 0n, dv.getBigUint64, dv.setBigUint64);

/** A `__u64` of flag bits, which never reach 2^53, as a number. */
export const u64Flags: FieldType<number> = {
  c: "__u64",
  size: 8,
  align: 8,
  zero: 0,
  read: (view, _bytes, at) => Number(view.getBigUint64(at, true)),
  write: (view, _bytes, at, value) => view.setBigUint64(at, BigInt(value), true),
};

/** A pointer (`char *`): 8 bytes on LP64, as a BigInt address. */
export const pointer: FieldType<bigint> = { ...u64, c: "void *" };

/** `__kernel_size_t`: 8 bytes on LP64, as a BigInt. */
export const sizeT: FieldType<bigint> = { ...u64, c: "__kernel_size_t" };

/**
 * A NUL-terminated name in a fixed `char[length]`: read up to the first NUL as UTF-8; written NUL-padded, and
 * a name that does not fit with its NUL is refused.
 */
export function chars(length: number): FieldType<string> {
  return {
    c: `char[${length}]`,
    size: length,
    align: 1,
    zero: "",
    read(_view, bytes, at) {
      const field = bytes.subarray(at, at + length);
      const end = field.indexOf(0);
      return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end));
    },
    write(_view, bytes, at, value) {
      const encoded = new TextEncoder().encode(value);
      if (encoded.length >= length) {
        throw new RangeError(`Name "${value}" is ${encoded.length} bytes: at most ${length - 1} fit`);
      }
      bytes.set(encoded, at);
    },
  };
}

/** Bytes this tool does not look into (a nested struct such as `struct statx_timestamp`). */
export function opaque(c: string, size: number, align: number): FieldType<Uint8Array> {
  return {
    c,
    size,
    align,
    zero: new Uint8Array(size),
    read: (_view, bytes, at) => bytes.slice(at, at + size),
    write: (_view, bytes, at, value) => bytes.set(value.subarray(0, size), at),
  };
}

/** A field of a declaration: a type, or a type with its kernel name and whether the tool uses its value. */
export interface FieldSpec<T> {
  readonly type: FieldType<T>;
  /**
   * The kernel's name of the field, when it is not the key in snake_case (with the struct's prefix); null for
   * padding of this declaration's own that has no one name in every kernel's header.
   */
  readonly kernel?: string | null;
  /**
   * Whether the field is only a place in the layout: written as zero, left out of decoded values (padding,
   * `flags` that must be 0, fields the tool does not read). Its offset is checked against the headers all
   * the same.
   */
  readonly unused?: boolean;
}

/** A field that the kernel names otherwise than the key does. */
export function named<T>(kernel: string, type: FieldType<T>): FieldSpec<T> {
  return { type, kernel };
}

/** A field that only holds its place (see {@link FieldSpec.unused}); `kernel` when not the key's snake_case. */
export function unused<T>(type: FieldType<T>, kernel?: string): FieldSpec<T> {
  return kernel === undefined ? { type, unused: true } : { type, kernel, unused: true };
}

/**
 * Bytes that fill a struct to its size where kernels name them differently (fields added into spare room
 * over the versions): only their place is declared, and checked through the struct's size.
 */
export function padding(size: number, align: number): FieldSpec<Uint8Array> {
  return { type: opaque(`char[${size}]`, size, align), kernel: null, unused: true };
}

type Spec = FieldType<unknown> | FieldSpec<unknown>;

type TypeOf<S> = S extends FieldType<infer T> ? T : S extends FieldSpec<infer T> ? T : never;
type UsedKeys<F> = { [K in keyof F]: F[K] extends { readonly unused: true } ? never : K }[keyof F];

/** The value of a struct: its used fields by key. */
export type StructValue<F> = { [K in UsedKeys<F>]: TypeOf<F[K]> };

/** One field as laid out. */
export interface LaidOutField {
  /** The key in values. */
  readonly key: string;
  /** The kernel's name; null for padding that has none (see {@link padding}). */
  readonly kernel: string | null;
  /** Its C type. */
  readonly c: string;
  /** Offset in bytes. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
  /** Whether it only holds its place. */
  readonly unused: boolean;
}

/** Where a struct is declared. */
export interface StructOrigin {
  /** The UAPI header, relative to the installed headers (`linux/dma-heap.h`), or null for a driver's own. */
  readonly header: string | null;
  /** For a struct outside the UAPI headers: the source file that declares it (`drivers/dma-buf/sw_sync.c`). */
  readonly source?: string;
  /** The kernel version that brought it, `6.8` (headers of older kernels do not have it). */
  readonly since?: string;
  /** The prefix of the kernel's field names (`stx_` for statx). */
  readonly prefix?: string;
  /** Other names of the same layout (`dma_buf_import_sync_file` for `dma_buf_export_sync_file`). */
  readonly aliases?: readonly string[];
}

/** What a struct's layout says of it, whatever its values. */
export interface StructInfo {
  /** The kernel's name, `dma_heap_allocation_data` (without `struct`). */
  readonly NAME: string;
  /** Where it is declared. */
  readonly origin: StructOrigin;
  /** `sizeof`. */
  readonly SIZE: number;
  /** Every field, in order, with its offset. */
  readonly fields: readonly LaidOutField[];
}

/** A struct's layout, encoder and decoder. */
export interface Layout<V> extends StructInfo {
  /** The offset of each used field by key. */
  readonly offsets: { readonly [K in keyof V]: number };
  /** Fresh bytes holding `value`; fields not given (and unused ones) are zero. */
  encode(value?: Partial<V>): Uint8Array<ArrayBuffer>;
  /** Writes `value` into existing bytes (a reused ioctl argument), zeroing the rest. */
  encodeInto(bytes: Uint8Array, value?: Partial<V>): void;
  /** The used fields of `bytes`. @throws {RangeError} when `bytes` is shorter than the struct */
  decode(bytes: Uint8Array): V;
  /** `values` one after another, as a C array of the struct. */
  encodeArray(values: readonly Partial<V>[]): Uint8Array<ArrayBuffer>;
  /** The structs of a C array (as many whole ones as `bytes` holds). */
  decodeArray(bytes: Uint8Array): V[];
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** Declares `struct name` from its fields in order (see the module's example). */
export function layout<F extends Record<string, Spec>>(
  name: string,
  origin: StructOrigin,
  fields: F,
): Layout<StructValue<F>> {
  type V = StructValue<F>;
  const laid: (LaidOutField & { type: FieldType<unknown> })[] = [];
  let offset = 0;
  let align = 1;
  for (const [key, spec] of Object.entries(fields)) {
    const full: FieldSpec<unknown> = "type" in spec ? spec : { type: spec };
    offset = alignUp(offset, full.type.align);
    align = Math.max(align, full.type.align);
    laid.push({
      key,
      kernel: full.kernel === undefined ? `${origin.prefix ?? ""}${snakeCase(key)}` : full.kernel,
      c: full.type.c,
      offset,
      size: full.type.size,
      unused: full.unused === true,
      type: full.type,
    });
    offset += full.type.size;
  }
  const size = alignUp(offset, align);
  const used = laid.filter((field) => !field.unused);
  const offsets = Object.fromEntries(used.map((field) => [field.key, field.offset])) as Layout<V>["offsets"];
  const encodeAt = (bytes: Uint8Array, at: number, value: Partial<V>) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    bytes.fill(0, at, at + size);
    for (const field of used) {
      const given = (value as Record<string, unknown>)[field.key];
      if (given !== undefined) field.type.write(view, bytes, at + field.offset, given);
    }
  };
  const decodeAt = (bytes: Uint8Array, at: number): V => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: Record<string, unknown> = {};
    for (const field of used) out[field.key] = field.type.read(view, bytes, at + field.offset);
    return out as V;
  };
  const checkLength = (bytes: Uint8Array, need: number) => {
    if (bytes.byteLength < need) {
      throw new RangeError(`Cannot decode struct ${name}: ${bytes.byteLength} bytes, need ${need}`);
    }
  };
  return {
    NAME: name,
    origin,
    SIZE: size,
    fields: laid.map(({ type: _type, ...field }) => field),
    offsets,
    encode(value = {}) {
      const bytes = new Uint8Array(size);
      encodeAt(bytes, 0, value);
      return bytes;
    },
    encodeInto(bytes, value = {}) {
      checkLength(bytes, size);
      encodeAt(bytes, 0, value);
    },
    decode(bytes) {
      checkLength(bytes, size);
      return decodeAt(bytes, 0);
    },
    encodeArray(values) {
      const bytes = new Uint8Array(size * values.length);
      values.forEach((value, i) => encodeAt(bytes, i * size, value));
      return bytes;
    },
    decodeArray(bytes) {
      const out: V[] = [];
      for (let at = 0; at + size <= bytes.byteLength; at += size) out.push(decodeAt(bytes, at));
      return out;
    },
  };
}
