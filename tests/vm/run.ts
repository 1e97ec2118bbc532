/**
 * Runs one command in the dmabuf test VM: a kernel with dma-heaps, udmabuf, sw_sync and vgem, booted by
 * qemu. Two kinds of guest:
 *
 * - x86_64 (the default; Linux 5.10, 6.1, 6.12 or 7.2): the host's root filesystem is shared read-only over 9p, so the
 *   checkout, Deno and node_modules are there — a dev machine with a real kernel.
 * - arm64 (Linux 6.12, 4 KiB or 16 KiB pages; `qemu-system-aarch64 -M virt -cpu max`, always emulated):
 *   a board. Its root is an initramfs of busybox, arm64 glibc and the unpacked arm64 dmabuf bundle
 *   (board_root.sh, board_init.sh), rebuilt from the source on every run (`deno task dist`, cached by
 *   content); `dmabuf` is on PATH, and nothing of the host is visible but the per-run job share.
 *
 * ```sh
 * deno task vm -- ls /dev/dma_heap
 * deno task vm --user 65534 -- id
 * deno task vm --kernel 6.12 -- uname -r
 * deno task vm --kernel 5.10 -- dmabuf smoke
 * deno task vm --arch arm64 --page-size 16k -- dmabuf smoke --format tap
 * deno task test:vm --kernel 6.12
 * ```
 *
 * The command's stdout and stderr arrive on this process's stdout and stderr as the guest writes them, and
 * its exit status becomes ours. Failures of the VM itself print one line on stderr and exit 1 (timeout: 124,
 * usage errors: 2, SIGINT/SIGTERM: 130/143). In the guest the command runs in the checkout (same absolute
 * path as on the host) with PATH = <checkout>/cli:<checkout>/node_modules/.bin:<system dirs>, HOME, DENO_DIR
 * and TMPDIR on a tmpfs at /tmp, DENO_NO_UPDATE_CHECK=1, DMABUF_IN_VM=1, DMABUF_VM_SELFTESTS and, with
 * --require-hw, DMABUF_REQUIRE_HW=1. See init.sh for the guest side. On the arm64 board it runs in /root
 * with PATH = <bundle>/bin:/bin, HOME=/root and TMPDIR=/tmp (board_init.sh).
 *
 * How output and status cross the VM boundary: the kernel console and the command's stdout and stderr are
 * three qemu character devices connected to Unix sockets this process listens on (x86_64: the 8250 UARTs
 * ttyS0..2; arm64: the PL011 UART ttyAMA0 and two virtio consoles hvc0/hvc1 over virtio-mmio). The exit
 * status is written to a per-run directory shared over virtio 9p (job.sh in, "started" and "status" out).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

const usage = `Usage: deno task vm [OPTIONS] -- COMMAND [ARGS...]

Boots the test VM kernel (built and cached on first use) and runs COMMAND in the checkout, as root.
With --arch arm64 the guest is a board: COMMAND runs in /root with the arm64 dmabuf bundle on PATH.

Options:
  --kernel VERSION    guest kernel: 5.10, 6.1, 6.12 or 7.2 (default: 6.1 on x86_64; arm64 runs 6.12 only)
  --arch ARCH         guest architecture: x86_64 or arm64 (default x86_64; arm64 is emulated)
  --page-size SIZE    arm64 page size: 4k or 16k (default 4k)
  --file PATH         copy PATH to the per-run job share, where the guest sees it as /job/NAME (repeatable)
  --user [UID[:GID]]  run the command unprivileged (default 65534:65534; GID defaults to UID)
  --append ARGS       extra kernel command line arguments
  --timeout DURATION  kill the VM after DURATION, exit 124 (default 20m; e.g. 90s, 5m, 1h)
  --require-hw        set DMABUF_REQUIRE_HW=1 in the guest: tests fail instead of skipping missing hardware
  --memory SIZE       guest memory for qemu -m (default 4G)
  --accel MODE        kvm, tcg or auto (default: kvm if /dev/kvm is usable and has not stalled a boot here)
  --build-only        build the kernel and initramfs, print their paths, do not boot
  -h, --help          show this help`;

/** Exit status for a VM failure (build, boot, lost status) and for usage errors. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** Exit status on timeout, as timeout(1) uses. */
const EXIT_TIMEOUT = 124;
/** Exit status base for death by signal, as shells report it (128 + signal number). */
const EXIT_SIGNAL_BASE = 128;
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

