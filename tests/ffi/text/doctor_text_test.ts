/** The parsers doctor reads the system with: kernel config, process status, limits, cgroup, passwd/group. */
import { assertEquals } from "../../assert.ts";
import { isEnabled, parseKernelConfig } from "../../../ffi/text/kconfig.ts";
import { parseCgroupV2Path, parseLimits, parseStatusIds } from "../../../ffi/text/process.ts";
import { parseGroups, parsePasswd } from "../../../ffi/text/accounts.ts";

Deno.test("parseKernelConfig: values, 'is not set' as n, quoted strings unquoted, comments ignored", () => {
  const config = parseKernelConfig([
    "#",
    "# Automatically generated file; DO NOT EDIT.",
    "CONFIG_DMABUF_HEAPS=y",
    "CONFIG_DMABUF_HEAPS_CMA=m",
    "# CONFIG_DMABUF_SYSFS_STATS is not set",
    "CONFIG_CMA_SIZE_MBYTES=64",
    'CONFIG_LOCALVERSION="-rt \\"x\\""',
    "",
  ].join("\n"));
  assertEquals([...config], [
    ["CONFIG_DMABUF_HEAPS", "y"],
    ["CONFIG_DMABUF_HEAPS_CMA", "m"],
    ["CONFIG_DMABUF_SYSFS_STATS", "n"],
    ["CONFIG_CMA_SIZE_MBYTES", "64"],
    ["CONFIG_LOCALVERSION", '-rt "x"'],
  ]);
  assertEquals(
    ["CONFIG_DMABUF_HEAPS_CMA", "CONFIG_DMABUF_SYSFS_STATS", "CONFIG_NOPE"].map((o) => isEnabled(config, o)),
    [
      true,
      false,
      false,
    ],
  );
});

Deno.test("parseStatusIds: effective ids and supplementary groups; parseLimits splits at the name column", () => {
  const status = "Name:\tdeno\nUid:\t1000\t65534\t65534\t65534\nGid:\t1000\t44\t44\t44\nGroups:\t44 100 \n";
  assertEquals(parseStatusIds(status), { uid: 65534, gid: 44, groups: [44, 100] });
  assertEquals(parseStatusIds("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n"), {
    uid: 0,
    gid: 0,
    groups: [],
  });
  assertEquals(parseStatusIds("Name:\tx\n"), null);
  const limits = parseLimits([
    "Limit                     Soft Limit           Hard Limit           Units     ",
    "Max cpu time              unlimited            unlimited            seconds   ",
    "Max open files            1024                 524288               files     ",
    "",
  ].join("\n"));
  assertEquals(limits.get("Max open files"), { soft: 1024, hard: 524288 });
  assertEquals(limits.get("Max cpu time"), { soft: null, hard: null });
  assertEquals(
    parseCgroupV2Path("0::/user.slice/user-1000.slice/session-2.scope\n"),
    "/user.slice/user-1000.slice/session-2.scope",
  );
  assertEquals(parseCgroupV2Path("12:memory:/x\n"), null);
});

Deno.test("parsePasswd and parseGroups: names by id, members listed", () => {
  assertEquals([
    ...parsePasswd("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/usr/sbin/nologin\n"),
  ], [
    [0, "root"],
    [65534, "nobody"],
  ]);
  assertEquals(parseGroups("root:x:0:\nvideo:x:44:alice,bob\n#c:x:1:\n"), [
    { name: "root", gid: 0, members: [] },
    { name: "video", gid: 44, members: ["alice", "bob"] },
  ]);
});
