/**
 * `dmabuf doctor` on a real kernel, healthy and broken on purpose: a heap only root may open (doctor run as
 * uid 65534, then the printed rule's GROUP and MODE applied by hand), a CMA area too small for --size,
 * fragmented CMA (alternating 1 MiB buffers held here), udmabuf over its size limit, debugfs unmounted (and
 * `stat` still answering through its fallbacks). Every state is restored afterwards. Runs in every x86_64
 * tier (5.10, 6.1, 6.12, 7.2) and asserts what each kernel has.
 */
import { assertEquals, assertIncludes, assertMatch, assertOk } from "../assert.ts";
import { runCli } from "../run_cli.ts";
import type { DoctorResult } from "../../commands/doctor/runner.ts";
import { hwTest, needs } from "./hw.ts";
import { DmaHeap } from "../../ffi/dma_heap.ts";
import type { DmaBuf } from "../../ffi/dma_buf.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { readCmaAreas } from "../../ffi/cma.ts";
import { parseMeminfo } from "../../ffi/text/meminfo.ts";
import { pageSize } from "../../ffi/page_size.ts";

const MiB = 1024 * 1024;
const PAGE = pageSize();
const [MAJOR, MINOR] = Deno.osRelease().split(".").map(Number) as [number, number];
const atLeast = (major: number, minor: number) => MAJOR > major || (MAJOR === major && MINOR >= minor);
const DEBUGFS = "/sys/kernel/debug";
const UDMABUF_SIZE_LIMIT = "/sys/module/udmabuf/parameters/size_limit_mb";

type Check = DoctorResult;

interface Report {
  kernel: string;
  request: { heap: string | null; resolvedHeap: string | null; size: number | null };
  checks: Check[];
}

function parse(stdout: string): { report: Report; get: (id: string) => Check } {
  const report = JSON.parse(stdout) as Report;
  return {
    report,
    get: (id) => {
      const found = report.checks.find((c) => c.id === id);
      if (found === undefined) throw new Error(`no ${id} in ${report.checks.map((c) => c.id).join(", ")}`);
      return found;
    },
  };
}

async function doctor(args: string[]) {
  const { code, stdout, stderr } = await runCli(["doctor", "--json", ...args]);
  return { code, stderr, ...parse(stdout) };
}

/** Runs `dmabuf doctor --json ARGS` as uid/gid 65534 with `groups` as supplementary groups. */
async function doctorAsNobody(args: string[], groups: number[] = []) {
  const ids = ["--reuid", "65534", "--regid", "65534"];
  const groupArgs = groups.length === 0 ? ["--clear-groups"] : ["--groups", groups.join(",")];
  const { code, stdout, stderr } = await new Deno.Command("setpriv", {
    args: [...ids, ...groupArgs, "dmabuf", "doctor", "--json", ...args],
    stdin: "null",
    env: { DENO_DIR: "/tmp/deno-65534", HOME: "/tmp" },
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr), ...parse(new TextDecoder().decode(stdout)) };
}

function gidOf(group: string): number {
  const line = Deno.readTextFileSync("/etc/group").split("\n").find((l) => l.startsWith(`${group}:`));
  if (line === undefined) throw new Error(`no group ${group} in /etc/group`);
  return Number(line.split(":")[2]);
}

hwTest({
  name:
    "doctor on a healthy VM: no fail, exit 0, no fd left open, and each version-gated feature as this kernel has it",
  needs: [needs.systemHeap, needs.cmaHeap, needs.udmabuf, needs.bufinfo],
  fn: async () => {
    const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
    const tainted = () => Deno.readTextFileSync("/proc/sys/kernel/tainted").trim();
    const [fdsBefore, taintBefore] = [fds(), tainted()];
    const { code, report, get, stderr } = await doctor([]);
    assertEquals(fds(), fdsBefore, "doctor closed every buffer, heap, sync_file and file it opened");
    // No fence is made (7.2 taints the kernel for a sw_sync fence): the taint mask is what it was.
    assertEquals(tainted(), taintBefore);
    const failed = report.checks.filter((c) => c.status === "fail");
    assertEquals(failed, [], stderr);
    assertEquals(code, 0);
    assertEquals(report.kernel, Deno.osRelease());
    for (
      const id of [
        "kernel.config",
        "kernel.dma-heap",
        "kernel.heap-system",
        "kernel.heap-cma",
        "kernel.debugfs",
      ]
    ) {
      assertEquals(get(id).status, "ok", id);
    }
    assertEquals(get("kernel.config").summary.startsWith("/proc/config.gz: "), true);
    for (const c of report.checks.filter((c) => /^(access|alloc)\./.test(c.id))) {
      assertEquals(c.status, "ok", c.id);
    }
    const expect = (id: string, present: boolean, text: string) => {
      assertEquals(get(id).status, present ? "ok" : "warn", `${id}: ${get(id).summary}`);
      assertIncludes(get(id).summary, text);
    };
    expect("feature.export-sync-file", atLeast(6, 0), atLeast(6, 0) ? "EINVAL" : "ENOTTY");
    expect("feature.import-sync-file", atLeast(6, 0), atLeast(6, 0) ? "EINVAL" : "ENOTTY");
    // 5.10 has no sync_file to probe SET_DEADLINE on (no EXPORT_SYNC_FILE, no fence made): absent by version.
    expect(
      "feature.set-deadline",
      atLeast(6, 8),
      atLeast(6, 8) ? "EINVAL" : atLeast(6, 0) ? "ENOTTY" : "predates",
    );
    expect("feature.bpf-dmabuf-iter", atLeast(6, 16), atLeast(6, 16) ? "names bpf_iter_dmabuf" : "absent");
    expect("kernel.trace-dma-buf", MAJOR >= 7, MAJOR >= 7 ? "dma_buf_export" : "no dma_buf tracepoints");
    const stats = get("kernel.sysfs-stats");
    assertEquals(stats.status, "ok");
    if (atLeast(6, 19) || !atLeast(5, 13)) assertMatch(stats.summary, /has no dma-buf sysfs statistics/);
    else assertEquals(stats.summary, "/sys/kernel/dmabuf/buffers");
    if (MAJOR >= 7) {
      // One CMA area under two names: said so, and tried once.
      assertEquals(report.checks.find((c) => c.id === "alloc.reserved")?.data.sameAs, "default_cma_region");
      assertIncludes(get("kernel.heap-cma").summary, "also listed as reserved: the same CMA area");
    }
  },
});