const DEFAULT_TIMEOUT = "20m";
/**
 * Guest memory: 4G leaves room for the 2 GiB of huge pages the 6.12 udmabuf selftest reserves (TCG
 * allocates guest memory lazily, so an unused part costs the host nothing).
 */
const DEFAULT_MEMORY = "4G";
const DEFAULT_UNPRIVILEGED_ID = 65534;
const CPUS = 2;
/** Must match CONFIG_CMA_SIZE_MBYTES in kernel.config: the CMA heap ("reserved") is carved from it. */
const KERNEL_CMDLINE = "panic=-1 cma=64M quiet";
/** The kernel console of each guest architecture. */
const CONSOLE: Record<Arch, string> = { x86_64: "ttyS0", arm64: "ttyAMA0" };
const QEMU: Record<Arch, string> = { x86_64: "qemu-system-x86_64", arm64: "qemu-system-aarch64" };
const KERNELS = ["5.10", "6.1", "6.12", "7.2"] as const;
const ARCHES = ["x86_64", "arm64"] as const;
const PAGE_SIZES = ["4k", "16k"] as const;
/** Console lines kept to explain a failed boot. */
const CONSOLE_TAIL_LINES = 30;
/** Bytes of qemu's own output kept to explain a failed start. */
const QEMU_OUTPUT_LIMIT = 16 * 1024;
/** Prefix of the lines init.sh writes on the console. */
const CONSOLE_MARKER = "@@dmabuf-vm@@";
const CONSOLE_INIT = `${CONSOLE_MARKER} init started`;
const CONSOLE_STARTED = `${CONSOLE_MARKER} command started`;
/**
 * How long a KVM boot may go without init's first console line: under some nested hypervisors /dev/kvm
 * opens fine but the guest kernel never runs. Then KVM is recorded as unusable and the boot redone with TCG.
 */
const KVM_STALL_MS = 30_000;
/**
 * Present when the host's KVM is PVM (pagetable-based virtual machine, for nested guests without hardware
 * virtualisation): it runs only guest kernels built for PVM, which Debian's linux-source is not, so the boot
 * would stall.
 */
