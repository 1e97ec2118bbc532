import { assertEquals, assertIncludes, assertOk, assertThrows } from "../../assert.ts";
import { Btf, BtfKind, VMLINUX_BTF_PATH } from "../../../ffi/bpf/btf.ts";
import {
  assembleProgram,
  BpfUnavailable,
  bufinfoCount,
  DmabufIterator,
  ITER_FUNC,
  MAX_ATTACHMENTS,
  PROGRAM_LICENSE,
  resolveLayout,
  unavailableFrom,
  versionClause,
} from "../../../ffi/bpf/dmabuf_iter.ts";
import { decodeInsn, INSN_SIZE } from "../../../ffi/bpf/insn.ts";
import { loadProgram, VerifierError } from "../../../ffi/bpf/syscall.ts";
import { BpfAttachType, BpfProgType } from "../../../ffi/bpf/attr.ts";
import { SyscallError } from "../../../ffi/errno.ts";
import { hwTest, needs } from "../../kernel/hw.ts";
import { BtfBlob } from "./btf_blob.ts";

/**
 * The structs the iterator reads, laid out as a synthetic kernel would (offsets differ from any real one on
 * purpose), with `file`'s counter as `f_ref` (6.13+) or `f_count`; `omit` leaves one member out.
 */
function iterBtf(options: { fRef: boolean; omit?: string; func?: boolean }): Uint8Array {
  const b = new BtfBlob();
  const keep = (members: [string, number, number][]) => members.filter(([name]) => name !== options.omit);
  const int = b.int("int", 4, true);
  const uint = b.int("unsigned int", 4);
  const ulong = b.int("long unsigned int", 8);
  const long = b.int("long int", 8, true);
  const char = b.int("char", 1);
  const charPtr = b.ptr(b.ref(BtfKind.BTF_KIND_CONST, "", char));
  const sizeT = b.ref(BtfKind.BTF_KIND_TYPEDEF, "size_t", ulong);
  const seqFile = b.struct("seq_file", 8, [["size", sizeT, 0]]);
  const meta = b.struct("bpf_iter_meta", 24, [["seq", b.ptr(seqFile), 0], ["seq_num", ulong, 128]]);
  // list_head points at itself: the pointer is added first, to the id the struct gets right after it.
  const listPtr = b.ptr(b.nextId + 1);
  const list = b.struct("list_head", 16, [["next", listPtr, 0], ["prev", listPtr, 64]]);
  const atomic = b.struct("", 8, [["counter", long, 0]]);
  const atomicLong = b.ref(BtfKind.BTF_KIND_TYPEDEF, "atomic_long_t", atomic);
  const fileRef = b.struct("", 8, [["refcnt", atomicLong, 0]]);
  const inode = b.struct("inode", 128, keep([["i_mode", uint, 0], ["i_ino", ulong, 320]]));
  const counter: [string, number, number] = options.fRef
    ? ["f_ref", fileRef, 1472]
    : ["f_count", atomicLong, 1472];
  const file = b.struct(
    "file",
    256,
    keep([
      ["f_mode", uint, 96],
      ["f_inode", b.ptr(inode), 192],
      ["f_flags", uint, 384],
      counter,
    ]),
  );
  const kobject = b.struct("kobject", 64, [["name", charPtr, 0]]);
  const device = b.struct("device", 768, keep([["kobj", kobject, 64], ["init_name", charPtr, 640]]));
  const dmaBuf = b.struct(
    "dma_buf",
    256,
    keep([
      ["size", sizeT, 0],
      ["file", b.ptr(file), 128],
      ["attachments", list, 192],
      ["exp_name", charPtr, 640],
      ["name", charPtr, 704],
    ]),
  );
  b.struct(
    "dma_buf_attachment",
    64,
    keep([["dmabuf", b.ptr(dmaBuf), 0], ["dev", b.ptr(device), 64], ["node", list, 192]]),
  );
  const proto = b.proto(int, [["meta", b.ptr(meta)], ["dmabuf", b.ptr(dmaBuf)]]);
  if (options.func !== false) b.func(ITER_FUNC, proto);
  return b.bytes();
}

