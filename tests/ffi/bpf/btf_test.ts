import { assertEquals, assertThrows } from "../../assert.ts";
import { Btf, BtfError, BtfKind, byteOffset, kindName, VMLINUX_BTF_PATH } from "../../../ffi/bpf/btf.ts";
import {
  BpfAttachType,
  BpfCmd,
  BpfFunc,
  BpfIterCreateAttr,
  BpfLinkCreateAttr,
  BpfProgLoadAttr,
  BpfProgType,
} from "../../../ffi/bpf/attr.ts";
import { fileNeed, hwTest } from "../../kernel/hw.ts";
import { BtfBlob } from "./btf_blob.ts";

/** A blob with every shape the parser must read: ints, pointers, typedefs, nested and anonymous members, a bitfield, enums, a function. */
function sample() {
  const b = new BtfBlob();
  const int = b.int("int", 4, true);
  const ulong = b.int("long unsigned int", 8);
  const sizeT = b.ref(BtfKind.BTF_KIND_TYPEDEF, "size_t", ulong);
  const constSize = b.ref(BtfKind.BTF_KIND_CONST, "", sizeT);
  const char = b.int("char", 1);
  const charPtr = b.ptr(char);
  const counter = b.struct("counter_t", 8, [["counter", ulong, 0]]);
  const anon = b.struct("", 8, [["u_int", int, 0], ["u_long", ulong, 0]], BtfKind.BTF_KIND_UNION);
  const inner = b.struct("inner", 16, [["ref", counter, 0], ["tail", int, 64]]);
  const array = b.array(char, int, 12);
  const outer = b.struct("outer", 64, [
    ["size", constSize, 0],
    ["", anon, 64],
    ["flags", int, 128, 3],
    ["mode", int, 131, 5],
    ["in", inner, 192],
    ["name", charPtr, 320],
    ["label", array, 384],
  ]);
  const outerPtr = b.ptr(outer);
  const proto = b.proto(int, [["meta", charPtr], ["obj", outerPtr]]);
  const func = b.func("bpf_iter_sample", proto);
  const cmd = b.enumType("cmd", [["FIRST", 0], ["SECOND", 5]]);
  const signed = b.enumType("sign", [["MINUS", -2]], true);
  const wide = b.enum64("wide", [["BIG", 1n << 40n]]);
  b.ref(BtfKind.BTF_KIND_TYPEDEF, "outer", outer); // a typedef of the same name as the struct
  return {
    b,
    ids: {
      int,
      ulong,
      sizeT,
      char,
      charPtr,
      counter,
      anon,
      inner,
      array,
      outer,
      outerPtr,
      proto,
      func,
      cmd,
      signed,
      wide,
    },
  };
}

Deno.test("Btf: header, kinds and names of a synthetic blob", () => {
  const { b, ids } = sample();
  const btf = Btf.parse(b.bytes());
  assertEquals(btf.header.hdrLen, 24);
  assertEquals(btf.header.layoutLen, 0);
  assertEquals(btf.typeCount, 18);
  assertEquals(btf.type(ids.outer), {
    id: ids.outer,
    kind: BtfKind.BTF_KIND_STRUCT,
    name: "outer",
    vlen: 7,
    kindFlag: true,
    size: 64,
    type: 0,
  });
  assertEquals(btf.type(ids.charPtr).type, ids.char);
  assertEquals(btf.kindOf(ids.func), BtfKind.BTF_KIND_FUNC);
  assertEquals(btf.find(BtfKind.BTF_KIND_STRUCT, "outer"), ids.outer);
  assertEquals(btf.findAll(BtfKind.BTF_KIND_TYPEDEF, "outer").length, 1);
  assertEquals(btf.find(BtfKind.BTF_KIND_STRUCT, "out"), null); // a prefix of a name is not the name
  assertEquals(btf.find(BtfKind.BTF_KIND_STRUCT, "nosuch"), null);
  assertEquals(btf.find(BtfKind.BTF_KIND_FUNC, "bpf_iter_sample"), ids.func);
  assertEquals(kindName(BtfKind.BTF_KIND_ENUM64), "BTF_KIND_ENUM64");
  assertEquals(kindName(99), "kind 99");
});