const PVM_MODULE = "/sys/module/kvm_pvm";
/** File in the kernel's cache directory recording a KVM stall, holding the host kernel release it saw. */
const KVM_UNUSABLE_FILE = "kvm-unusable";
const READ_CHUNK_BYTES = 64 * 1024;
/** Files the guest writes to the job share, and all the runner's own names there. */
const JOB_OUTPUTS = ["started", "status", "init-error"];
const JOB_FILES = ["job.sh", ...JOB_OUTPUTS];
/** Carriage returns and the escape sequences SeaBIOS writes to the console (ESC c, ESC [ ... letter). */
// deno-lint-ignore no-control-regex
const TERMINAL_CONTROL = /\r|\x1b\[[0-9;?]*[A-Za-z]|\x1b[A-Za-z]/g;

const checkoutUrl = new URL("../../", import.meta.url);
const buildScript = fileURLToPath(new URL("build_kernel.sh", import.meta.url));
const boardRootScript = fileURLToPath(new URL("board_root.sh", import.meta.url));
const distScript = fileURLToPath(new URL("../../cli/dist/build.ts", import.meta.url));
const selftestsScript = fileURLToPath(new URL("selftests.sh", import.meta.url));

/** A guest kernel version. */
export type KernelVersion = typeof KERNELS[number];
/** A guest architecture. */
export type Arch = typeof ARCHES[number];
/** A guest page size (16k exists on arm64 only). */
export type PageSize = typeof PAGE_SIZES[number];

/** Options of one run, parsed from the arguments before `--`. */
export interface VmOptions {
  kernel: KernelVersion;
  arch: Arch;
  pageSize: PageSize;
  /** Host files copied to the job share (the guest's /job). */
  files: string[];
  /** `uid:gid` to run the command as, or undefined for root. */
  user?: string;
  /** Extra kernel command line arguments. */
  append: string;
  /** Milliseconds before the VM is declared hung. */
  timeoutMs: number;
  requireHw: boolean;
  /** Guest memory, as qemu's -m takes it. */
  memory: string;
  /** The accelerator asked for; "auto" picks one. */
  accel: "auto" | Accel;
  buildOnly: boolean;
  help: boolean;
  /** The command to run in the guest. */
  command: string[];
}

/** A qemu accelerator. */
export type Accel = "kvm" | "tcg";

/** What build_kernel.sh (and, for the arm64 board, board_root.sh) produced. */
export interface VmImages {
  arch: Arch;
  kernel: string;
  initramfs: string;
  /** The kernel's cache directory. */
  cache: string;
  /** Directory of the kernel's own selftests built by selftests.sh, if that worked. */
  selftests?: string;
}

/** An error that ends the run with a one-line message and an exit status. */
export class VmError extends Error {
  /**
   * @param message one line for stderr
   * @param exitCode the status to exit with
   * @param detail lines printed indented after the message (console or qemu output)
   */
  constructor(message: string, readonly exitCode: number = EXIT_FAILURE, readonly detail: string[] = []) {
    super(message);
    this.name = "VmError";
  }
}

const encoder = new TextEncoder();

/** Where guest output goes: Deno.stdout and Deno.stderr. */
interface Writer {
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes all bytes to a writer (short writes happen on pipes). */
async function writeAll(writer: Writer, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await writer.write(bytes.subarray(done));
}

/** Prints one line to stderr, prefixed so it is told apart from the guest's own output. */
function note(message: string): void {
  Deno.stderr.writeSync(encoder.encode(`vm: ${message}\n`));
}

/** Parses a duration such as `90s`, `20m`, `1h`, `500ms` or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  const unit = unitMs[match?.[2] ?? "s"];
  if (!match || unit === undefined) {
    throw new VmError(`Invalid duration "${text}": expected e.g. 90s, 20m, 1h`, EXIT_USAGE);
  }
  return Number(match[1]) * unit;
}

/** Parses `UID[:GID]` into `uid:gid` (GID defaults to UID). */
export function parseUser(text: string): string {
  const match = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!match) throw new VmError(`Invalid user "${text}": expected UID or UID:GID`, EXIT_USAGE);
  return `${match[1]}:${match[2] ?? match[1]}`;
}

/** Parses run.ts's arguments: options, then the command after `--` (or from the first non-option). */
export function parseOptions(args: string[]): VmOptions {
  let kernel: KernelVersion | undefined;
  const options: VmOptions = {
    kernel: "6.1",
    arch: "x86_64",
    pageSize: "4k",
    files: [],
    append: "",
    timeoutMs: parseDuration(DEFAULT_TIMEOUT),
    requireHw: false,
    memory: DEFAULT_MEMORY,
    accel: "auto",
    buildOnly: false,
    help: false,
    command: [],
  };
  let i = 0;
  const value = (name: string): string => {
    const next = args[++i];
    if (next === undefined) throw new VmError(`Option ${name} needs a value`, EXIT_USAGE);
    return next;
  };
  for (; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (arg === "--") {
      i++;
      break;
    } else if (name === "--user") {
      const next = inline ?? args[i + 1];
      const explicit = inline !== undefined || (next !== undefined && /^\d/.test(next));
      if (explicit && inline === undefined) i++;
      options.user = parseUser(explicit ? next! : String(DEFAULT_UNPRIVILEGED_ID));
    } else if (name === "--kernel") {
      kernel = oneOf(name, inline ?? value(name), KERNELS);
    } else if (name === "--arch") {
      options.arch = oneOf(name, inline ?? value(name), ARCHES);
    } else if (name === "--page-size") {
      options.pageSize = oneOf(name, inline ?? value(name), PAGE_SIZES);
    } else if (name === "--file") {
      options.files.push(inline ?? value(name));
    } else if (name === "--append") {
      options.append = inline ?? value(name);
    } else if (name === "--timeout") {
      options.timeoutMs = parseDuration(inline ?? value(name));
    } else if (name === "--memory") {
      options.memory = inline ?? value(name);
      if (!/^\d+[MG]?$/.test(options.memory)) {
        throw new VmError(`Invalid memory size "${options.memory}": expected e.g. 2G or 1536M`, EXIT_USAGE);
      }
    } else if (name === "--accel") {
      const accel = inline ?? value(name);
      if (accel !== "auto" && accel !== "kvm" && accel !== "tcg") {
        throw new VmError(`Invalid accelerator "${accel}": expected kvm, tcg or auto`, EXIT_USAGE);
      }
      options.accel = accel;
    } else if (arg === "--require-hw") {
      options.requireHw = true;
    } else if (arg === "--build-only") {
      options.buildOnly = true;
    } else if (arg === "-h" || arg === "--help") {
      options.help = true;
    } else if (arg.startsWith("-")) {
      throw new VmError(`Unknown option "${arg}": see --help`, EXIT_USAGE);
    } else {
      break;
    }
  }
  options.command = args.slice(i);
  if (options.arch === "x86_64" && options.pageSize !== "4k") {
    throw new VmError(
      `Page size ${options.pageSize} does not exist on x86_64: only 4k (use --arch arm64)`,
      EXIT_USAGE,
    );
  }
  if (options.arch === "arm64" && kernel !== undefined && kernel !== "6.12") {
    throw new VmError(`The arm64 board runs Linux 6.12 only: drop --kernel ${kernel}`, EXIT_USAGE);
  }
  options.kernel = kernel ?? (options.arch === "arm64" ? "6.12" : "6.1");
  return options;
}

/** Checks a value against a fixed list, as a usage error naming the choices. */
function oneOf<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new VmError(`Invalid ${option} "${value}": expected ${choices.join(" or ")}`, EXIT_USAGE);
  }
  return value as T;
}

