/**
 * fence-wait and fence subcommands without fence hardware: rendering helpers, stdin commands of sw-sync,
 * usage errors (exit 2), and the one-line failures for fds that are not sync_files, not open, or a kernel
 * without sw_sync (exit 1).
 */
import assert from "node:assert/strict";
import { signalledAgo, stateName, syncFileJson } from "../../commands/fence/sync_file_view.ts";
import { parseSwSyncCommand } from "../../commands/fence/sw_sync.ts";
import { UsageError } from "../../commands/toolkit/errors.ts";
import { parseSeqno } from "../../commands/toolkit/parse.ts";
import { memfdCreate } from "../../ffi/fd.ts";
import { swSyncCandidates } from "../../ffi/sw_sync.ts";
import { runCli } from "../run_cli.ts";

Deno.test("stateName and syncFileJson: raw status plus a word and the errno name", () => {
  assert.equal(stateName(1), "signalled");
  assert.equal(stateName(0), "active");
  assert.equal(stateName(-2), "error");
  const fence = { driver: "sw_sync", timeline: "deno", status: -2, flags: 0, timestampNs: 5n };
  assert.deepEqual(syncFileJson({ name: "x", status: -2, fences: [fence] }), {
    name: "x",
    status: -2,
    state: "error",
    error: "ENOENT",
    fences: [{ ...fence, state: "error", error: "ENOENT" }],
  });
});

Deno.test("signalledAgo: relative to CLOCK_MONOTONIC now, '-' while active", () => {
  const fence = { driver: "d", timeline: "t", status: 1, flags: 0, timestampNs: 1_000_000_000n };
  assert.equal(signalledAgo(fence, 2_500_000_000n), "1.50 s ago");
  assert.equal(signalledAgo({ ...fence, status: 0, timestampNs: 0n }, 2_500_000_000n), "-");
});

Deno.test("sw-sync stdin commands: inc [N], close, status, quit; blanks and comments ignored", () => {
  assert.deepEqual(parseSwSyncCommand("inc"), { kind: "inc", step: 1 });
  assert.deepEqual(parseSwSyncCommand("  inc 5 "), { kind: "inc", step: 5 });
  assert.deepEqual(parseSwSyncCommand("close"), { kind: "close" });
  assert.deepEqual(parseSwSyncCommand("STATUS"), { kind: "status" });
  assert.deepEqual(parseSwSyncCommand("quit"), { kind: "quit" });
  assert.equal(parseSwSyncCommand(""), null);
  assert.equal(parseSwSyncCommand("# a comment"), null);
  assert.throws(() => parseSwSyncCommand("inc -1"), UsageError);
  assert.throws(() => parseSwSyncCommand("inc 4294967296"), UsageError);
  assert.throws(() => parseSwSyncCommand("close now"), /close takes no argument/);
  assert.throws(() => parseSwSyncCommand("signal"), /expected inc \[N\], close, status or quit/);
});

Deno.test("parseSeqno: 0 to 2^32-1", () => {
  assert.equal(parseSeqno("0"), 0);
  assert.equal(parseSeqno("4294967295"), 4294967295);
  assert.throws(() => parseSeqno("4294967296"), UsageError);
  assert.throws(() => parseSeqno("-1"), /Invalid seqno "-1"/);
});

for (
  const [args, message] of [
    [["fence-wait"], /fence-wait needs --fd N/],
    [["fence-wait", "--fd", "3", "--read"], /--read applies to --dmabuf only/],
    [["fence-wait", "--dmabuf", "--fd", "3", "--read", "--write"], /Give --read or --write, not both/],
    [["fence-wait", "--fd", "3", "--timeout", "soon"], /Cannot parse duration "soon"/],
    [["fence", "merge", "--fd", "3"], /fence merge needs two sync_files/],
    // Checked before the fds are opened: fds 0 and 1 are not sync_files, yet the name is what is reported.
    [
      ["fence", "merge", "--fd", "0", "--fd", "1", "--name", "n".repeat(36)],
      /Name "n{36}" is 36 bytes: SYNC_IOC_MERGE takes at most 31/,
    ],
    [["fence", "sw-sync", "--seqno", "x"], /Invalid seqno "x"/],
    [["fence", "sw-sync", "--exec"], /--exec needs a command after --/],
    [["fence", "export", "--fd", "3", "--read", "--write"], /Give --read or --write, not both/],
  ] as const
) {
  Deno.test(`dmabuf ${args.join(" ")} is a usage error (exit 2)`, async () => {
    const result = await runCli([...args]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
  });
}

Deno.test("dmabuf fence info / fence-wait on a memfd say it is not a sync_file (exit 1)", async () => {
  using memfd = memfdCreate("plain", 4096n);
  for (
    const args of [["fence", "info", "--fd", String(memfd.fd)], ["fence-wait", "--fd", String(memfd.fd)]]
  ) {
    const result = await runCli(args);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^dmabuf: fd \d+ is not a sync_file: it is \/memfd:plain \(deleted\); pass the fd of a sync_file/,
    );
    assert.equal(result.stderr.trim().split("\n").length, 1);
  }
  assert.equal(memfd.open, true, "the command closed only its own duplicate");
});

Deno.test("dmabuf fence info --fd on an fd that is not open says so (exit 1)", async () => {
  const result = await runCli(["fence", "info", "--fd", "987654"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^dmabuf: fd 987654 is not open in this process; an fd must be inherited/);
});

Deno.test("dmabuf fence-wait --dmabuf on a memfd says it is not a dma-buf (exit 1)", async () => {
  using memfd = memfdCreate("plain", 4096n);
  const result = await runCli(["fence-wait", "--dmabuf", "--fd", String(memfd.fd), "--timeout", "0"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /is not a dma-buf: it is \/memfd:plain/);
});

const hasSwSync = swSyncCandidates().some((path) => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
});

Deno.test({
  name: "dmabuf fence sw-sync without sw_sync names what is missing (exit 1)",
  ignore: hasSwSync,
  fn: async () => {
    const result = await runCli(["fence", "sw-sync", "--seqno", "1"]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^dmabuf: sw_sync is not available: .*needs CONFIG_SW_SYNC=y and debugfs mounted \(as root\)\n$/,
    );
    assert.equal(result.stdout, "");
  },
});
