/**
 * The parsers on each tier kernel's own text (tests/ffi/text/fixtures/kernels/<version>/, captured in the VM by
 * capture.ts): bufinfo, fdinfo, `SYNC_IOC_FILE_INFO`'s bytes and trace_pipe, each read against `truth.json`,
 * what the capturing scenario made (inode numbers from fstat, sizes, names, the fences it attached), so that a
 * parser that misreads a kernel's format fails here, on the host, without a VM.
 */
import assert from "node:assert/strict";
import { parseBufinfo } from "../../../ffi/text/bufinfo.ts";
import { parseFdinfo } from "../../../ffi/text/fdinfo.ts";
import { parseTraceLine } from "../../../ffi/text/trace_event.ts";
import { decodeSyncFileInfo } from "../../../ffi/sync_file.ts";
import { heapExporter, kernelHas, TIER_KERNELS } from "../../kernel/features.ts";
import type { Truth } from "./fixtures/kernels/truth.ts";

const DIR = new URL("./fixtures/kernels/", import.meta.url);

/** The bufinfo format generation each tier kernel prints (for a list with signalled, named fences). */
const GENERATION: Record<string, string> = {
  "5.10": "v5.10-v5.15",
  "6.1": "v5.19-v6.16",
  "6.12": "v5.19-v6.16",
  "7.2": "context:seqno",
};

function read(version: string, name: string): string {
  return Deno.readTextFileSync(new URL(`${version}/${name}`, DIR));
}

function bytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

Deno.test("goldens exist for every x86_64 tier kernel", () => {
  for (const version of TIER_KERNELS) {
    assert.ok(read(version, "truth.json").length > 0, `no goldens of ${version}: run capture.ts in its VM`);
  }
});

for (const version of TIER_KERNELS) {
  let truth: Truth;
  try {
    truth = JSON.parse(read(version, "truth.json")) as Truth;
  } catch {
    continue; // reported by the test above
  }
  const release = truth.release;
  // vgem's exporter name is its driver's business: the one its fdinfo gives, a source apart from bufinfo.
  const vgemExporter = () => parseFdinfo(read(version, "fdinfo-vgem.txt")).expName;
  const exporterOf = (b: Truth["buffers"][number]) =>
    b.heap === "udmabuf" ? "udmabuf" : b.heap === "vgem" ? vgemExporter() : heapExporter(b.heap, release);

  Deno.test(`Linux ${version} bufinfo: every buffer the scenario made, with its size, exporter, name, attachments and fences`, () => {
    const parsed = parseBufinfo(read(version, "bufinfo.txt"));
    assert.deepEqual(parsed.unparsed, []);
    assert.equal(parsed.generation, GENERATION[version]);
    for (const want of truth.buffers) {
      const got = parsed.buffers.filter((b) => b.inode === want.inode);
      assert.equal(got.length, 1, `${want.role}: inode ${want.inode} once in bufinfo`);
      const b = got[0]!;
      assert.deepEqual(
        [b.size, b.exporter, b.name, b.attachments],
        [want.size, exporterOf(want), want.name, want.attachments],
        want.role,
      );
      assert.equal(b.fences.length, want.fences.length, `${want.role}: ${JSON.stringify(b.fences)}`);
      want.fences.forEach((f, i) => {
        const fence = b.fences[i]!;
        const usage = kernelHas("bufinfo-name-column", release)
          ? f.usage
          : f.usage === "write"
          ? "exclusive"
          : "shared";
        const named = !f.signalled || !kernelHas("signalled-names-gone", release);
        assert.deepEqual(
          [fence.usage, fence.driver, fence.signalled],
          [usage, named ? f.driver : null, f.signalled],
          `${want.role} fence ${i}`,
        );
        if (kernelHas("bufinfo-context-seqno", release)) {
          assert.equal(fence.seq, f.seqno);
          assert.equal(typeof fence.context, "number");
        } else if (kernelHas("bufinfo-name-column", release)) assert.equal(fence.seq, f.seqno);
        else assert.equal(fence.seq, null);
      });
    }
    assert.deepEqual(parsed.totals, {
      objects: parsed.buffers.length,
      bytes: parsed.buffers.reduce((sum, b) => sum + b.size, 0),
    });
  });

  Deno.test(`Linux ${version} fdinfo: size, exporter, name, and ino: only from 5.14`, () => {
    for (
      const [file, role] of [["fdinfo-system.txt", "system"], ["fdinfo-udmabuf.txt", "udmabuf"]] as const
    ) {
      const want = truth.buffers.find((b) => b.role === role)!;
      const info = parseFdinfo(read(version, file));
      assert.equal(info.ino, kernelHas("fdinfo-ino", release) ? want.inode : null, file);
      assert.equal(info.size, want.size, file);
      assert.equal(info.expName, role === "udmabuf" ? "udmabuf" : heapExporter("system", release), file);
      // The fdinfo was read before the rename after vgem attached.
      assert.equal(info.name, role === "system" ? "golden-system" : info.name, file);
    }
  });

  Deno.test(
    `Linux ${version} SYNC_IOC_FILE_INFO bytes: a sw_sync fence active, then signalled${
      kernelHas("signalled-names-gone", release) ? " and no longer named" : ""
    }`,
    () => {
      for (const raw of truth.fenceInfo) {
        const state = decodeSyncFileInfo({ info: bytes(raw.info), fences: bytes(raw.fences) });
        assert.equal(state.fences.length, 1);
        const fence = state.fences[0]!;
        const signalled = raw.when === "signalled";
        assert.equal(state.status, signalled ? 1 : 0);
        assert.equal(fence.status, signalled ? 1 : 0);
        const gone = signalled && kernelHas("signalled-names-gone", release);
        assert.equal(fence.driver, gone ? null : "sw_sync", raw.when);
        assert.equal(fence.timeline === null, gone, raw.when);
        assert.equal(fence.timestampNs === 0n, !signalled);
      }
    },
  );

  Deno.test(
    `Linux ${version} trace_pipe: every line an event of a known kind${
      kernelHas("dma-buf-events", release) ? ", dma_buf events joined to the scenario's buffers by inode" : ""
    }`,
    () => {
      const records = read(version, "trace.txt").split("\n").map(parseTraceLine).filter((r) => r !== null);
      assert.ok(records.length > 0);
      for (const r of records) assert.notEqual(r.kind, "other", JSON.stringify(r));
      const fences = records.filter((r) => r.kind === "fence");
      assert.ok(fences.some((r) => r.name === "init" && r.driver === "sw_sync"));
      assert.ok(fences.some((r) => r.name === "signaled"));
      const dmaBuf = records.filter((r) => r.kind === "dma_buf");
      if (!kernelHas("dma-buf-events", release)) assert.deepEqual(dmaBuf, []);
      else {
        for (const want of truth.buffers) {
          const mine = dmaBuf.filter((r) => r.inode === want.inode);
          assert.ok(mine.some((r) => r.name === "export"), `${want.role}: export of inode ${want.inode}`);
          assert.ok(mine.every((r) => r.size === want.size), `${want.role}: sizes`);
        }
      }
    },
  );
}
