/**
 * stat's attribution of buffers to processes when inode numbers repeat (5.10–5.17: `get_next_ino()` wraps):
 * told apart by what fdinfo and maps show, and reported when nothing does.
 */
import assert from "node:assert/strict";
import { attribute, sharedInodes } from "../../../commands/stat/model.ts";
import type { StatBuffer } from "../../../commands/stat/snapshot.ts";
import type { DmaBufFdRef, ProcessScan } from "../../../ffi/procfs.ts";

function buffer(inode: number, size: number, exporter: string, name: string | null): StatBuffer {
  return { inode, size, exporter, name, count: 1, flags: 2, mode: null, attachments: [], fences: [] };
}

function fd(fd: number, inode: number, size: number, exporter: string, name: string | null): DmaBufFdRef {
  return { fd, inode, size, count: 1, exporter, name, flags: 2, cloexec: true };
}

function scan(processes: ProcessScan["processes"]): ProcessScan {
  return { processes, skipped: [], scanned: processes.length };
}

Deno.test("attribute: buffers sharing an inode number are told apart by size, exporter and name", () => {
  const a = buffer(7, 4096, "heap_helpers", null);
  const b = buffer(7, 1048576, "heap_helpers", "cam");
  const c = buffer(8, 8192, "udmabuf", null);
  const result = attribute(
    [a, b, c],
    scan([
      { pid: 10, comm: "one", fds: [fd(3, 7, 4096, "heap_helpers", null)], maps: [] },
      {
        pid: 11,
        comm: "two",
        fds: [fd(4, 7, 1048576, "heap_helpers", "cam"), fd(5, 8, 8192, "udmabuf", null)],
        maps: [{ start: 0, end: 4096, vmaSize: 4096, perms: "rw-s", offset: 0, inode: 7, name: "cam" }],
      },
    ]),
  );
  assert.deepEqual(result.holders.get(a), [{ pid: 10, comm: "one", fdRefs: 1, mapRefs: 0 }]);
  assert.deepEqual(result.holders.get(b), [{ pid: 11, comm: "two", fdRefs: 1, mapRefs: 1 }]);
  assert.deepEqual(result.holders.get(c), [{ pid: 11, comm: "two", fdRefs: 1, mapRefs: 0 }]);
  assert.deepEqual(result.ambiguous, []);
  const two = result.processes.find((p) => p.pid === 11)!;
  assert.equal(two.bytes, 1048576 + 8192);
  assert.equal(two.pss, 1048576 + 8192);
  assert.deepEqual(sharedInodes([a, b, c]), [7]);
});

Deno.test("attribute: a reference that fits two buffers with one inode is reported, not guessed", () => {
  const a = buffer(7, 4096, "heap_helpers", null);
  const b = buffer(7, 4096, "heap_helpers", null);
  const result = attribute(
    [a, b],
    scan([
      { pid: 10, comm: "one", fds: [fd(3, 7, 4096, "heap_helpers", null)], maps: [] },
    ]),
  );
  assert.deepEqual(result.holders.get(a), []);
  assert.deepEqual(result.holders.get(b), []);
  assert.deepEqual(result.processes, []);
  assert.deepEqual(result.ambiguous, [{ inode: 7, buffers: 2, pid: 10, comm: "one", fdRefs: 1, mapRefs: 0 }]);
});

Deno.test("attribute: unique inode numbers attribute as before, PSS shared between holders", () => {
  const a = buffer(1, 4096, "system", null);
  const result = attribute(
    [a],
    scan([
      { pid: 10, comm: "one", fds: [fd(3, 1, 4096, "system", null)], maps: [] },
      { pid: 11, comm: "two", fds: [fd(3, 1, 4096, "system", null)], maps: [] },
    ]),
  );
  assert.equal(result.holders.get(a)!.length, 2);
  assert.deepEqual(result.processes.map((p) => p.pss), [2048, 2048]);
  assert.deepEqual(sharedInodes([a]), []);
});
