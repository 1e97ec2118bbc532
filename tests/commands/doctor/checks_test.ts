/**
 * Each doctor check's decision on synthetic facts: the healthy board, then each broken state the issue
 * names (a heap only root may open, CMA too small or fragmented, udmabuf over its limit, debugfs unmounted)
 * and the kernels of the range (5.10 without the 6.0 ioctls or udmabuf parameters, 7.2 with two names for
 * one CMA area and no sysfs statistics).
 */
import { assertEquals, assertIncludes, assertMatch, assertOk } from "../../assert.ts";
import type { Facts } from "../../../commands/doctor/facts.ts";
import { healthy, node, result, run } from "./fixtures.ts";

const MiB = 1024 * 1024;

function asNobody(facts: Facts): Facts {
  facts.user = { ...facts.user, uid: 65534, gid: 65534, groups: [] };
  for (const n of [...facts.heaps.nodes, facts.heaps.udmabuf!]) n.openError = "EACCES";
  facts.trials = [];
  return facts;
}

Deno.test("doctor: a healthy 6.12 board as root has no fail, and only warns of what 6.12 cannot have", () => {
  const results = run(healthy());
  assertEquals(results.filter((r) => r.status !== "ok").map((r) => [r.id, r.status]), [
    ["kernel.trace-dma-buf", "warn"],
    ["feature.bpf-dmabuf-iter", "warn"],
  ]);
  for (const r of results) assertEquals(r.fix === null, r.status === "ok", r.id);
  assertEquals(new Set(results.map((r) => r.id)).size, results.length);
});

Deno.test("doctor: a heap only root may open fails naming heap, mode and owner, and prints a udev rule", () => {
  const facts = asNobody(healthy());
  const access = result(facts, "access.system");
  assertEquals(access.status, "fail");
  assertEquals(
    access.summary,
    "/dev/dma_heap/system is mode 0600, owner 0:0 (root:root): uid 65534 (nobody) may not open it (EACCES)",
  );
  assertEquals(
    access.detail,
    "not the owner; not in group 0 (root); others have no access; groups of uid 65534: 65534 (nogroup); no ACL",
  );
  assertEquals(
    access.fix,
    'add the udev rule SUBSYSTEM=="dma_heap", GROUP="video", MODE="0660" to /etc/udev/rules.d/90-dma-heap.rules, ' +
      "run udevadm control --reload && udevadm trigger --subsystem-match=dma_heap, usermod -aG video nobody " +
      '(then log in again), or use TAG+="uaccess" instead of GROUP and MODE to give it to the user at the seat',
  );
  assertIncludes(result(facts, "access.udmabuf").fix!, 'KERNEL=="udmabuf", GROUP="video", MODE="0660"');
  // One cause, reported once: the allocation is skipped with the access check's fix.
  const alloc = result(facts, "alloc.system");
  assertEquals([alloc.status, alloc.fix], ["skip", access.fix]);
  assertMatch(alloc.summary, /^needs access\.system, which is fail: /);
});

Deno.test("doctor: once the rule's GROUP and MODE are applied, a member of the group gets ok", () => {
  const facts = asNobody(healthy());
  const system = facts.heaps.nodes.find((n) => n.name === "system")!;
  Object.assign(system, { mode: 0o660, gid: 44, openError: null });
  facts.user.groups = [44];
  facts.trials = [{ heap: "system", size: 4096, allocError: null, mapError: null, ms: 1, notTried: null }];
  const access = result(facts, "access.system");
  assertEquals(access.status, "ok");
  assertEquals(
    access.summary,
    "uid 65534 (nobody) may open /dev/dma_heap/system (mode 0660, owner 0:44 (root:video))",
  );
  assertEquals(result(facts, "alloc.system").status, "ok");
});

Deno.test("doctor: a group that already has access is the fix; an ACL is shown; root denied is an LSM", () => {
  const facts = asNobody(healthy());
  const system = facts.heaps.nodes.find((n) => n.name === "system")!;
  Object.assign(system, {
    mode: 0o660,
    gid: 44,
    acl: [{ tag: "user_obj", id: null, perm: 6 }, { tag: "user", id: 1000, perm: 6 }, {
      tag: "mask",
      id: null,
      perm: 6,
    }],
  });
  const access = result(facts, "access.system");
  assertEquals(access.fix, "usermod -aG video nobody (then log in again)");
  assertIncludes(access.detail!, "not in group 44 (video)");
  assertIncludes(access.detail!, "ACL user::rw-,user:1000:rw-,mask::rw-");
  const root = healthy();
  root.user.userNames = {};
  root.user.groupNames = {};
  assertEquals(
    result(root, "access.system").summary,
    "uid 0 may open /dev/dma_heap/system (mode 0600, owner 0:0)",
  );
  root.heaps.nodes[1]!.openError = "EPERM";
  assertMatch(result(root, "access.system").fix!, /^root is denied by something other than the mode: .*LSM/);
});