/** Quotes a string for POSIX sh so that it round-trips exactly. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The job.sh that init.sh sources: the checkout, who runs, the selftests directory, and the command. */
export function jobScript(checkout: string, options: VmOptions & { selftests?: string | undefined }): string {
  return [
    `DMABUF_VM_CHECKOUT=${shellQuote(checkout)}`,
    `DMABUF_VM_SELFTESTS=${shellQuote(options.selftests ?? "")}`,
    `DMABUF_VM_USER=${shellQuote(options.user ?? "")}`,
    `DMABUF_VM_REQUIRE_HW=${options.requireHw ? "1" : "''"}`,
    `set -- ${options.command.map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
}

/** Runs a build script (stderr shown) and returns its KEY=VALUE stdout lines, or undefined if it failed. */
export async function runBuildScript(args: string[]): Promise<Map<string, string> | undefined> {
  const result = await new Deno.Command("bash", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!result.success) return undefined;
  const values = new Map<string, string>();
  for (const line of new TextDecoder().decode(result.stdout).split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return values;
}

/**
 * Builds (or finds in the cache) the kernel through build_kernel.sh; then, for x86_64, its initramfs and the
 * kernel's selftests, and for the arm64 board, the arm64 bundle (`deno task dist`) and the board's root.
 */
async function ensureImages(options: VmOptions): Promise<VmImages> {
  const paths = await runBuildScript([
    buildScript,
    ...["--kernel", options.kernel, "--arch", options.arch, "--page-size", options.pageSize],
  ]);
  if (!paths) throw new VmError("Kernel build failed: see the messages above");
  const kernel = paths.get("kernel");
  const cache = paths.get("cache");
  if (!kernel || !cache) throw new VmError("Kernel build failed: build_kernel.sh printed no image paths");
  if (options.arch === "arm64") {
    return { arch: options.arch, kernel, cache, initramfs: await ensureBoardRoot() };
  }
  const initramfs = paths.get("initramfs");
  if (!initramfs) throw new VmError("Kernel build failed: build_kernel.sh printed no initramfs path");
  // The selftests are a baseline, not a precondition: without them only selftests_test.ts fails.
  const selftests = (await runBuildScript([selftestsScript, cache]))?.get("selftests");
  if (!selftests) note("selftests not built: tests/kernel/selftests_test.ts will not find them");
  return { arch: options.arch, kernel, initramfs, cache, ...(selftests ? { selftests } : {}) };
}

/** Builds the bundle of `arch` from the current source into `out` (`deno task dist`); returns the tarball. */
export async function buildBundle(arch: Arch, out: string): Promise<string> {
  const distArch = arch === "x86_64" ? "x64" : arch;
  const dist = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-prompt", distScript, "--arch", distArch, "--out", out],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const tarball = /^tarball=(.*)$/m.exec(new TextDecoder().decode(dist.stdout))?.[1];
  if (!dist.success || !tarball) {
    throw new VmError(`Cannot build the ${distArch} bundle: see the messages above`);
  }
  return tarball;
}

/** Builds the board root of `arch` holding `tarball` (board_root.sh); returns the root's path. */
export async function buildBoardRoot(arch: Arch, tarball: string): Promise<string> {
  const root = (await runBuildScript([boardRootScript, "--arch", arch, tarball]))?.get("initramfs");
  if (!root) throw new VmError(`Cannot build the ${arch} board root: see the messages above`);
  return root;
}

/** Builds the arm64 bundle from the current source and the board root holding it; returns the root's path. */
async function ensureBoardRoot(): Promise<string> {
  const out = await Deno.makeTempDir({ prefix: "dmabuf-vm-dist-" });
  try {
    return await buildBoardRoot("arm64", await buildBundle("arm64", out));
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
}

/** The host's architecture as the guest architectures are named. */
const HOST_ARCH: Arch | undefined = Deno.build.arch === "aarch64" ? "arm64" : Deno.build.arch;

/** Picks the accelerator: KVM when /dev/kvm opens read-write and no KVM stall was recorded for this host. */
function chooseAccel(images: VmImages, asked: VmOptions["accel"]): { accel: Accel; why: string } {
  if (images.arch !== HOST_ARCH) {
    if (asked === "kvm") throw new VmError(`KVM cannot run an ${images.arch} guest on this host`, EXIT_USAGE);
    return { accel: "tcg", why: `an ${images.arch} guest is emulated on this ${Deno.build.arch} host` };
  }
  if (asked !== "auto") return { accel: asked, why: "as asked" };
  try {
    Deno.openSync("/dev/kvm", { read: true, write: true }).close();
  } catch {
    return { accel: "tcg", why: "no read-write access to /dev/kvm; Deno starts slowly" };
  }
  if (isDirectory(PVM_MODULE)) {
    return { accel: "tcg", why: `host KVM is PVM (${PVM_MODULE}), which runs only PVM-built guest kernels` };
  }
  const verdict = `${images.cache}/${KVM_UNUSABLE_FILE}`;
  try {
    if (Deno.readTextFileSync(verdict).trim() === Deno.osRelease()) {
      return { accel: "tcg", why: `KVM stalled a boot here before; rm ${verdict} to retry` };
    }
  } catch {
    // No verdict: KVM was never seen to stall here.
  }
  return { accel: "kvm", why: "/dev/kvm is usable" };
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Records that KVM stalled a boot, so later runs on this host kernel go straight to TCG. */
function recordKvmStall(images: VmImages): void {
  Deno.writeTextFileSync(`${images.cache}/${KVM_UNUSABLE_FILE}`, `${Deno.osRelease()}\n`);
}

const KHZ_PER_MHZ = 1000;

/** The host's TSC rate in kHz from /proc/cpuinfo (`cpu MHz`, the TSC rate on x86 hosts), or null. */
export function hostTscKhz(cpuinfo: string): number | null {
  const match = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(cpuinfo);
  return match === null ? null : Math.round(Number(match[1]) * KHZ_PER_MHZ);
}

/**
 * Kernel arguments that give a TCG guest a usable clock. Under TCG the guest cannot calibrate its TSC and
 * falls back to refined-jiffies, a 4 ms clock that makes every latency 0 or 4 ms and timeouts coarse; TCG's
 * TSC runs at the host's rate, so the guest is told that rate and to trust it. `no_timer_check`: the boot-time
 * check that the 8254 timer reaches the IO-APIC counts ticks over a busy-wait, which an emulated CPU on a
 * loaded host can miss — 7.2 then panics ("IO-APIC + timer doesn't work!", seen here with two other VMs and a
 * kernel build sharing the two cores).
 */
export function tcgClockArgs(cpuinfo: string): string {
  const khz = hostTscKhz(cpuinfo);
  return khz === null ? "no_timer_check" : `tsc_early_khz=${khz} tsc=reliable clocksource=tsc no_timer_check`;
}

function readCpuinfo(): string {
  try {
    return Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    return "";
  }
}

/** qemu's -accel arguments. */
function accelArgs(accel: Accel): string[] {
  return accel === "kvm" ? ["-accel", "kvm"] : ["-accel", "tcg,thread=multi"];
}

/** Host-side paths of one run: the job share and the sockets qemu connects the serial ports to. */
export interface RunDir {
  root: string;
  job: string;
  console: string;
  stdout: string;
  stderr: string;
}

async function makeRunDir(): Promise<RunDir> {
  const root = await Deno.makeTempDir({ prefix: "dmabuf-vm-" });
  const job = `${root}/job`;
  await Deno.mkdir(job);
  return {
    root,
    job,
    console: `${root}/console.sock`,
    stdout: `${root}/stdout.sock`,
    stderr: `${root}/stderr.sock`,
  };
}

/**
 * The kernel command line: the console, the fixed part, a usable clock under TCG (x86_64; arm64's generic
 * timer needs no help), then the user's `--append`.
 */
function kernelCmdline(options: VmOptions & { accel: Accel }): string {
  const clock = options.accel === "tcg" && options.arch === "x86_64" ? tcgClockArgs(readCpuinfo()) : "";
  return [`console=${CONSOLE[options.arch]}`, KERNEL_CMDLINE, clock, options.append]
    .filter((part) => part !== "").join(" ");
}

/**
 * qemu's arguments. x86_64: serial ports ttyS0..2 to the run's sockets, the host root and the job share over
 * virtio-9p-pci. arm64 (`virt` board): the PL011 UART to the console socket, two virtio consoles (hvc0, hvc1)
 * to the stdout and stderr sockets, and the job share over virtio-9p on virtio-mmio; no host root.
 */
export function qemuArgs(images: VmImages, dir: RunDir, options: VmOptions & { accel: Accel }): string[] {
  const chardev = (id: string, path: string) => ["-chardev", `socket,id=${id},path=${path}`];
  const serial = (id: string, path: string) => [...chardev(id, path), "-serial", `chardev:${id}`];
  if (images.arch === "arm64") {
    const virtconsole = (
      id: string,
      path: string,
    ) => [...chardev(id, path), "-device", `virtconsole,chardev=${id}`];
    return [
      ...["-M", "virt", "-cpu", options.accel === "kvm" ? "host" : "max,pauth-impdef=on"],
      ...accelArgs(options.accel),
      ...["-m", options.memory, "-smp", String(CPUS), "-nographic", "-nodefaults", "-no-reboot"],
      ...["-kernel", images.kernel, "-initrd", images.initramfs],
      ...["-append", kernelCmdline(options)],
      ...serial("console", dir.console),
      ...["-device", "virtio-serial-device"],
      ...virtconsole("stdout", dir.stdout),
      ...virtconsole("stderr", dir.stderr),
      ...["-fsdev", `local,id=job,path=${dir.job},security_model=none`],
      ...["-device", "virtio-9p-device,fsdev=job,mount_tag=job"],
    ];
  }
  return [
    ...accelArgs(options.accel),
    ...["-m", options.memory, "-smp", String(CPUS), "-nographic", "-nodefaults", "-no-reboot"],
    ...["-kernel", images.kernel, "-initrd", images.initramfs],
    ...["-append", kernelCmdline(options)],
    ...serial("console", dir.console),
    ...serial("stdout", dir.stdout),
    ...serial("stderr", dir.stderr),
    ...["-virtfs", "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"],
    ...["-virtfs", `local,path=${dir.job},mount_tag=job,security_model=none`],
  ];
}

/** Keeps the last lines of the kernel console and forwards what the kernel says while the command runs. */
class ConsoleLog {
  #tail: string[] = [];
  #partial = "";
  #started = false;
  #finished = false;
  #initReached = Promise.withResolvers<void>();

  /** Resolves when init's first line appears: the guest kernel runs and reached userspace. */
  get initReached(): Promise<void> {
    return this.#initReached.promise;
  }

  /** Feeds console text; forwards complete lines seen after the command started (kernel warnings). */
  push(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const raw of lines) this.#line(raw.replace(TERMINAL_CONTROL, ""));
  }

  /** The last lines seen, for explaining a failed boot. */
  tail(): string[] {
    return this.#partial ? [...this.#tail, this.#partial] : [...this.#tail];
  }

  #line(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > CONSOLE_TAIL_LINES) this.#tail.shift();
    if (line.startsWith(CONSOLE_MARKER)) {
      if (line === CONSOLE_INIT) this.#initReached.resolve();
      if (line === CONSOLE_STARTED) this.#started = true;
      else if (this.#started) this.#finished = true;
      return;
    }
    if (this.#started && !this.#finished) note(`kernel: ${line}`);
  }
}

/** Copies a connection to a writer until EOF; once the writer fails (a closed pipe), drains and drops. */
async function pump(conn: Deno.Conn, writer: Writer): Promise<void> {
  const buffer = new Uint8Array(READ_CHUNK_BYTES);
  let writable = true;
  for (;;) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return;
    if (writable) writable = await writeAll(writer, buffer.subarray(0, n)).then(() => true, () => false);
  }
}

/** Copies the console connection into a ConsoleLog until EOF. */
async function pumpConsole(conn: Deno.Conn, log: ConsoleLog): Promise<void> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(READ_CHUNK_BYTES);
  for (;;) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    log.push(decoder.decode(buffer.subarray(0, n), { stream: true }));
  }
  log.push(decoder.decode());
}

/** Reads a small file of the job share, or undefined when the guest did not write it. */
async function readJobFile(dir: RunDir, name: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(`${dir.job}/${name}`)).trim();
  } catch {
    return undefined;
  }
}

/** Collects up to QEMU_OUTPUT_LIMIT bytes of a stream (qemu's own messages). */
async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    if (text.length < QEMU_OUTPUT_LIMIT) text += decoder.decode(chunk, { stream: true });
  }
  return text.slice(0, QEMU_OUTPUT_LIMIT);
}

/** A running VM: qemu, its socket listeners, and the promise of its exit. */
class Vm {
  #child: Deno.ChildProcess;
  #listeners: Deno.Listener[];
  readonly output: Promise<string>;
  readonly exited: Promise<Deno.CommandStatus>;

  constructor(child: Deno.ChildProcess, listeners: Deno.Listener[]) {
    this.#child = child;
    this.#listeners = listeners;
    const [out, err] = [collect(child.stdout), collect(child.stderr)];
    this.output = Promise.all([out, err]).then(([o, e]) => `${o}${e}`.trim());
    this.exited = child.status;
  }

  /** Kills qemu (if still running) and closes the listeners; safe to call more than once. */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    for (const listener of this.#listeners) {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    }
  }
}

/** Starts qemu connected to three listening sockets; returns once it connected all serial ports. */
async function startVm(
  images: VmImages,
  dir: RunDir,
  options: VmOptions & { accel: Accel },
): Promise<{ vm: Vm; conns: Deno.Conn[] }> {
  const paths = [dir.console, dir.stdout, dir.stderr];
  // A previous attempt (a KVM stall) leaves its socket files behind.
  for (const path of paths) await Deno.remove(path).catch(() => {});
  const listeners = paths.map((path) => Deno.listen({ transport: "unix", path }));
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(QEMU[images.arch], {
      args: qemuArgs(images, dir, options),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    listeners.forEach((listener) => listener.close());
    throw new VmError(`Qemu failed to start: ${(error as Error).message}`);
  }
  const vm = new Vm(child, listeners);
  activeVm = vm;
  const accepted = Promise.all(listeners.map((listener) => listener.accept()));
  const early = vm.exited.then(() => undefined);
  const conns = await Promise.race([accepted, early]).catch(() => undefined);
  if (!conns) {
    vm.kill();
    const output = (await vm.output).split("\n")[0] || "no output";
    throw new VmError(`Qemu failed to start: ${output}`);
  }
  return { vm, conns };
}

/** A promise resolving to `value` after `ms`, and a way to cancel it. */
function deadline<T>(ms: number, value: T): { promise: Promise<T>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(value), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Boots the VM once, streams the command's output, and returns its exit status or "stalled" (KVM). */
async function boot(
  images: VmImages,
  dir: RunDir,
  options: VmOptions & { accel: Accel },
): Promise<number | "stalled"> {
  for (const name of JOB_OUTPUTS) {
    await Deno.remove(`${dir.job}/${name}`).catch(() => {});
  }
  const { vm, conns } = await startVm(images, dir, options);
  const [consoleConn, stdoutConn, stderrConn] = conns as [Deno.Conn, Deno.Conn, Deno.Conn];
  const consoleLog = new ConsoleLog();
  const pumps = Promise.all([
    pumpConsole(consoleConn, consoleLog),
    pump(stdoutConn, Deno.stdout),
    pump(stderrConn, Deno.stderr),
  ]);
  const timeout = deadline(options.timeoutMs, "timeout" as const);
  const stall = deadline(KVM_STALL_MS, "stalled" as const);
  consoleLog.initReached.then(stall.cancel);
  const outcome = await Promise.race([
    vm.exited.then(() => "exited" as const),
    timeout.promise,
    ...(options.accel === "kvm" ? [stall.promise] : []),
  ]);
  timeout.cancel();
  stall.cancel();
  if (outcome !== "exited") {
    vm.kill();
    await pumps;
    if (outcome === "stalled") return outcome;
    throw new VmError(`VM hung: no result after ${options.timeoutMs / 1000} s, qemu killed`, EXIT_TIMEOUT);
  }
  await pumps;
  vm.kill();
  return await jobStatus(dir, consoleLog, { status: await vm.exited, output: await vm.output });
}

/** Boots the VM (falling back from a stalled KVM to TCG) and returns the command's exit status. */
async function runInVm(images: VmImages, dir: RunDir, options: VmOptions): Promise<number> {
  const checkout = await Deno.realPath(checkoutUrl);
  await Deno.writeTextFile(
    `${dir.job}/job.sh`,
    jobScript(checkout, { ...options, selftests: images.selftests }),
  );
  for (const file of options.files) {
    const name = file.slice(file.lastIndexOf("/") + 1);
    if (JOB_FILES.includes(name)) {
      throw new VmError(`--file ${file}: the name ${name} is the runner's own`, EXIT_USAGE);
    }
    await Deno.copyFile(file, `${dir.job}/${name}`).catch((error: Error) => {
      throw new VmError(`Cannot copy --file ${file} to the job share: ${error.message}`, EXIT_USAGE);
    });
  }
  const { accel, why } = chooseAccel(images, options.accel);
  note(`accelerator: ${accel} (${why})`);
  const result = await boot(images, dir, { ...options, accel });
  if (result !== "stalled") return result;
  recordKvmStall(images);
  note(
    `accelerator: tcg (KVM boot showed no sign of life in ${
      KVM_STALL_MS / 1000
    } s; remembered for this host)`,
  );
  const retry = await boot(images, dir, { ...options, accel: "tcg" });
  if (retry === "stalled") throw new VmError("VM hung: the TCG boot stalled too");
  return retry;
}