Deno.test("resolveLayout: every offset by name from BTF, through typedefs and anonymous structs", () => {
  const btf = Btf.parse(iterBtf({ fRef: true }));
  const layout = resolveLayout(btf);
  assertEquals(layout.attachBtfId, btf.find(BtfKind.BTF_KIND_FUNC, ITER_FUNC));
  assertEquals(layout.ctx, { meta: 0, dmabuf: 8 });
  assertEquals(layout.metaSeq, 0);
  assertEquals(layout.dmabuf, {
    size: { offset: 0, size: "BPF_DW" },
    file: 16,
    expName: 80,
    name: 88,
    attachments: 24,
  });
  assertEquals(layout.file, {
    inode: 24,
    flags: { offset: 48, size: "BPF_W" },
    mode: { offset: 12, size: "BPF_W" },
    ref: { offset: 184, size: "BPF_DW" },
  });
  assertEquals(layout.refKind, "f_ref");
  assertEquals(layout.inodeIno, { offset: 40, size: "BPF_DW" });
  assertEquals(layout.listNext, 0);
  assertEquals(layout.attachment, { node: 24, dev: 8 });
  assertEquals(layout.device, { initName: 80, kobjName: 8 });
  assertEquals(resolveLayout(Btf.parse(iterBtf({ fRef: false }))).refKind, "f_count");
});

Deno.test("resolveLayout: no bpf_iter_dmabuf names the version; a missing member names struct and member", () => {
  const old = assertThrows(
    () => resolveLayout(Btf.parse(iterBtf({ fRef: true, func: false }))),
    BpfUnavailable,
  );
  assertEquals(old.missing, "iterator");
  assertEquals(old.message, `this kernel's BTF has no bpf_iter_dmabuf (${versionClause()})`);
  assertOk(/iter\/dmabuf needs Linux 6\.16\+; this kernel is \S+/.test(old.message));
  const layout = assertThrows(
    () => resolveLayout(Btf.parse(iterBtf({ fRef: true, omit: "exp_name" }))),
    BpfUnavailable,
  );
  assertEquals(layout.missing, "btf-layout");
  assertEquals(
    layout.message,
    "this kernel's BTF does not fit dmabuf's iterator: struct dma_buf has no member exp_name",
  );
});

Deno.test("assembleProgram: whole instructions, in range, within the 512-byte stack, ending in exit", () => {
  const program = assembleProgram(resolveLayout(Btf.parse(iterBtf({ fRef: true }))));
  assertEquals(program.length % INSN_SIZE, 0);
  const insns = Array.from(
    { length: program.length / INSN_SIZE },
    (_, i) => decodeInsn(program, i * INSN_SIZE),
  );
  // The first loads ctx->dmabuf; the last two are r0 = 0; exit.
  assertEquals(insns[0], { code: 0x79, dst: 7, src: 1, off: 8, imm: 0 });
  assertEquals(insns.slice(-2), [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, {
    code: 0x95,
    dst: 0,
    src: 0,
    off: 0,
    imm: 0,
  }]);
  const frameOffsets = insns.filter((i) =>
    (i.code & 0x07) >= 0x02 && (i.code & 0x07) <= 0x03 && i.dst === 10
  );
  assertOk(frameOffsets.every((i) => i.off < 0 && i.off >= -512), "a store outside the BPF stack");
  // One probe of the device name per attachment the walk allows.
  const strReads = insns.filter((i) => i.code === 0x85 && i.imm === 115).length;
  assertEquals(strReads, 2 + MAX_ATTACHMENTS);
  assertOk(insns.length < 4096, `${insns.length} instructions`);
});