Deno.test("doctor --heap nosuch: the access check fails listing the heaps here", () => {
  const facts = healthy();
  facts.request = { heap: "nosuch", resolvedHeap: "nosuch", size: null };
  facts.trials = [];
  const results = run(facts);
  assertEquals(
    results.filter((r) => r.section === "access" || r.section === "alloc").map((r) => [r.id, r.status]),
    [
      ["access.nosuch", "fail"],
      ["alloc.nosuch", "skip"],
    ],
  );
  const access = results.find((r) => r.id === "access.nosuch")!;
  assertEquals(access.summary, 'no heap "nosuch": /dev/dma_heap/nosuch does not exist');
  assertEquals(access.fix, "use one of the heaps here: reserved, system, udmabuf");
});

function cmaTrial(facts: Facts, size: number, allocError = "ENOMEM"): Facts {
  facts.request = { heap: "cma", resolvedHeap: "reserved", size };
  facts.trials = [{ heap: "reserved", size, allocError, mapError: null, ms: 2, notTried: null }];
  return facts;
}

Deno.test("doctor: CMA smaller than --size is 'size', naming the area's size and a cma= that holds it", () => {
  const alloc = result(cmaTrial(healthy(), 96 * MiB), "alloc.reserved");
  assertEquals(alloc.status, "fail");
  assertEquals(alloc.summary, "size: 96 MiB is larger than the CMA area reserved (64 MiB)");
  assertEquals(alloc.fix, "cma=128M on the kernel command line (an area of at least 96 MiB)");
  assertEquals([alloc.data.cause, alloc.data.total], ["size", 64 * MiB]);
});

Deno.test("doctor: enough CMA free but no chunk as large is 'fragmentation' with the largest free chunk", () => {
  const facts = cmaTrial(healthy(), 2 * MiB);
  Object.assign(facts.cma.areas[0]!.debugfs!, { used: 8192, maxchunk: 256 });
  const alloc = result(facts, "alloc.reserved");
  assertEquals(alloc.status, "fail");
  assertEquals(
    alloc.summary,
    "fragmentation: 32 MiB of the CMA area reserved is free, but the largest free chunk is 1 MiB, less than 2 MiB",
  );
  assertMatch(alloc.fix!, /^allocate the large buffers first .* reserve more: cma=128M$/);
  assertEquals([alloc.data.cause, alloc.data.largest, alloc.data.free], ["fragmentation", MiB, 32 * MiB]);
});

Deno.test("doctor: less CMA free than asked is 'in-use'; ENOMEM without maxchunk is 'unknown'; EINVAL 'other'", () => {
  const busy = cmaTrial(healthy(), 8 * MiB);
  Object.assign(busy.cma.areas[0]!.debugfs!, { used: 15360, maxchunk: 1024 });
  const inUse = result(busy, "alloc.reserved");
  assertEquals(
    inUse.summary,
    "in-use: 4 MiB of the CMA area reserved is free, less than 8 MiB (60 MiB in use)",
  );
  assertMatch(inUse.fix!, /dmabuf stat --procs .* cma=128M$/);

  const blind = cmaTrial(healthy(), 2 * MiB);
  blind.cma.areas[0]!.debugfs = null;
  blind.cma.debugfsError = "EACCES";
  blind.memory.cmaFree = 32 * MiB;
  const unknown = result(blind, "alloc.reserved");
  assertEquals(unknown.data.cause, "unknown");
  assertIncludes(
    unknown.summary,
    "32 MiB is free (CmaFree in /proc/meminfo); probably fragmentation, but the largest free chunk could not be read (EACCES)",
  );
  assertMatch(unknown.fix!, /^run doctor as root with debugfs mounted/);

  const other = result(cmaTrial(healthy(), 2 * MiB, "EINVAL"), "alloc.reserved");
  assertEquals([other.data.cause, other.summary], ["other", "other: allocating 2 MiB failed with EINVAL"]);
});

