import { assertEquals, assertIncludes } from "../assert.ts";
import { memfdCreate } from "../../ffi/fd.ts";
import { formatOpenFlags } from "../../commands/info.ts";
import { runCli } from "../run_cli.ts";

Deno.test("formatOpenFlags names the access mode, O_NONBLOCK and close-on-exec", () => {
  assertEquals(formatOpenFlags(0o2, true), "O_RDWR|O_CLOEXEC");
  assertEquals(formatOpenFlags(0o0, false), "O_RDONLY");
  assertEquals(formatOpenFlags(0o4001, false), "O_WRONLY|O_NONBLOCK");
});

Deno.test("dmabuf info --fd of a memfd exits 1 saying what it is; of a closed fd, that it is not open", async () => {
  using memfd = memfdCreate("info-cli", 4096n);
  const memfdRun = await runCli(["info", "--fd", String(memfd.fd)]);
  assertEquals(memfdRun.code, 1);
  assertEquals(memfdRun.stderr, `dmabuf: fd ${memfd.fd} is not a dma-buf: it is /memfd:info-cli (deleted)\n`);
  const closed = await runCli(["info", "--fd", "999999"]);
  assertEquals(closed.code, 1);
  assertIncludes(closed.stderr, "fd 999999 is not open in this process");
});

Deno.test("dmabuf info --pid of this process lists its dma-bufs (none on a host without heaps)", async () => {
  const { code, stdout, stderr } = await runCli(["info", "--pid", String(Deno.pid), "--json"]);
  assertEquals(code, 0, stderr);
  const listing = JSON.parse(stdout);
  assertEquals(listing.pid, Deno.pid);
  assertEquals(Array.isArray(listing.fds) && Array.isArray(listing.maps), true);
});

Deno.test("dmabuf info --pid of a process that does not exist exits 1", async () => {
  const { code, stderr } = await runCli(["info", "--pid", "1073741800"]);
  assertEquals(code, 1);
  assertEquals(stderr, "dmabuf: No process with pid 1073741800\n");
});

Deno.test("dmabuf info: --pid with --heap, --heap alone, no selection exit 2", async () => {
  for (const args of [["info"], ["info", "--heap", "system"], ["info", "--pid", "1", "--size", "4K"]]) {
    const { code, stderr } = await runCli(args);
    assertEquals(code, 2, `${args.join(" ")}: ${stderr}`);
  }
});