/** Reads the command's exit status from the job share, or explains why there is none. */
async function jobStatus(
  dir: RunDir,
  consoleLog: ConsoleLog,
  qemu: { status: Deno.CommandStatus; output: string },
): Promise<number> {
  const status = await readJobFile(dir, "status");
  if (status !== undefined && /^\d+$/.test(status)) return Number(status);
  const qemuOutput = qemu.output;
  if (!qemu.status.success) {
    // The guest ends by rebooting (exit 0 with -no-reboot): anything else is qemu's own failure.
    const how = qemu.status.signal ? `killed by ${qemu.status.signal}` : `exit status ${qemu.status.code}`;
    const lines = qemuOutput.split("\n");
    const detail = lines.length > 1 ? ["qemu output:", ...lines] : [];
    throw new VmError(`Qemu failed (${how}): ${lines.at(-1) || "no output"}`, EXIT_FAILURE, detail);
  }
  const tail = consoleLog.tail().filter((line) => line.trim() !== "");
  if (await readJobFile(dir, "started") === undefined) {
    const reason = await readJobFile(dir, "init-error");
    const detail = tail.length ? tail : qemuOutput.split("\n");
    throw new VmError(
      `VM booted but the command never started: ${reason ?? "see the console output below"}`,
      EXIT_FAILURE,
      ["last console lines:", ...detail],
    );
  }
  throw new VmError("VM exited without reporting the command's status", EXIT_FAILURE, [
    "last console lines:",
    ...tail,
  ]);
}