hwTest({
  name: "doctor as uid 65534 on a heap made 0600 root: fails naming heap, mode, owner and a udev rule; " +
    "the rule's GROUP and MODE applied by hand turn it ok",
  needs: [needs.systemHeap],
  fn: async () => {
    const path = "/dev/dma_heap/system";
    const before = Deno.statSync(path);
    try {
      Deno.chownSync(path, 0, 0);
      Deno.chmodSync(path, 0o600);
      const denied = await doctorAsNobody(["--heap", "system"]);
      assertEquals(denied.code, 1, denied.stderr);
      const access = denied.get("access.system");
      assertEquals(access.status, "fail");
      assertEquals(
        access.summary,
        `${path} is mode 0600, owner 0:0 (root:root): uid 65534 (nobody) may not open it (EACCES)`,
      );
      assertIncludes(access.detail!, "not the owner; not in group 0 (root); others have no access");
      assertIncludes(access.fix!, 'SUBSYSTEM=="dma_heap", GROUP="video", MODE="0660"');
      assertIncludes(access.fix!, "usermod -aG video nobody");
      assertEquals(denied.get("alloc.system").status, "skip");

      // Apply the rule's GROUP and MODE as udev would, and join the group as usermod would.
      const group = /GROUP="([^"]+)"/.exec(access.fix!)![1]!;
      const mode = parseInt(/MODE="([0-7]+)"/.exec(access.fix!)![1]!, 8);
      const gid = gidOf(group);
      Deno.chownSync(path, 0, gid);
      Deno.chmodSync(path, mode);
      const allowed = await doctorAsNobody(["--heap", "system"], [gid]);
      assertEquals(allowed.get("access.system").status, "ok", allowed.get("access.system").summary);
      assertEquals(allowed.get("alloc.system").status, "ok", allowed.get("alloc.system").summary);
      assertEquals(allowed.report.checks.filter((c) => c.status === "fail"), []);
      assertEquals(allowed.code, 0, allowed.stderr);
    } finally {
      Deno.chownSync(path, before.uid, before.gid);
      Deno.chmodSync(path, before.mode! & 0o7777);
    }
  },
});

hwTest({
  name: "doctor --heap cma --size 96M: 'size', the CMA area's size, and a cma= that holds it",
  needs: [needs.cmaHeap],
  fn: async () => {
    const cmaTotal = parseMeminfo(Deno.readTextFileSync("/proc/meminfo")).get("CmaTotal")!;
    assertOk(cmaTotal < 96 * MiB, `the VM's CMA area (${cmaTotal} bytes) must be smaller than 96 MiB`);
    const { code, report, get } = await doctor(["--heap", "cma", "--size", "96M"]);
    assertEquals(code, 1);
    const heap = report.request.resolvedHeap!;
    assertEquals(heap, MAJOR >= 7 ? "default_cma_region" : "reserved");
    const alloc = get(`alloc.${heap}`);
    assertEquals([alloc.status, alloc.data.cause, alloc.data.total], ["fail", "size", cmaTotal]);
    assertEquals(alloc.summary, `size: 96 MiB is larger than the CMA area reserved (${cmaTotal / MiB} MiB)`);
    assertMatch(alloc.fix!, /^cma=128M on the kernel command line/);
  },
});

