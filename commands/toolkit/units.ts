/**
 * Numbers for people: byte counts in binary units and durations.
 * @module
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** A byte count for people: `512 B`, `4 KiB`, `1.5 MiB` (binary units, at most one decimal). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  let text: string;
  if (unit === 0 || Number.isInteger(value)) text = String(value);
  else {
    text = value.toFixed(1);
    if (text.endsWith(".0")) text = text.slice(0, -2);
  }
  return `${text} ${UNITS[unit]}`;
}

/** A duration in milliseconds for people: `850 us`, `12.3 ms`, `2.50 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} us`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