/** The VM of this run, killed on every way out. */
let activeVm: Vm | undefined;
let activeDir: RunDir | undefined;

function cleanUp(): void {
  activeVm?.kill();
  if (activeDir) {
    try {
      Deno.removeSync(activeDir.root, { recursive: true });
    } catch {
      // Already gone.
    }
    activeDir = undefined;
  }
}

/** On SIGINT/SIGTERM, kills qemu, removes the run directory and exits as a shell reports the signal. */
function handleSignals(): void {
  for (const [signal, number] of Object.entries(SIGNAL_NUMBERS)) {
    Deno.addSignalListener(signal as Deno.Signal, () => {
      note(`interrupted by ${signal}: VM killed`);
      cleanUp();
      Deno.exit(EXIT_SIGNAL_BASE + number);
    });
  }
}

/** Entry point: parses arguments, builds or finds the images, runs the command, returns the exit status. */
export async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (options.help) {
    Deno.stdout.writeSync(encoder.encode(`${usage}\n`));
    return 0;
  }
  if (!options.buildOnly && options.command.length === 0) {
    throw new VmError("No command given: deno task vm -- COMMAND [ARGS...]", EXIT_USAGE);
  }
  handleSignals();
  const images = await ensureImages(options);
  if (options.buildOnly) {
    const lines = `kernel=${images.kernel}\ninitramfs=${images.initramfs}\ncache=${images.cache}\n`;
    Deno.stdout.writeSync(encoder.encode(lines));
    return 0;
  }
  activeDir = await makeRunDir();
  try {
    return await runInVm(images, activeDir, options);
  } finally {
    cleanUp();
  }
}

/**
 * Runs a script's `main` and exits with its status. A {@link VmError} ends the script with one line
 * `<name>: <message>` on stderr (then its detail lines, indented) and the error's exit status; `cleanUp` runs
 * first. Other errors propagate (a bug shows its stack).
 */
export async function runMain(
  name: string,
  main: (args: string[]) => Promise<number>,
  cleanUp: () => void = () => {},
): Promise<never> {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    cleanUp();
    if (!(error instanceof VmError)) throw error;
    Deno.stderr.writeSync(encoder.encode(`${name}: ${error.message}\n`));
    for (const line of error.detail) Deno.stderr.writeSync(encoder.encode(`  ${line}\n`));
    code = error.exitCode;
  }
  Deno.exit(code);
}

if (import.meta.main) await runMain("vm", main, cleanUp);