Deno.test("Btf: members with bit offsets, bitfields when the kind_flag is set, and an anonymous union", () => {
  const { b, ids } = sample();
  const btf = Btf.parse(b.bytes());
  const members = btf.members(ids.outer);
  assertEquals(members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]), [
    ["size", 0, 0],
    ["", 64, 0],
    ["flags", 128, 3],
    ["mode", 131, 5],
    ["in", 192, 0],
    ["name", 320, 0],
    ["label", 384, 0],
  ]);
  assertEquals(btf.memberPath(ids.outer, ["u_long"]), { bitOffset: 64, bitfieldSize: 0, type: ids.ulong });
  assertEquals(btf.memberPath(ids.outer, ["in", "ref", "counter"]).bitOffset, 192);
  assertEquals(btf.memberPath(ids.outer, ["in", "tail"]).bitOffset, 256);
  assertEquals(btf.hasMember(ids.outer, "u_int"), true);
  assertEquals(btf.hasMember(ids.outer, "f_ref"), false);
  assertEquals(byteOffset(btf.memberPath(ids.outer, ["name"]), "name"), 40);
  assertThrows(
    () => byteOffset(btf.memberPath(ids.outer, ["mode"]), "mode"),
    BtfError,
    "mode is a bitfield (bit 131, 5 bits)",
  );
  assertThrows(
    () => btf.memberPath(ids.outer, ["in", "nosuch"]),
    BtfError,
    "struct inner has no member nosuch",
  );
  assertThrows(
    () => btf.memberPath(ids.outer, ["size", "x"]),
    BtfError,
    "size is a BTF_KIND_INT, not a struct",
  );
  assertThrows(
    () => btf.members(ids.int),
    BtfError,
    "is a BTF_KIND_INT, expected BTF_KIND_STRUCT or BTF_KIND_UNION",
  );
});

Deno.test("Btf: typedefs and qualifiers resolve; sizes of ints, pointers, arrays and structs", () => {
  const { b, ids } = sample();
  const btf = Btf.parse(b.bytes());
  const size = btf.memberPath(ids.outer, ["size"]).type;
  assertEquals(btf.resolve(size), ids.ulong);
  assertEquals(btf.sizeOf(size), 8);
  assertEquals(btf.sizeOf(ids.charPtr), 8);
  assertEquals(btf.sizeOf(ids.array), 12);
  assertEquals(btf.sizeOf(ids.outer), 64);
  assertEquals(btf.intOf(ids.int), { encoding: 1, bitOffset: 0, bits: 32 });
  assertThrows(() => btf.sizeOf(ids.func), BtfError, "has no size");
  assertThrows(() => btf.type(0), BtfError, "no type id 0");
  assertThrows(() => btf.type(19), BtfError, "no type id 19 (it has 1..18)");
});

Deno.test("Btf: function parameters, and enumerators signed, unsigned and 64-bit", () => {
  const { b, ids } = sample();
  const btf = Btf.parse(b.bytes());
  assertEquals(btf.params(ids.func), [{ name: "meta", type: ids.charPtr }, {
    name: "obj",
    type: ids.outerPtr,
  }]);
  assertEquals(btf.params(ids.proto).length, 2);
  assertEquals(btf.enumerators(ids.cmd), [{ name: "FIRST", value: 0 }, { name: "SECOND", value: 5 }]);
  assertEquals(btf.enumerators(ids.signed), [{ name: "MINUS", value: -2 }]);
  assertEquals(btf.enumerators(ids.wide), [{ name: "BIG", value: 2 ** 40 }]);
});

Deno.test("Btf: a kind unknown to the parser is skipped by the 7.x layout section, refused without one", () => {
  const withLayout = new BtfBlob();
  withLayout.int("int", 4);
  // Kind 20 with a 4-byte record and 8-byte elements, two of them: 12 + 4 + 16 bytes to skip.
  withLayout.raw("future", 20, 2, false, 0, [7, 1, 2, 3, 4]);
  const after = withLayout.struct("after", 4, [["x", 1, 0]]);
  withLayout.layout = Array.from({ length: 21 }, (_, kind) => kind === 20 ? [4, 8] : [0, 0]);
  // Layout entries for the known kinds must be right too: the parser prefers the blob's layout.
  withLayout.layout[BtfKind.BTF_KIND_INT] = [4, 0];
  withLayout.layout[BtfKind.BTF_KIND_STRUCT] = [0, 12];
  const btf = Btf.parse(withLayout.bytes());
  assertEquals(btf.header.hdrLen, 32);
  assertEquals(btf.find(BtfKind.BTF_KIND_STRUCT, "after"), after);
  assertEquals(btf.kindOf(2), 20);

  const without = new BtfBlob();
  without.raw("future", 20, 0, false, 0);
  assertThrows(() => Btf.parse(without.bytes()), BtfError, "kind 20, which dmabuf does not know");
});

