/**
 * `dmabuf info`: what one fd is (a dma-buf: size, inode, exporter, name, count, flags, mappings), or with
 * `--pid P` alone every dma-buf fd and mapping of that process. Read from `/proc/<pid>/fd`, `fdinfo` and
 * `maps`, so it changes nothing (no fd is duplicated, no reference taken).
 * @module
 */

import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { CliError } from "./toolkit/errors.ts";
import { formatBytes } from "./toolkit/units.ts";
import { SyscallError } from "../ffi/errno.ts";
import { OpenFlags, readLink, readProcSysFile, stat } from "../ffi/fd.ts";
import { type DmaBufFdRef, fdRefOf, type ProcessDmaBufs, scanProcess } from "../ffi/procfs.ts";
import { isDmaBufFdinfo, parseFdinfo } from "../ffi/text/fdinfo.ts";
import { DMABUF_PATH_PREFIX, type DmaBufMapping, parseDmaBufMaps } from "../ffi/text/maps.ts";
import { allocateBuffers, bufferSource } from "./buffer_select.ts";
import { explainPidError } from "./pid_errors.ts";
import { checkHandedFd } from "./handed_fd.ts";
import type { BufferSelectFlags } from "./toolkit/flags.ts";

/** Flags of `dmabuf info`. */
export interface InfoFlags extends CommonFlags, BufferSelectFlags {}

/** One dma-buf fd as `info` reports it. */
export interface FdInfo extends DmaBufFdRef {
  /** The process holding the fd. */
  pid: number;
  /** How many mappings of this buffer that process has (VMAs in /proc/<pid>/maps with its inode). */
  mappings: number;
}

/** `O_RDWR|O_NONBLOCK|O_CLOEXEC` for fdinfo flags. */
export function formatOpenFlags(flags: number, cloexec: boolean): string {
  const mode = flags & OpenFlags.O_ACCMODE;
  const names = [
    mode === OpenFlags.O_RDWR ? "O_RDWR" : mode === OpenFlags.O_WRONLY ? "O_WRONLY" : "O_RDONLY",
  ];
  if ((flags & OpenFlags.O_NONBLOCK) !== 0) names.push("O_NONBLOCK");
  if (cloexec) names.push("O_CLOEXEC");
  return names.join("|");
}

function whose(pid: number): string {
  return pid === Deno.pid ? "this process" : `pid ${pid}`;
}

/**
 * The dma-buf at fd `fd` of process `pid`, read from procfs.
 * @throws {CliError} fd not open, not a dma-buf (saying what it is), /proc not readable
 */
export function describeFdOf(pid: number, fd: number): FdInfo {
  const dir = `/proc/${pid}`;
  let target: string;
  try {
    target = readLink(`${dir}/fd/${fd}`);
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOENT")) {
      try {
        stat(dir);
      } catch {
        throw new CliError(`No process with pid ${pid}`, { cause: error });
      }
      throw new CliError(`fd ${fd} is not open in ${whose(pid)}`, { cause: error });
    }
    throw explainPidError(error, "procfs", { pid, fd });
  }
  const label = pid === Deno.pid ? `fd ${fd}` : `fd ${fd} of pid ${pid}`;
  if (!target.startsWith(DMABUF_PATH_PREFIX)) {
    throw new CliError(`${label} is not a dma-buf: it is ${target}`);
  }
  let info;
  let maps: DmaBufMapping[];
  try {
    info = parseFdinfo(readProcSysFile(`${dir}/fdinfo/${fd}`));
    maps = parseDmaBufMaps(readProcSysFile(`${dir}/maps`));
  } catch (error) {
    throw explainPidError(error, "procfs", { pid, fd });
  }
  if (!isDmaBufFdinfo(info)) throw new CliError(`${label} is not a dma-buf: its fdinfo has no exp_name`);
  const inode = info.ino ?? Number(stat(`${dir}/fd/${fd}`).ino);
  return { pid, ...fdRefOf(fd, info, inode), mappings: maps.filter((m) => m.inode === inode).length };
}

function printFd(out: ReturnType<DmabufContext["output"]>, info: FdInfo): void {
  const rows: [string, string][] = [
    ["fd", `${info.fd}${info.pid === Deno.pid ? "" : ` of pid ${info.pid}`}`],
    ["dma-buf", "yes"],
    ["inode", String(info.inode)],
    ["size", `${info.size} (${formatBytes(info.size)})`],
    ["exporter", info.exporter],
    ["name", info.name ?? "-"],
    ["count", String(info.count)],
    ["flags", formatOpenFlags(info.flags, info.cloexec)],
    ["mappings", String(info.mappings)],
  ];
  for (const [key, value] of rows) out.line(`${`${key}:`.padEnd(10)}${value}`);
}

function printProcess(out: ReturnType<DmabufContext["output"]>, found: ProcessDmaBufs): void {
  out.line(
    `pid ${found.pid}${found.comm === null ? "" : ` (${found.comm})`}: ` +
      `${found.fds.length} dma-buf fd(s), ${found.maps.length} mapping(s)`,
  );
  if (found.fds.length > 0) {
    out.line();
    out.table([
      { header: "FD", cell: (r: DmaBufFdRef) => String(r.fd), right: true },
      { header: "INODE", cell: (r) => String(r.inode), right: true },
      { header: "SIZE", cell: (r) => String(r.size), right: true },
      { header: "EXPORTER", cell: (r) => r.exporter },
      { header: "COUNT", cell: (r) => String(r.count), right: true },
      { header: "FLAGS", cell: (r) => formatOpenFlags(r.flags, r.cloexec) },
      { header: "NAME", cell: (r) => r.name ?? "-" },
    ], found.fds);
  }
  if (found.maps.length > 0) {
    out.line();
    out.table([
      { header: "ADDRESS", cell: (m: DmaBufMapping) => `${m.start.toString(16)}-${m.end.toString(16)}` },
      { header: "PERMS", cell: (m) => m.perms },
      { header: "OFFSET", cell: (m) => String(m.offset), right: true },
      { header: "LENGTH", cell: (m) => String(m.vmaSize), right: true },
      { header: "INODE", cell: (m) => String(m.inode), right: true },
      { header: "NAME", cell: (m) => m.name ?? "-" },
    ], found.maps);
  }
}

/** Describes one fd, or lists a process's dma-bufs. */
export function info(this: DmabufContext, flags: InfoFlags): void {
  const out = this.output(flags);
  if (
    flags.pid !== undefined && flags.fd === undefined && flags.heap === undefined && flags.size === undefined
  ) {
    let found: ProcessDmaBufs;
    try {
      found = scanProcess(flags.pid);
    } catch (error) {
      throw explainPidError(error, "procfs", { pid: flags.pid });
    }
    if (out.json) out.data(found);
    else printProcess(out, found);
    return;
  }
  const source = bufferSource(flags);
  let described: FdInfo;
  if (source.kind === "heap") {
    using set = allocateBuffers({ heap: source.heap, size: source.size });
    described = describeFdOf(Deno.pid, set.buffers[0]!.fd);
  } else {
    if (source.kind === "fd") checkHandedFd(source.fd);
    described = describeFdOf(source.kind === "pid" ? source.pid : Deno.pid, source.fd);
  }
  if (out.json) out.data(described);
  else printFd(out, described);
}
