/**
 * Parser of a kernel configuration as `make` writes it (`.config`, `/proc/config.gz` decompressed,
 * `/boot/config-<release>`): `CONFIG_NAME=value` lines and `# CONFIG_NAME is not set` comments.
 * @module
 */

/** A kernel configuration: each option's value by its `CONFIG_` name (`y`, `m`, `n`, a number or a string). */
export type KernelConfig = ReadonlyMap<string, string>;

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

/**
 * Parses a kernel configuration. Options written `# CONFIG_X is not set` get the value `n` (the option exists
 * in this kernel but is off); quoted strings are unquoted (`CONFIG_LOCALVERSION="-rt"` → `-rt`).
 */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    const set = SET.exec(line);
    if (set !== null) {
      const value = set[2]!;
      out.set(set[1]!, /^".*"$/.test(value) ? value.slice(1, -1).replace(/\\(["\\])/g, "$1") : value);
      continue;
    }
    const off = NOT_SET.exec(line);
    if (off !== null) out.set(off[1]!, "n");
  }
  return out;
}

/** Whether `option` is built in or a module (`y` or `m`) in `config`. */
export function isEnabled(config: KernelConfig, option: string): boolean {
  const value = config.get(option);
  return value === "y" || value === "m";
}