Deno.test("doctor on 7.2: default_cma_region and reserved are one area, tried once and said so", () => {
  const facts = healthy();
  facts.kernel = { ...facts.kernel, release: "7.2.13", version: { major: 7, minor: 2 } };
  facts.heaps.nodes = [node("default_cma_region"), node("reserved"), node("system")];
  facts.heaps.cmaHeap = "default_cma_region";
  facts.trials[0]!.heap = "default_cma_region";
  const results = run(facts);
  const get = (id: string) => results.find((r) => r.id === id)!;
  assertEquals(
    get("kernel.heap-cma").summary,
    "/dev/dma_heap/default_cma_region (also listed as reserved: the same CMA area), CMA area reserved",
  );
  assertEquals(get("alloc.default_cma_region").status, "ok");
  assertEquals(
    [get("alloc.reserved").status, get("alloc.reserved").summary],
    ["ok", "the same CMA area as default_cma_region (reserved): tried there, not twice"],
  );
});

Deno.test("doctor: udmabuf over its size limit fails naming the limit and the module parameter", () => {
  const facts = healthy();
  facts.request = { heap: "udmabuf", resolvedHeap: "udmabuf", size: 96 * MiB };
  facts.trials = [{
    heap: "udmabuf",
    size: 96 * MiB,
    allocError: "EINVAL",
    mapError: null,
    ms: 1,
    notTried: null,
  }];
  const limits = result(facts, "limits.udmabuf");
  assertEquals(limits.status, "fail");
  assertEquals(
    limits.summary,
    "96 MiB is over udmabuf's limit of 64 MiB (UDMABUF_CREATE refused it: EINVAL)",
  );
  assertEquals(
    limits.fix,
    "echo 96 > /sys/module/udmabuf/parameters/size_limit_mb as root (now), or udmabuf.size_limit_mb=96 on the " +
      "kernel command line (at boot)",
  );
  assertEquals(result(facts, "alloc.udmabuf").status, "skip");
  // Without the parameter (5.10), the limit is fixed.
  facts.udmabufLimits = { parameters: false, sizeLimitMb: null, listLimit: null };
  const fixed = result(facts, "limits.udmabuf");
  assertIncludes(
    fixed.detail!,
    "64 MiB per buffer, fixed (this kernel's udmabuf has no size_limit_mb parameter)",
  );
  assertMatch(fixed.fix!, /^this kernel's udmabuf limit cannot be changed/);
  // Not asked for: reported, not compared.
  facts.request = { heap: "system", resolvedHeap: "system", size: 96 * MiB };
  facts.trials = [{
    heap: "system",
    size: 96 * MiB,
    allocError: null,
    mapError: null,
    ms: 1,
    notTried: null,
  }];
  assertEquals(result(facts, "limits.udmabuf").status, "ok");
});

Deno.test("doctor: CMA areas unreadable: the mount line, and CMA's sysfs only where the kernel can have it", () => {
  const facts = healthy();
  facts.mounts.debugfs = null;
  facts.cma = { ...facts.cma, areas: [], sysfsError: "ENOENT", debugfsError: "debugfs not mounted" };
  const areas = () => result(facts, "cma.areas");
  assertEquals(areas().summary, "the CMA areas are not readable (sysfs ENOENT, debugfs not mounted)");
  const mount =
    "mount -t debugfs none /sys/kernel/debug (at boot: debugfs /sys/kernel/debug debugfs defaults 0 0 in /etc/fstab)";
  assertEquals(
    areas().fix,
    `${mount}; its cma/ directory needs CONFIG_CMA_DEBUGFS=y, or a kernel with CONFIG_CMA_SYSFS=y`,
  );
  facts.kernel = { ...facts.kernel, release: "5.10.223", version: { major: 5, minor: 10 } };
  facts.cma.debugfsError = "EACCES";
  assertEquals(
    areas().fix,
    "run as root with debugfs mounted (needs CONFIG_CMA_DEBUGFS=y); Linux 5.10 predates CMA's sysfs (CONFIG_CMA_SYSFS, 5.14)",
  );
});

Deno.test("doctor: debugfs unmounted warns with the mount line; bufinfo and sw_sync point at it", () => {
  const facts = healthy();
  facts.mounts.debugfs = null;
  facts.debugfs = { bufinfo: null, bufinfoBuffers: null, swSync: null };
  facts.cma.areas[0]!.debugfs = null;
  facts.cma.debugfsError = "debugfs not mounted";
  const results = run(facts);
  const get = (id: string) => results.find((r) => r.id === id)!;
  assertEquals(get("kernel.debugfs").status, "warn");
  assertEquals(get("kernel.debugfs").summary, "debugfs is not mounted");
  const mount =
    "mount -t debugfs none /sys/kernel/debug (at boot: debugfs /sys/kernel/debug debugfs defaults 0 0 in /etc/fstab)";
  assertEquals(get("kernel.debugfs").fix, mount);
  assertEquals([get("kernel.bufinfo").status, get("kernel.bufinfo").fix], ["skip", mount]);
  assertEquals([get("kernel.sw-sync").status, get("kernel.sw-sync").fix], ["warn", mount]);
  assertOk(!results.some((r) => r.status === "fail"));
});

Deno.test("doctor: without debugfs, the fallback named is the one stat uses here: bpf, sysfs, then /proc", () => {
  const facts = healthy();
  facts.mounts.debugfs = null;
  facts.debugfs = { bufinfo: null, bufinfoBuffers: null, swSync: null };
  const detail = () => result(facts, "kernel.debugfs").detail;
  assertIncludes(detail()!, "dmabuf stat falls back to sysfs statistics (named by a /proc scan)");
  facts.features.bpfDmabufIter = { present: true, usable: true, reason: "dmabuf's program loaded" };
  assertIncludes(
    detail()!,
    "dmabuf stat falls back to the BPF iterator, which lists every buffer as bufinfo does",
  );
  facts.features.bpfDmabufIter = { present: true, usable: false, reason: "EPERM" };
  facts.sysfsStats.error = "ENOENT";
  assertIncludes(
    detail()!,
    "falls back to a scan of the processes you may read (/proc), which misses buffers",
  );
  facts.features.bpfDmabufIter = { present: true, usable: true, reason: "dmabuf's program loaded" };
  facts.kernel = { ...facts.kernel, release: "7.2.13", version: { major: 7, minor: 2 } };
  delete facts.config.options!.CONFIG_DMABUF_SYSFS_STATS;
  assertMatch(
    result(facts, "kernel.sysfs-stats").summary,
    /; dmabuf stat reads bufinfo \(root\) or the BPF iterator instead$/,
  );
});

Deno.test("doctor on 5.10: the 6.0 and 6.8 ioctls are absent by probe and by version, sysfs stats never were", () => {
  const facts = healthy();
  facts.kernel = { ...facts.kernel, release: "5.10.223", version: { major: 5, minor: 10 } };
  const enotty = { present: false, reason: "ENOTTY: the kernel does not know the ioctl" };
  facts.features = {
    ...facts.features,
    syncFileExported: false,
    exportSyncFile: enotty,
    importSyncFile: enotty,
    setDeadline: { present: null, reason: "no sync_file to probe on" },
  };
  delete facts.config.options!.CONFIG_DMABUF_SYSFS_STATS;
  facts.sysfsStats.error = "ENOENT";
  const get = (id: string) => result(facts, id);
  assertEquals(
    get("feature.export-sync-file").summary,
    "absent (ENOTTY: the kernel does not know the ioctl); it came in Linux 6.0",
  );
  assertMatch(get("feature.export-sync-file").fix!, /^Linux 6\.0 or later; until then /);
  assertEquals(get("feature.set-deadline").status, "warn");
  assertEquals(
    get("feature.set-deadline").summary,
    "absent: Linux 5.10 predates it (Linux 6.8); not probed: no sync_file to probe on",
  );
  assertEquals(get("kernel.sysfs-stats").status, "ok");
  assertMatch(get("kernel.sysfs-stats").summary, /^Linux 5\.10 has no dma-buf sysfs statistics/);
  assertEquals(get("kernel.sync-file").summary, "CONFIG_SYNC_FILE=y");
});

Deno.test("doctor: features not probed on a new kernel are skipped with a fix; present by probe is ok", () => {
  const facts = asNobody(healthy());
  const none = { present: null, reason: "no dma-buf to probe on: no heap or udmabuf this user may open" };
  facts.features = { ...facts.features, exportSyncFile: none, importSyncFile: none, setDeadline: none };
  const skipped = result(facts, "feature.export-sync-file");
  assertEquals(skipped.status, "skip");
  assertIncludes(skipped.summary, "by its version (Linux 6.12) it should have it");
  assertMatch(skipped.fix!, /^run as root, or give this user a heap/);
  facts.features.bpfDmabufIter = { present: true, reason: "/sys/kernel/btf/vmlinux names bpf_iter_dmabuf" };
  assertEquals(result(facts, "feature.bpf-dmabuf-iter").status, "ok");
});

Deno.test("doctor: a kernel without heaps names the options; unreadable config says so", () => {
  const facts = healthy();
  facts.heaps = { ...facts.heaps, dirExists: false, nodes: [], cmaHeap: null };
  facts.config.options!.CONFIG_DMABUF_HEAPS = "n";
  facts.trials = facts.trials.filter((t) => t.heap === "udmabuf");
  const heap = result(facts, "kernel.dma-heap");
  assertEquals([heap.status, heap.summary], [
    "fail",
    "no /dev/dma_heap: the kernel offers no dma-heaps; only udmabuf can make dma-bufs",
  ]);
  assertEquals(heap.fix, "a kernel with CONFIG_DMABUF_HEAPS=y");
  facts.config = { source: null, options: null, tried: [{ path: "/proc/config.gz", error: "ENOENT" }] };
  assertEquals(
    result(facts, "kernel.dma-heap").fix,
    "a kernel with CONFIG_DMABUF_HEAPS=y and CONFIG_DMABUF_HEAPS_SYSTEM=y (its configuration is not readable here)",
  );
  const config = result(facts, "kernel.config");
  assertEquals(config.status, "warn");
  assertMatch(config.fix!, /^CONFIG_IKCONFIG=y and CONFIG_IKCONFIG_PROC=y/);
});

Deno.test("doctor: a CMA heap built as a module is a modprobe; no CMA area is a cma= parameter", () => {
  const facts = healthy();
  facts.heaps.nodes = [node("system")];
  facts.heaps.cmaHeap = null;
  facts.config.options!.CONFIG_DMABUF_HEAPS_CMA = "m";
  assertEquals(result(facts, "kernel.heap-cma").fix, "modprobe cma_heap (CONFIG_DMABUF_HEAPS_CMA=m)");
  facts.config.options!.CONFIG_DMABUF_HEAPS_CMA = "y";
  facts.memory.cmaTotal = 0;
  assertEquals(
    result(facts, "kernel.heap-cma").fix,
    "cma=64M on the kernel command line (or CONFIG_CMA_SIZE_MBYTES=64)",
  );
  assertEquals(result(facts, "cma.total").status, "warn");
});

Deno.test("doctor: a low open-files limit warns with ulimit; a cgroup too small for --size fails", () => {
  const facts = healthy();
  facts.limits.openFiles = { pid: 42, limit: { soft: 256, hard: 4096 } };
  const files = result(facts, "limits.open-files");
  assertEquals(files.status, "warn");
  assertEquals(files.fix, "ulimit -n 4096 in the shell, or LimitNOFILE= in the service's systemd unit");
  facts.limits.memAccounting = true;
  facts.limits.cgroup = { path: "/user.slice", memoryMax: 64 * MiB, memoryCurrent: 60 * MiB };
  facts.request = { heap: "system", resolvedHeap: "system", size: 8 * MiB };
  const cgroup = result(facts, "limits.cgroup-memory");
  assertEquals(cgroup.status, "fail");
  assertIncludes(cgroup.summary, "8 MiB does not fit in the 4 MiB left");
  assertMatch(cgroup.fix!, /^raise memory\.max of \/user\.slice/);
});

Deno.test("doctor: mapping failures and heap ENOMEM are explained", () => {
  const facts = healthy();
  facts.trials[1] = {
    heap: "system",
    size: 4096,
    allocError: null,
    mapError: "EPERM",
    ms: 1,
    notTried: null,
  };
  const mapped = result(facts, "alloc.system");
  assertEquals([mapped.status, mapped.summary], ["fail", "allocated 4 KiB, but mapping it failed: EPERM"]);
  facts.trials[1] = {
    heap: "system",
    size: 4096,
    allocError: "ENOMEM",
    mapError: null,
    ms: 1,
    notTried: null,
  };
  assertEquals(
    result(facts, "alloc.system").summary,
    "allocating 4 KiB failed with ENOMEM (CmaFree 64 MiB of 64 MiB, MemAvailable 1.8 GiB)",
  );
  facts.trials[1] = {
    heap: "system",
    size: 4 * 1024 * MiB,
    allocError: null,
    mapError: null,
    ms: 0,
    notTried: "it is more than MemAvailable (1.8 GiB), and trying could wake the OOM killer",
  };
  const risky = result(facts, "alloc.system");
  assertEquals([risky.status, risky.fix], ["fail", "ask for less than MemAvailable, or free memory first"]);
  assertEquals(
    risky.summary,
    "4 GiB was not tried: it is more than MemAvailable (1.8 GiB), and trying could wake the OOM killer",
  );
});
