import { assertEquals, assertThrows } from "../../assert.ts";
import { type Check, CheckFailure, runChecks, Skip } from "../../../commands/smoke/runner.ts";

function check(id: string, requires: string[], run: Check["run"], subject?: string): Check {
  return {
    id,
    group: "g",
    name: `check ${id}`,
    requires,
    run,
    ...(subject === undefined ? {} : { subject }),
  };
}

const fail = (reason: string, actual?: string) => () => {
  throw new CheckFailure(reason, actual === undefined ? {} : { actual });
};

Deno.test("runChecks: a check whose prerequisite failed is skipped naming it, and does not run", () => {
  const ran: string[] = [];
  const results = runChecks([
    check("g/open", [], () => void ran.push("open")),
    check(
      "g/alloc-4KiB",
      ["g/open"],
      fail("ioctl(DMA_HEAP_IOCTL_ALLOC) failed: ENOTTY", "ENOTTY"),
      "allocation of 4 KiB",
    ),
    check("g/size-4KiB", ["g/alloc-4KiB"], () => void ran.push("size")),
    check("g/name", ["g/open"], fail("fdinfo shows no name")),
    check("g/after-name", ["g/name"], () => void ran.push("after-name")),
  ]);
  assertEquals(ran, ["open"]);
  assertEquals(results.map((r) => r.status), ["pass", "fail", "skip", "fail", "skip"]);
  // The errno a failure saw, when it has one; else its reason.
  assertEquals(results[2]!.reason, "allocation of 4 KiB failed earlier: ENOTTY");
  assertEquals(results[4]!.reason, "check g/name failed earlier: fdinfo shows no name");
});

Deno.test("runChecks: a skipped prerequisite passes its own reason on, so the root cause is named once", () => {
  const results = runChecks([
    check("g/open", [], fail("open /dev/dma_heap/x failed: EACCES", "EACCES"), "opening /dev/dma_heap/x"),
    check("g/alloc", ["g/open"], () => {}),
    check("g/size", ["g/alloc"], () => {}),
    check("g/own-skip", [], () => {
      throw new Skip("kernel lacks it");
    }),
    check("g/after-own-skip", ["g/own-skip"], () => {}),
  ]);
  assertEquals(results.map((r) => r.reason), [
    "open /dev/dma_heap/x failed: EACCES",
    "opening /dev/dma_heap/x failed earlier: EACCES",
    "opening /dev/dma_heap/x failed earlier: EACCES",
    "kernel lacks it",
    "kernel lacks it",
  ]);
});

Deno.test("runChecks: hooks see each check start (unless skipped) and finish, in order", () => {
  const events: string[] = [];
  runChecks([check("g/a", [], fail("no")), check("g/b", ["g/a"], () => {})], {
    starting: (c, i) => events.push(`start ${i} ${c.id}`),
    done: (r, i) => events.push(`done ${i} ${r.id} ${r.status}`),
  });
  assertEquals(events, ["start 0 g/a", "done 0 g/a fail", "done 1 g/b skip"]);
});

Deno.test("runChecks: a prerequisite that has not run before the check is a bug in the battery", () => {
  assertThrows(
    () => runChecks([check("g/b", ["g/a"], () => {}), check("g/a", [], () => {})]),
    Error,
    "check g/b requires g/a, which has not run before it",
  );
});