Deno.test("Btf: malformed blobs are refused with what is wrong", () => {
  const good = sample().b.bytes();
  const edit = (change: (v: DataView, bytes: Uint8Array) => void) => {
    const bytes = good.slice();
    change(new DataView(bytes.buffer), bytes);
    return bytes;
  };
  assertThrows(() => Btf.parse(new Uint8Array(10)), BtfError, "BTF too short: 10 bytes");
  assertThrows(() => Btf.parse(edit((v) => v.setUint16(0, 0x1234, true))), BtfError, "not BTF: magic 0x1234");
  assertThrows(() => Btf.parse(edit((v) => v.setUint16(0, 0xeb9f, false))), BtfError, "other byte order");
  assertThrows(() => Btf.parse(edit((v) => v.setUint8(2, 2))), BtfError, "BTF version 2");
  assertThrows(() => Btf.parse(edit((v) => v.setUint32(4, 1 << 20, true))), BtfError, "hdr_len");
  assertThrows(() => Btf.parse(edit((v) => v.setUint32(20, 1 << 20, true))), BtfError, "string section");
  assertThrows(() => Btf.parse(good.subarray(0, good.length - 8)), BtfError, "runs past the blob");
  // A struct whose vlen claims more members than the section holds.
  assertThrows(
    () => Btf.parse(edit((v) => v.setUint32(24 + 4, (BtfKind.BTF_KIND_STRUCT << 24 | 0xffff) >>> 0, true))),
    BtfError,
    "runs past the end of the type section",
  );
  const badName = Btf.parse(edit((v) => v.setUint32(24, 1 << 20, true)));
  assertThrows(() => badName.type(1), BtfError, "name offset 1048576 is outside");
});

hwTest({
  name:
    "Btf: the running kernel's BTF has what iter/dmabuf needs, and the bpf(2) numbers and attr offsets match it",
  needs: [fileNeed("kernel BTF", VMLINUX_BTF_PATH)],
  fn: () => {
    const btf = Btf.parse(Deno.readFileSync(VMLINUX_BTF_PATH));
    const enumValue = (type: string, name: string) => {
      const id = btf.find(BtfKind.BTF_KIND_ENUM, type) ?? btf.find(BtfKind.BTF_KIND_ENUM64, type);
      return btf.enumerators(id!).find((e) => e.name === name)?.value;
    };
    for (const [name, value] of Object.entries(BpfCmd)) {
      assertEquals([name, enumValue("bpf_cmd", name)], [name, value]);
    }
    for (const [name, value] of Object.entries(BpfProgType)) {
      assertEquals([name, enumValue("bpf_prog_type", name)], [name, value]);
    }
    for (const [name, value] of Object.entries(BpfAttachType)) {
      assertEquals([name, enumValue("bpf_attach_type", name)], [name, value]);
    }
    for (const [name, value] of Object.entries(BpfFunc)) {
      assertEquals([name, enumValue("bpf_func_id", name)], [name, value]);
    }
    const attr = btf.find(BtfKind.BTF_KIND_UNION, "bpf_attr")!;
    // Each command's members sit in an anonymous struct of union bpf_attr: find the one holding `first`.
    const member = (first: string, name: string) => {
      const holder = btf.members(attr).find((m) => m.name === "" && btf.hasMember(m.type, first))!;
      return byteOffset(btf.memberPath(holder.type, [name]), name);
    };
    for (const [name, offset] of Object.entries(BpfProgLoadAttr.OFFSETS)) {
      assertEquals([name, member("insn_cnt", name)], [name, offset]);
    }
    const linkCreate = btf.members(attr).find((m) => m.name === "link_create")!;
    for (const [name, offset] of Object.entries(BpfLinkCreateAttr.OFFSETS)) {
      assertEquals([name, byteOffset(btf.memberPath(linkCreate.type, [name]), name)], [name, offset]);
    }
    const iterCreate = btf.members(attr).find((m) => m.name === "iter_create")!;
    for (const [name, offset] of Object.entries(BpfIterCreateAttr.OFFSETS)) {
      assertEquals([name, byteOffset(btf.memberPath(iterCreate.type, [name]), name)], [name, offset]);
    }
    const dmaBuf = btf.find(BtfKind.BTF_KIND_STRUCT, "dma_buf");
    assertEquals(dmaBuf !== null && btf.hasMember(dmaBuf, "exp_name"), true);
  },
});

Deno.test("Btf: names after non-ASCII bytes in the string section are still found at their byte offsets", () => {
  const b = new BtfBlob();
  const accented = b.struct("caf\u00e9_stru\u00df", 4, []);
  const after = b.struct("after", 4, []);
  const btf = Btf.parse(b.bytes());
  assertEquals(btf.find(BtfKind.BTF_KIND_STRUCT, "after"), after);
  assertEquals(btf.find(BtfKind.BTF_KIND_STRUCT, "caf\u00e9_stru\u00df"), accented);
  assertEquals(btf.type(after).name, "after");
});
