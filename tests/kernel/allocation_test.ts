/**
 * Allocation through the project's FFI layer on a real kernel: the system and CMA heaps and udmabuf give
 * dma-bufs that fdinfo names, page-rounded, zeroed, and mappable with SYNC brackets.
 */
import { assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { hwTest, type Need, needs } from "./hw.ts";
import { heapExporter, kernelHas } from "./features.ts";
import { DmaHeap } from "../../ffi/dma_heap.ts";
import { describeFd, type DmaBuf } from "../../ffi/dma_buf.ts";
import { allocUdmabuf, createUdmabuf, sealedMemfd } from "../../ffi/udmabuf.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { fstat, memfdCreate, MemfdFlags } from "../../ffi/fd.ts";
import { pageSize } from "../../ffi/page_size.ts";

/** The kernel's page size: heaps hand out whole pages and UDMABUF_CREATE wants page-aligned ranges. */
const PAGE = pageSize();

interface Source {
  label: string;
  need: Need;
  /** The exporter name fdinfo shows. */
  exporter: () => string;
  alloc: (length: number) => DmaBuf;
}

const sources: Source[] = [
  {
    label: "system heap",
    need: needs.systemHeap,
    exporter: () => heapExporter("system"),
    alloc: (length) => {
      using heap = DmaHeap.open("system");
      return heap.alloc(length);
    },
  },
  {
    label: "CMA heap",
    need: needs.cmaHeap,
    exporter: () => {
      using heap = DmaHeap.open("cma");
      return heapExporter(heap.name);
    },
    alloc: (length) => {
      using heap = DmaHeap.open("cma");
      return heap.alloc(length);
    },
  },
  {
    label: "udmabuf",
    need: needs.udmabuf,
    exporter: () => "udmabuf",
    alloc: (length) => allocUdmabuf(length),
  },
];

for (const source of sources) {
  hwTest({
    name: `${source.label}: the fd is a dma-buf whose fdinfo names the exporter, size page-rounded`,
    needs: [source.need],
    fn: () => {
      using buf = source.alloc(PAGE + 1);
      assertMatch(describeFd(buf.fd), /^\/dmabuf:/);
      const info = buf.fdinfo();
      assertEquals(info.expName, source.exporter());
      assertEquals(info.size, 2 * PAGE);
      assertEquals(buf.size(), 2 * PAGE);
      assertEquals(Number(fstat(buf.fd).size), 2 * PAGE);
      // fdinfo's ino: line arrived in 5.14; before, the inode is only in fstat.
      assertEquals(info.ino, kernelHas("fdinfo-ino") ? buf.inode() : null);
    },
  });

  hwTest({
    name: `${source.label}: a new 1 MiB buffer is zeroed`,
    needs: [source.need],
    fn: () => {
      using buf = source.alloc(1 << 20);
      buf.sync("start", "read");
      using mapping = buf.map();
      assertEquals(mapping.verify({ kind: "zero" }), null);
      buf.sync("end", "read");
    },
  });

  hwTest({
    name: `${source.label}: mmap write inside SYNC start/end reads back through a second mapping`,
    needs: [source.need],
    fn: () => {
      using buf = source.alloc(256 * 1024);
      {
        buf.sync("start", "write");
        using writer = buf.map({ write: true });
        writer.fill({ kind: "random", seed: 7 });
        buf.sync("end", "write");
      }
      buf.sync("start", "read");
      using reader = buf.map();
      assertEquals(reader.verify({ kind: "random", seed: 7 }), null);
      assertEquals(reader.verify({ kind: "random", seed: 8 })?.offset, 0);
      buf.sync("end", "read");
    },
  });

  hwTest({
    name: `${source.label}: DMA_BUF_SET_NAME shows in fdinfo and readlink`,
    needs: [source.need],
    fn: () => {
      using buf = source.alloc(PAGE);
      buf.setName("alloc-test");
      assertEquals(buf.fdinfo().name, "alloc-test");
      assertEquals(describeFd(buf.fd), "/dmabuf:alloc-test");
    },
  });
}

hwTest({
  name: "system heap: length 0, unknown heap_flags and bad fd_flags fail with EINVAL",
  needs: [needs.systemHeap],
  fn: () => {
    using heap = DmaHeap.open("system");
    for (
      const attempt of [
        () => heap.alloc(0),
        () => heap.alloc(PAGE, { heapFlags: 0x111111n }),
        () => heap.alloc(PAGE, { fdFlags: 0o100 }),
      ]
    ) {
      const error = assertThrows(attempt, SyscallError);
      assertEquals(error.code, "EINVAL");
      assertEquals(error.syscall, "ioctl(DMA_HEAP_IOCTL_ALLOC)");
    }
  },
});

hwTest({
  name: "udmabuf: creation needs a memfd sealed against shrinking (EINVAL otherwise) and page-aligned ranges",
  needs: [needs.udmabuf],
  fn: () => {
    using unsealed = memfdCreate("unsealed", BigInt(4 * PAGE), MemfdFlags.MFD_ALLOW_SEALING);
    assertEquals(assertThrows(() => createUdmabuf(unsealed, PAGE), SyscallError).code, "EINVAL");
    using sealed = sealedMemfd("sealed", 4 * PAGE);
    assertEquals(assertThrows(() => createUdmabuf(sealed, PAGE + 1), SyscallError).code, "EINVAL");
    assertEquals(assertThrows(() => createUdmabuf(sealed, PAGE, 1), SyscallError).code, "EINVAL");
    using buf = createUdmabuf(sealed, 2 * PAGE, PAGE);
    assertEquals(buf.size(), 2 * PAGE);
    assertEquals(buf.fdinfo().expName, "udmabuf");
  },
});
