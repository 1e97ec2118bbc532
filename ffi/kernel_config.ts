/**
 * The running kernel's configuration, where the kernel or the distribution makes it readable:
 * `/proc/config.gz` (`CONFIG_IKCONFIG_PROC`, gzip-compressed) or `/boot/config-<release>` (installed with the
 * kernel by most distributions).
 * @module
 */

import { SyscallError } from "./errno.ts";
import { parseKernelConfig } from "./text/kconfig.ts";

/** The kernel's own copy of its configuration (`kernel/configs.c`). */
export const PROC_CONFIG_GZ = "/proc/config.gz";

/** Where distributions install a kernel's configuration. */
export function bootConfigPath(release: string): string {
  return `/boot/config-${release}`;
}

/** A configuration that was read, and from where. */
export interface ConfigSource {
  /** The file it came from. */
  path: string;
  /** Each option's value by name (see {@link parseKernelConfig}). */
  options: Map<string, string>;
}

/** One place the configuration was looked for and why it could not be read there. */
export interface ConfigAttempt {
  /** The path tried. */
  path: string;
  /** The errno name (`ENOENT`, `EACCES`) or what went wrong (`not gzip data`). */
  error: string;
}

/** What {@link readKernelConfig} found: the configuration, or null, and every failed attempt before it. */
export interface ConfigLookup {
  /** The configuration, or null when no place had it. */
  config: ConfigSource | null;
  /** The places tried before (or instead of) the one that worked. */
  tried: ConfigAttempt[];
}

function errorName(error: unknown): string {
  if (error instanceof SyscallError) return error.code;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.message : String(error);
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

/** Options of {@link readKernelConfig}. */
export interface ConfigPaths {
  /** The gzip-compressed configuration; default {@link PROC_CONFIG_GZ}. */
  procConfig?: string;
  /** The plain-text configuration; default {@link bootConfigPath} of the running release. */
  bootConfig?: string;
}

/**
 * Reads the running kernel's configuration from `/proc/config.gz`, else `/boot/config-$(uname -r)`. Never
 * throws: what could not be read is in `tried`.
 */
export async function readKernelConfig(paths: ConfigPaths = {}): Promise<ConfigLookup> {
  const tried: ConfigAttempt[] = [];
  const procConfig = paths.procConfig ?? PROC_CONFIG_GZ;
  try {
    const text = await gunzip(Deno.readFileSync(procConfig));
    return { config: { path: procConfig, options: parseKernelConfig(text) }, tried };
  } catch (error) {
    tried.push({ path: procConfig, error: errorName(error) });
  }
  const bootConfig = paths.bootConfig ?? bootConfigPath(Deno.osRelease());
  try {
    return {
      config: { path: bootConfig, options: parseKernelConfig(Deno.readTextFileSync(bootConfig)) },
      tried,
    };
  } catch (error) {
    tried.push({ path: bootConfig, error: errorName(error) });
  }
  return { config: null, tried };
}
