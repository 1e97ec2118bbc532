/**
 * Parser of `/proc/meminfo` lines such as `CmaTotal:          65536 kB`.
 * @module
 */

/** The fields of /proc/meminfo in bytes, by their names (`MemAvailable`, `CmaTotal`, `CmaFree`, ...). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (match === null) continue;
    const value = Number(match[2]);
    out.set(match[1]!, line.trimEnd().endsWith("kB") ? value * 1024 : value);
  }
  return out;
}