hwTest({
  name:
    "doctor --heap cma --size 2M with alternating 1 MiB CMA buffers held: 'fragmentation', the largest chunk",
  needs: [needs.cmaHeap, needs.bufinfo],
  fn: async () => {
    const held: DmaBuf[] = [];
    try {
      {
        using heap = DmaHeap.open("cma");
        for (;;) {
          try {
            held.push(heap.alloc(MiB));
          } catch (error) {
            if (error instanceof SyscallError && error.is("ENOMEM")) break;
            throw error;
          }
        }
      }
      assertOk(held.length >= 8, `only ${held.length} 1 MiB CMA buffers fit`);
      for (let i = 1; i < held.length; i += 2) held[i]!.close();
      const area = readCmaAreas({ debugfs: DEBUGFS }).areas.find((a) => a.name === "reserved")!;
      const free = (area.debugfs!.count! - area.debugfs!.used!) * PAGE;
      const largest = area.debugfs!.maxchunk! * PAGE;
      // The state the check is about, measured: enough free in total, no free chunk of 2 MiB.
      assertOk(free >= 2 * MiB && largest < 2 * MiB, `free ${free}, largest free chunk ${largest}`);
      const { code, report, get } = await doctor(["--heap", "cma", "--size", "2M"]);
      assertEquals(code, 1);
      const alloc = get(`alloc.${report.request.resolvedHeap}`);
      assertEquals([alloc.status, alloc.data.cause, alloc.data.largest], ["fail", "fragmentation", largest]);
      assertEquals(
        alloc.summary,
        `fragmentation: ${free / MiB} MiB of the CMA area reserved is free, but the largest free chunk is ` +
          `${largest / MiB} MiB, less than 2 MiB`,
      );
      assertMatch(alloc.fix!, /^allocate the large buffers first/);
    } finally {
      for (const buffer of held) buffer[Symbol.dispose]();
    }
    const after = await doctor(["--heap", "cma", "--size", "2M"]);
    assertEquals(after.code, 0, "with the buffers freed, 2 MiB allocates again");
  },
});

hwTest({
  name: "doctor --heap udmabuf --size 96M: over the size limit, naming the limit and the module parameter",
  needs: [needs.udmabuf],
  fn: async () => {
    const { code, get } = await doctor(["--heap", "udmabuf", "--size", "96M"]);
    assertEquals(code, 1);
    const limits = get("limits.udmabuf");
    assertEquals(limits.status, "fail");
    let parameter: number | null = null;
    try {
      parameter = Number(Deno.readTextFileSync(UDMABUF_SIZE_LIMIT).trim());
    } catch {
      // 5.10: the limit is a constant, not a parameter.
    }
    assertEquals(
      parameter === null,
      !atLeast(6, 1),
      "5.10 has no size_limit_mb parameter, 6.1 and later have",
    );
    assertEquals(limits.data.sizeLimitMb, parameter ?? 64);
    assertEquals(
      limits.summary,
      `96 MiB is over udmabuf's limit of ${parameter ?? 64} MiB (UDMABUF_CREATE refused it: EINVAL)`,
    );
    if (parameter === null) {
      assertMatch(limits.fix!, /^this kernel's udmabuf limit cannot be changed/);
    } else {
      assertEquals(
        limits.fix,
        `echo 96 > ${UDMABUF_SIZE_LIMIT} as root (now), or udmabuf.size_limit_mb=96 on the kernel command line (at boot)`,
      );
    }
    assertEquals(get("alloc.udmabuf").status, "skip");
  },
});

hwTest({
  name:
    "doctor with debugfs unmounted: the mount line as the fix, no fail, and stat answers from its fallback",
  needs: [needs.systemHeap, needs.bufinfo],
  fn: async () => {
    const umount = await new Deno.Command("umount", { args: ["-R", DEBUGFS] }).output();
    assertEquals(umount.code, 0, new TextDecoder().decode(umount.stderr));
    try {
      const { code, report, get } = await doctor([]);
      const debugfs = get("kernel.debugfs");
      assertEquals([debugfs.status, debugfs.summary], ["warn", "debugfs is not mounted"]);
      assertEquals(
        debugfs.fix,
        `mount -t debugfs none ${DEBUGFS} (at boot: debugfs ${DEBUGFS} debugfs defaults 0 0 in /etc/fstab)`,
      );
      assertEquals([get("kernel.bufinfo").status, get("kernel.bufinfo").fix], ["skip", debugfs.fix]);
      assertEquals(report.checks.filter((c) => c.status === "fail"), []);
      assertEquals(code, 0);
      const stat = await runCli(["stat", "--json"]);
      assertEquals(stat.code, 0, stat.stderr);
      const source = (JSON.parse(stat.stdout) as { source: string }).source;
      // auto's order after debugfs: the BPF iterator (6.16+, with BTF), sysfs statistics, /proc.
      assertEquals(source, atLeast(6, 16) ? "bpf" : atLeast(5, 13) && !atLeast(6, 19) ? "sysfs" : "proc");
      // doctor named the fallback stat then used.
      const named =
        { bpf: "the BPF iterator", sysfs: "sysfs statistics", proc: "a scan of the processes" }[source];
      assertIncludes(debugfs.detail ?? "", `dmabuf stat falls back to ${named}`);
    } finally {
      const mount = await new Deno.Command("mount", { args: ["-t", "debugfs", "debugfs", DEBUGFS] }).output();
      assertEquals(mount.code, 0, new TextDecoder().decode(mount.stderr));
    }
    assertEquals((await doctor([])).get("kernel.debugfs").status, "ok");
  },
});
