/**
 * Baseline: the kernel's own dma-buf selftests (dmabuf-heaps, udmabuf, sync), built statically from the test
 * VM's kernel tree by tests/vm/selftests.sh, pass on the kernel our tests run on. If one of these fails,
 * suspect the kernel or the VM before dmabuf.
 */
import assert from "node:assert/strict";
import { hwTest, type Need, needs } from "./hw.ts";

/** Set by tests/vm/run.ts in the guest: the host directory holding the selftest binaries. */
const SELFTESTS_ENV = "DMABUF_VM_SELFTESTS";
const DMA_HEAP_DIR = "/dev/dma_heap";

function selftestsDir(): string | undefined {
  return Deno.env.get(SELFTESTS_ENV) || undefined;
}

/** The selftest binary `name`, built by tests/vm/selftests.sh. */
function selftest(name: string): Need {
  return {
    what: `the kernel selftest ${name}`,
    missing: () => {
      const dir = selftestsDir();
      if (dir === undefined) return `no ${SELFTESTS_ENV} (the test VM sets it)`;
      try {
        Deno.statSync(`${dir}/${name}`);
        return undefined;
      } catch {
        return `no ${dir}/${name}`;
      }
    },
  };
}

/** The huge page pool's size; present where the kernel has hugetlbfs. */
const NR_HUGEPAGES = "/proc/sys/vm/nr_hugepages";
/** 2 MiB pages the udmabuf selftest's hugetlb case needs (its MEMFD_SIZE). */
const SELFTEST_HUGEPAGES = 1024;

/** The current huge page pool size, or undefined where the kernel has no huge pages. */
function readHugepages(): string | undefined {
  try {
    return Deno.readTextFileSync(NR_HUGEPAGES).trim();
  } catch {
    return undefined;
  }
}

/** Runs a selftest binary; returns its exit code and merged output. */
async function runSelftest(name: string): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(`${selftestsDir()}/${name}`, {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

hwTest({
  name: "kernel selftest dmabuf-heap passes on every heap",
  needs: [selftest("dmabuf-heap"), needs.systemHeap, needs.cmaHeap],
  fn: async () => {
    const { code, output } = await runSelftest("dmabuf-heap");
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /FAIL/, output);
    for (const heap of Deno.readDirSync(DMA_HEAP_DIR)) {
      // 6.1 prints "Testing heap: NAME"; later kernels print the same as a KTAP diagnostic ("# Testing ...").
      assert.match(output, new RegExp(`^(# )?Testing heap: ${heap.name}$`, "m"), output);
    }
  },
});

hwTest({
  name: "kernel selftest udmabuf passes",
  needs: [selftest("udmabuf"), needs.udmabuf],
  fn: async () => {
    // After 6.1 the selftest also exports a 1024-page hugetlb memfd of 2 MiB pages (test-6): reserve them
    // for the run where the kernel has huge pages, and give them back after.
    const hugepages = readHugepages();
    if (hugepages !== undefined) Deno.writeTextFileSync(NR_HUGEPAGES, String(SELFTEST_HUGEPAGES));
    let result: { code: number; output: string };
    try {
      result = await runSelftest("udmabuf");
    } finally {
      if (hugepages !== undefined) Deno.writeTextFileSync(NR_HUGEPAGES, hugepages);
    }
    const { code, output } = result;
    assert.equal(code, 0, output);
    // 6.1 prints "udmabuf: ok"; later kernels report each case in KTAP ("ok 1 ...: [PASS,test-1]").
    assert.match(output, /udmabuf: ok|udmabuf: \[PASS,test-1\]/, output);
  },
});

hwTest({
  name: "kernel selftest sync_test passes every case",
  needs: [selftest("sync_test"), needs.swSync],
  fn: async () => {
    const { code, output } = await runSelftest("sync_test");
    assert.equal(code, 0, output);
    const totals = /# Totals: pass:(\d+) fail:(\d+) xfail:\d+ xpass:\d+ skip:(\d+) error:(\d+)/.exec(output);
    assert.ok(totals, `no totals line in:\n${output}`);
    const [, pass, fail, skip, error] = totals.map(Number);
    assert.ok(pass! > 0, output);
    assert.deepEqual({ fail, skip, error }, { fail: 0, skip: 0, error: 0 }, output);
  },
});
