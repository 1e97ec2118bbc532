import { assertEquals, assertThrows } from "../assert.ts";
import { type Access, DmaBuf } from "../../ffi/dma_buf.ts";
import { memfdCreate } from "../../ffi/fd.ts";

/** A DmaBuf over a memfd that records its SYNC ioctls instead of issuing them. */
class RecordingBuffer extends DmaBuf {
  readonly calls: string[] = [];
  override sync(phase: "start" | "end", access: Access): void {
    this.calls.push(`${phase} ${access}`);
  }
}

Deno.test("beginCpuAccess: START now, END once when disposed, also when the access throws", () => {
  using buffer = new RecordingBuffer(memfdCreate("dmabuf-test", 4096n));
  {
    using _cpu = buffer.beginCpuAccess("write");
    assertEquals(buffer.calls, ["start write"]);
  }
  assertEquals(buffer.calls, ["start write", "end write"]);
  assertThrows(
    () => {
      using _cpu = buffer.beginCpuAccess("read");
      throw new Error("verify failed");
    },
    Error,
    "verify failed",
  );
  assertEquals(buffer.calls, ["start write", "end write", "start read", "end read"]);
  const cpu = buffer.beginCpuAccess("rw");
  cpu.end();
  cpu[Symbol.dispose]();
  assertEquals(buffer.calls.slice(4), ["start rw", "end rw"]);
});
