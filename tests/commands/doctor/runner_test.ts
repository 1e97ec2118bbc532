import { assertEquals, assertIncludes, assertThrows } from "../../assert.ts";
import { countStatuses, type DoctorCheck, runDoctorChecks } from "../../../commands/doctor/runner.ts";
import { doctorReport, renderDoctor } from "../../../commands/doctor/render.ts";
import { Output } from "../../../commands/toolkit/output.ts";
import { captureIo } from "../../run_cli.ts";
import { healthy, run } from "./fixtures.ts";

function check(id: string, requires: string[], run: DoctorCheck["run"]): DoctorCheck {
  return { id, section: "kernel", title: `check ${id}`, requires, run };
}

Deno.test("runDoctorChecks: a check whose prerequisite is not ok is skipped with the prerequisite's fix", () => {
  const ran: string[] = [];
  const results = runDoctorChecks([
    check("a", [], () => ({ status: "warn", summary: "a is off", fix: "turn a on" })),
    check("b", ["a"], () => {
      ran.push("b");
      return { status: "ok", summary: "b" };
    }),
    check("c", [], () => ({ status: "ok", summary: "c" })),
    check("d", ["c"], () => ({ status: "ok", summary: "d", detail: "seen" })),
  ], healthy());
  assertEquals(ran, []);
  assertEquals(results.map((r) => [r.id, r.status, r.fix]), [
    ["a", "warn", "turn a on"],
    ["b", "skip", "turn a on"],
    ["c", "ok", null],
    ["d", "ok", null],
  ]);
  assertEquals(results[1]!.summary, "needs a, which is warn: a is off");
  assertEquals(results[3]!.detail, "seen");
});

Deno.test("runDoctorChecks: a check that throws fails naming the error; an out-of-order list throws", () => {
  const [thrown] = runDoctorChecks([check("x", [], () => {
    throw new TypeError("boom");
  })], healthy());
  assertEquals([thrown!.status, thrown!.summary], ["fail", "could not decide: boom"]);
  assertIncludes(thrown!.fix!, "bug in dmabuf");
  assertThrows(() => runDoctorChecks([check("y", ["z"], () => ({ status: "ok", summary: "" }))], healthy()));
});

Deno.test("renderDoctor: sections in order, detail and fix under what is not ok, the counts last", () => {
  const facts = healthy();
  facts.mounts.debugfs = null;
  facts.debugfs = { bufinfo: null, bufinfoBuffers: null, swSync: null };
  const results = run(facts);
  const captured = captureIo();
  renderDoctor(new Output(captured.io, { json: false, color: "never", verbose: false }), facts, results);
  const text = captured.stdout();
  const lines = text.split("\n");
  assertEquals(lines[0], "dmabuf doctor: Linux 6.12.118 x86_64, 4 KiB pages, uid 0 (root)");
  assertEquals(lines.filter((l) => /^[A-Z]/.test(l)), [
    "Kernel support",
    "Version-gated features",
    "Access",
    "CMA",
    "Limits",
    "Allocation",
  ]);
  const at = lines.findIndex((l) => l.includes("kernel.debugfs"));
  assertEquals(lines.slice(at, at + 3).map((l) => l.replace(/ +/g, " ")), [
    " warn kernel.debugfs debugfs is not mounted",
    " without it: no bufinfo (dmabuf stat falls back to sysfs statistics (named by a /proc scan)), no sw_sync, no CMA chunk sizes",
    " fix: mount -t debugfs none /sys/kernel/debug (at boot: debugfs /sys/kernel/debug debugfs defaults 0 0 in /etc/fstab)",
  ]);
  const counts = countStatuses(results);
  assertEquals(
    lines.at(-2),
    `${counts.ok} ok, ${counts.warn} warn, ${counts.fail} fail, ${counts.skip} skip`,
  );
});

Deno.test("doctorReport: the --json document has the kernel, every check with the five fields, the counts", () => {
  const facts = healthy();
  const report = doctorReport(facts, run(facts));
  assertEquals(report.kernel, "6.12.118");
  for (const c of report.checks) {
    assertEquals(Object.keys(c).slice(0, 5), ["id", "status", "summary", "detail", "fix"]);
  }
  assertEquals(report.counts.fail, 0);
});
