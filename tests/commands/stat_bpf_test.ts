/**
 * `dmabuf stat --source bpf` on this machine: the host tier runs on a 6.16+ kernel with BTF, where the
 * iterator loads (it may list no buffers: such machines have no dma-buf exporters). The comparison with
 * bufinfo over real buffers is in tests/kernel/stat_bpf_test.ts.
 */
import { assertEquals, assertIncludes, assertOk } from "../assert.ts";
import { CLI_PATH, runCli } from "../run_cli.ts";
import { hwTest, needs } from "../kernel/hw.ts";

hwTest({
  name: "stat --source bpf: the source line, and JSON with source bpf and every fence list null",
  needs: [needs.bpfIterator],
  fn: async () => {
    const human = await runCli(["stat", "--source", "bpf"]);
    assertEquals(human.code, 0, human.stderr);
    assertEquals(human.stderr, "");
    assertOk(human.stdout.startsWith("Source: BPF iterator (iter/dmabuf)\n"), human.stdout);
    const json = await runCli(["stat", "--source", "bpf", "--json"]);
    assertEquals(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assertEquals([doc.source, doc.sourcePath, doc.generation], ["bpf", "iter/dmabuf", null]);
    for (const buffer of doc.buffers) {
      assertEquals(buffer.fences, null);
      assertOk(
        typeof buffer.inode === "number" && typeof buffer.exporter === "string",
        JSON.stringify(buffer),
      );
    }
    assertEquals(doc.totals.count, doc.buffers.length);
  },
});

hwTest({
  name: "stat --source bpf as uid 65534: one line naming CAP_BPF and CAP_PERFMON, exit 1; auto falls back",
  needs: [needs.bpfIterator],
  fn: async () => {
    const asNobody = (args: string[]) =>
      new Deno.Command("setpriv", {
        args: ["--reuid", "65534", "--regid", "65534", "--clear-groups", CLI_PATH, ...args],
        stdin: "null",
      }).output();
    const refused = await asNobody(["stat", "--source", "bpf"]);
    const err = new TextDecoder().decode(refused.stderr);
    assertEquals(refused.code, 1, err);
    assertEquals(err.split("\n").filter((l) => l !== "").length, 1, err);
    assertIncludes(
      err,
      "dmabuf: loading a BPF program needs CAP_BPF and CAP_PERFMON (EPERM; kernel.unprivileged_bpf_disabled=",
    );
    assertIncludes(err, "; run as root");
    const auto = await asNobody(["stat", "--json"]);
    const autoErr = new TextDecoder().decode(auto.stderr);
    assertEquals(auto.code, 0, autoErr);
    assertOk(JSON.parse(new TextDecoder().decode(auto.stdout)).source !== "bpf");
    assertIncludes(autoErr, "dmabuf: not using bpf: loading a BPF program needs CAP_BPF and CAP_PERFMON");
  },
});

Deno.test("stat --source bpf with --input is a usage error", async () => {
  const result = await runCli(["stat", "--source", "bpf", "--input", "/dev/null"]);
  assertEquals([result.code, result.stderr.trim()], [2, "dmabuf: --source and --input exclude each other"]);
});