Deno.test("bufinfoCount: file_ref_t holds references - 1, f_count holds them; the iterator's own is left out", () => {
  // A buffer one process holds by one fd: bufinfo says 1; with the iterator's reference, f_ref reads 1, f_count 2.
  assertEquals(bufinfoCount(1n, "f_ref"), 1);
  assertEquals(bufinfoCount(2n, "f_count"), 1);
  assertEquals(bufinfoCount(0n, "f_count"), null);
  assertEquals(bufinfoCount(1n << 62n, "f_ref"), null);
});

Deno.test("unavailableFrom: EPERM names the capabilities, ENOSYS the version, other errnos the step", () => {
  const perm = unavailableFrom(
    new SyscallError("bpf(BPF_PROG_LOAD)", 1),
    "loading a BPF program",
  ) as BpfUnavailable;
  assertEquals(perm.missing, "privilege");
  assertIncludes(
    perm.message,
    "loading a BPF program needs CAP_BPF and CAP_PERFMON (EPERM; kernel.unprivileged_bpf_disabled=",
  );
  const nosys = unavailableFrom(new SyscallError("bpf(BPF_PROG_LOAD)", 38), "x") as BpfUnavailable;
  assertEquals([nosys.missing, nosys.message], [
    "bpf-syscall",
    `this kernel has no bpf() syscall (ENOSYS; ${versionClause()})`,
  ]);
  const other = unavailableFrom(
    new SyscallError("bpf(BPF_ITER_CREATE)", 12),
    "creating the iterator",
  ) as BpfUnavailable;
  assertEquals([other.missing, other.message], [
    "failed",
    "creating the iterator failed: bpf(BPF_ITER_CREATE) failed: ENOMEM",
  ]);
  const bug = new TypeError("not the kernel's answer");
  assertEquals(unavailableFrom(bug, "x"), bug);
});

function openFds(): string[] {
  return [...Deno.readDirSync("/proc/self/fd")].map((e) => e.name).sort();
}

hwTest({
  name: "DmabufIterator: loads, links, reads twice and closes its fds once (dispose is idempotent)",
  needs: [needs.bpfIterator],
  fn: () => {
    const before = openFds();
    const iterator = DmabufIterator.open();
    assertOk(iterator.instructions > 0);
    const first = iterator.read();
    const second = iterator.read();
    // Nothing on this machine is expected to make or free dma-bufs in between.
    assertEquals(second.map((b) => b.inode), first.map((b) => b.inode));
    for (const buffer of first) assertOk(buffer.size > 0 && buffer.exporter !== null, JSON.stringify(buffer));
    iterator[Symbol.dispose]();
    iterator[Symbol.dispose]();
    assertEquals(openFds(), before);
  },
});

hwTest({
  name: "loadProgram: a program the verifier rejects throws VerifierError with the verifier's log",
  needs: [needs.bpfIterator],
  fn: () => {
    const btf = Btf.parse(Deno.readFileSync(VMLINUX_BTF_PATH));
    // r0 = *(u64 *)(r2 + 0); exit: r2 is never set.
    const insns = Uint8Array.of(0x79, 0x20, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0);
    const error = assertThrows(() =>
      loadProgram({
        progType: BpfProgType.BPF_PROG_TYPE_TRACING,
        expectedAttachType: BpfAttachType.BPF_TRACE_ITER,
        attachBtfId: btf.find(BtfKind.BTF_KIND_FUNC, ITER_FUNC)!,
        insns,
        license: PROGRAM_LICENSE,
        name: "dmabuf_bad",
      }), VerifierError);
    assertEquals(error.code, "EACCES");
    assertIncludes(error.log, "R2 !read_ok");
    assertEquals(error.reason, "R2 !read_ok");
    const refusal = unavailableFrom(error, "loading a BPF program") as BpfUnavailable;
    assertEquals(refusal.missing, "verifier");
    assertEquals(
      refusal.message,
      "the BPF verifier rejected dmabuf's iterator program (EACCES): R2 !read_ok",
    );
    assertEquals(refusal.log, error.log);
  },
});
