import assert from "node:assert/strict";
import { jobScript, parseDuration, parseOptions, parseUser, qemuArgs, shellQuote, VmError } from "./run.ts";

Deno.test("parseOptions takes options before -- and the command after it, verbatim", () => {
  const options = parseOptions([
    "--require-hw",
    "--timeout",
    "90s",
    "--",
    "sh",
    "-c",
    "echo 'a b'",
    "--user",
  ]);
  assert.equal(options.requireHw, true);
  assert.equal(options.timeoutMs, 90_000);
  assert.deepEqual(options.command, ["sh", "-c", "echo 'a b'", "--user"]);
});

Deno.test("parseOptions: the command may start at the first non-option", () => {
  assert.deepEqual(parseOptions(["--append=loglevel=7 foo", "true"]).command, ["true"]);
  assert.equal(parseOptions(["--append=loglevel=7 foo", "true"]).append, "loglevel=7 foo");
});

Deno.test("parseOptions --user: bare means 65534:65534, GID defaults to UID", () => {
  assert.equal(parseOptions(["--user", "--", "id"]).user, "65534:65534");
  assert.equal(parseOptions(["--user", "1000", "--", "id"]).user, "1000:1000");
  assert.equal(parseOptions(["--user=1000:5", "id"]).user, "1000:5");
  assert.equal(parseOptions(["--", "id"]).user, undefined);
});

Deno.test("parseOptions rejects unknown options and bad values with usage errors (exit 2)", () => {
  for (
    const args of [["--bogus"], ["--timeout", "soon"], ["--memory", "lots"], ["--accel", "xen"], ["--append"]]
  ) {
    assert.throws(() => parseOptions(args), (error) => error instanceof VmError && error.exitCode === 2);
  }
});

Deno.test("parseDuration accepts ms, s, m, h and bare seconds", () => {
  assert.deepEqual(["500ms", "90s", "20m", "1h", "3"].map(parseDuration), [
    500,
    90_000,
    1_200_000,
    3_600_000,
    3000,
  ]);
});

Deno.test("parseUser rejects names", () => {
  assert.throws(() => parseUser("nobody"), VmError);
});

Deno.test("shellQuote round-trips arbitrary arguments through sh", async () => {
  const args = ["a b", "it's", "", "$HOME", "`x`", "line\nbreak", "\\", '"', "*"];
  const script = `set -- ${args.map(shellQuote).join(" ")}; printf '%s\\0' "$@"`;
  const { stdout } = await new Deno.Command("sh", { args: ["-c", script] }).output();
  assert.deepEqual(new TextDecoder().decode(stdout).split("\0").slice(0, -1), args);
});

Deno.test("jobScript sets the checkout, user, require-hw flag, selftests and the command", () => {
  const options = {
    ...parseOptions(["--user", "--require-hw", "--", "echo", "hi there"]),
    selftests: "/c/s",
  };
  assert.equal(
    jobScript("/src/dma buf", options),
    [
      "DMABUF_VM_CHECKOUT='/src/dma buf'",
      "DMABUF_VM_SELFTESTS='/c/s'",
      "DMABUF_VM_USER='65534:65534'",
      "DMABUF_VM_REQUIRE_HW=1",
      "set -- 'echo' 'hi there'",
      "",
    ].join("\n"),
  );
});

Deno.test("parseOptions: kernel, architecture and page size default to x86_64 6.1 4k; arm64 defaults to 6.12", () => {
  const x86 = parseOptions(["--", "true"]);
  assert.deepEqual([x86.arch, x86.kernel, x86.pageSize], ["x86_64", "6.1", "4k"]);
  const x86new = parseOptions(["--kernel", "6.12", "--", "true"]);
  assert.deepEqual([x86new.arch, x86new.kernel], ["x86_64", "6.12"]);
  for (const kernel of ["5.10", "7.2"]) {
    assert.equal(parseOptions(["--kernel", kernel, "--", "true"]).kernel, kernel);
  }
  const arm = parseOptions(["--arch=arm64", "--page-size", "16k", "--file", "/x/a.sh", "--", "true"]);
  assert.deepEqual([arm.arch, arm.kernel, arm.pageSize, arm.files], ["arm64", "6.12", "16k", ["/x/a.sh"]]);
});

Deno.test("parseOptions rejects unknown axes, 16k pages on x86_64 and the arm64 board on 6.1 or 7.2 (exit 2)", () => {
  for (
    const args of [
      ["--kernel", "5.15"],
      ["--arch", "riscv64"],
      ["--page-size", "64k"],
      ["--page-size", "16k"],
      ["--arch", "arm64", "--kernel", "6.1"],
      ["--arch", "arm64", "--kernel", "7.2"],
    ]
  ) {
    assert.throws(
      () => parseOptions(args),
      (error) => error instanceof VmError && error.exitCode === 2,
      args.join(" "),
    );
  }
});

Deno.test("qemuArgs for the arm64 board: virt, PL011 console, two virtio consoles, 9p over virtio-mmio, no host root", () => {
  const dir = { root: "/r", job: "/r/job", console: "/r/c.sock", stdout: "/r/o.sock", stderr: "/r/e.sock" };
  const options = { ...parseOptions(["--arch", "arm64", "--", "true"]), accel: "tcg" as const };
  const args = qemuArgs(
    { arch: "arm64", kernel: "/k/Image", initramfs: "/k/root.cpio.gz", cache: "/k" },
    dir,
    options,
  )
    .join(" ");
  assert.match(args, /-M virt -cpu max/);
  assert.match(args, /-append console=ttyAMA0 /);
  assert.match(args, /-chardev socket,id=console,path=\/r\/c.sock -serial chardev:console/);
  assert.match(
    args,
    /-device virtio-serial-device -chardev socket,id=stdout,path=\/r\/o.sock -device virtconsole,chardev=stdout -chardev socket,id=stderr,path=\/r\/e.sock -device virtconsole,chardev=stderr/,
  );
  assert.match(args, /-device virtio-9p-device,fsdev=job,mount_tag=job/);
  assert.doesNotMatch(args, /mount_tag=host|path=\/,/);
});

Deno.test("deno task bench: leading VM axes go to the runner, the rest to dmabuf bench", async () => {
  const { splitVmAxes } = await import("../bench/run_vm_bench.ts");
  assert.deepEqual(splitVmAxes(["--kernel", "6.12", "--arch=arm64", "--iterations", "5"]), {
    vm: ["--kernel", "6.12", "--arch=arm64"],
    bench: ["--iterations", "5"],
  });
  assert.deepEqual(splitVmAxes(["--heap", "system"]), { vm: [], bench: ["--heap", "system"] });
});
