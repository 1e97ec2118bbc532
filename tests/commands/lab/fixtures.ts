/**
 * Smoke reports for the lab renderers' tests: the shape of a real run (battery first and last, heaps between),
 * failures with multi-line reasons and details, skips with and without a reason, ids that collide once
 * mapped to safe characters.
 * @module
 */
import type { CheckResult, Report } from "../../../commands/lab/report.ts";

/** A passing check; `overrides` sets the rest. */
export function result(overrides: Partial<CheckResult> & Pick<CheckResult, "id" | "group">): CheckResult {
  return { name: "a check", status: "pass", reason: null, details: {}, durationMs: 1, ...overrides };
}

/** A report of `results`, run on kernel `release`. */
export function report(results: CheckResult[], release = "6.1.0-test"): Report {
  return {
    suite: "dmabuf smoke",
    kernel: release,
    hostname: "board",
    startedAt: "2026-01-02T03:04:05.000Z",
    durationMs: 10,
    results,
  };
}

/** The shape of a real run: battery first and last, heaps between, one heap failing, udmabuf all skipped. */
export const MIXED = report([
  result({ id: "battery/heaps-present", group: "battery" }),
  result({ id: "system/open", group: "system" }),
  result({ id: "system/alloc-4KiB", group: "system" }),
  result({
    id: "system/alloc-16MiB",
    group: "system",
    status: "fail",
    reason: "ioctl(DMA_HEAP_IOCTL_ALLOC) failed: ENOMEM # no memory\nsecond line\tTAB",
    details: { expected: "a buffer", actual: "ENOMEM", note: "Subtest: not a header" },
  }),
  result({
    id: "system/export-sync-file",
    group: "system",
    status: "skip",
    reason: "needs Linux 6.0 # or later",
  }),
  result({ id: "linux,cma/open", group: "linux,cma" }),
  result({ id: "linux,cma/alloc 4 KiB #1", group: "linux,cma" }),
  result({ id: "linux,cma/alloc_4_KiB__1", group: "linux,cma" }),
  result({ id: "udmabuf/open", group: "udmabuf", status: "skip", reason: "no /dev/udmabuf" }),
  result({ id: "udmabuf/alloc-4KiB", group: "udmabuf", status: "skip", reason: "" }),
  result({ id: "battery/no-fd-leak", group: "battery" }),
]);

/** Everything passes. */
export const ALL_PASS = report([
  result({ id: "battery/heaps-present", group: "battery" }),
  result({ id: "system/open", group: "system" }),
  result({ id: "battery/no-fd-leak", group: "battery" }),
]);

/** A board with no heaps at all: presence fails, the fd check passes. */
export const NO_HEAPS = report([
  result({
    id: "battery/heaps-present",
    group: "battery",
    status: "fail",
    reason: "no heaps in /dev/dma_heap and no /dev/udmabuf",
    details: { heapDir: "/dev/dma_heap" },
  }),
  result({ id: "battery/no-fd-leak", group: "battery" }),
]);

/** Text every format must carry safely: markup, control characters, `#`, a backslash, lone and paired surrogates. */
export const NASTY =
  `a<b & "c" 'd' >e\x01\x1b[31m\ttab\nnew # hash \\ back \ud800 lone \ud83d\ude00 pair \ufffe`;

/** A passing `system/alloc-4KiB`; `overrides` sets the rest. */
function hostileResult(overrides: Partial<CheckResult>): CheckResult {
  return {
    id: "system/alloc-4KiB",
    group: "system",
    name: "allocate 4 KiB",
    status: "pass",
    reason: null,
    details: {},
    durationMs: 1.25,
    ...overrides,
  };
}

/** A report with a failure, a skip, and a check whose name, reason and details are {@link NASTY}. */
export const HOSTILE: Report = {
  suite: "dmabuf smoke",
  kernel: "6.1.0-test",
  hostname: "board",
  startedAt: "2025-01-02T03:04:05.000Z",
  durationMs: 1234.5,
  results: [
    hostileResult({}),
    hostileResult({
      id: "system/alloc-len-0",
      name: "DMA_HEAP_IOCTL_ALLOC with len 0 fails with EINVAL",
      status: "fail",
      reason: "DMA_HEAP_IOCTL_ALLOC with len 0 failed with ENOMEM, the kernel documents EINVAL",
      details: { expected: "EINVAL", actual: "ENOMEM", bytes: 0, ok: false, none: null },
    }),
    hostileResult({
      id: "system/export-sync-file",
      name: "DMA_BUF_IOCTL_EXPORT_SYNC_FILE of an idle buffer is signalled",
      status: "skip",
      reason: "kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux < 6.0)",
    }),
    hostileResult({ id: "udmabuf/open", group: "udmabuf", name: "open /dev/udmabuf" }),
    hostileResult({
      id: "udmabuf/nasty",
      group: "udmabuf",
      name: `name ${NASTY}`,
      status: "fail",
      reason: `reason ${NASTY}`,
      details: { [`key ${NASTY}`]: NASTY, actual: "EINVAL" },
    }),
    hostileResult({ id: "battery/no-fd-leak", group: "battery", name: "no fd leaked over the run" }),
  ],
};
