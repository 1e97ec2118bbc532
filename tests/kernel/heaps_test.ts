/**
 * `dmabuf heaps` on the real kernel: every entry of /dev/dma_heap and udmabuf, the `cma` alias, and from 6.17
 * the default CMA area's two heaps (`default_cma_region` and the area's own name) shown as one area, counted
 * once.
 */
import assert from "node:assert/strict";
import { runCli } from "../run_cli.ts";
import { hwTest, needs } from "./hw.ts";
import { kernelHas } from "./features.ts";

interface HeapJson {
  name: string;
  accessible: boolean;
  pseudo: boolean;
  cmaAlias: boolean;
  sameMemoryAs: string | null;
}

const twins = kernelHas("default-cma-region");

hwTest({
  name: `heaps: every /dev/dma_heap entry and udmabuf, the cma alias${
    twins ? ", default_cma_region and reserved as one CMA area counted once" : ""
  }`,
  needs: [needs.systemHeap, needs.cmaHeap, needs.udmabuf],
  fn: async () => {
    const json = await runCli(["heaps", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const heaps = JSON.parse(json.stdout) as HeapJson[];
    const entries = Deno.readDirSync("/dev/dma_heap").toArray().map((e) => e.name).sort();
    assert.deepEqual(heaps.map((h) => h.name), [...entries, "udmabuf"]);
    assert.ok(heaps.every((h) => h.accessible), "root opens every heap");
    const cma = heaps.filter((h) => h.cmaAlias).map((h) => h.name);
    assert.deepEqual(cma, [twins ? "default_cma_region" : "reserved"]);
    const pairs = heaps.filter((h) => h.sameMemoryAs !== null).map((h) => [h.name, h.sameMemoryAs]);
    assert.deepEqual(
      pairs,
      twins ? [["default_cma_region", "reserved"], ["reserved", "default_cma_region"]] : [],
    );

    const human = await runCli(["heaps"]);
    assert.equal(human.code, 0, human.stderr);
    const total = Number(/^CmaTotal:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/meminfo"))![1]) / 1024;
    const cmaLine = human.stdout.split("\n").filter((line) => line.startsWith("CMA: "));
    assert.equal(cmaLine.length, 1, human.stdout);
    assert.match(cmaLine[0]!, new RegExp(`free of ${total} MiB`));
    if (twins) {
      assert.match(human.stdout, /^default_cma_region \(cma\)\s+yes /m);
      assert.match(human.stdout, /^reserved \(= default_cma_region\)\s+yes /m);
      assert.match(cmaLine[0]!, /\(default_cma_region and reserved are one area, counted once\)$/);
    } else {
      assert.match(human.stdout, /^reserved \(cma\)\s+yes /m);
      assert.doesNotMatch(human.stdout, /= |one area/);
    }
  },
});
