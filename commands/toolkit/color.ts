/**
 * The colour decision (`--color`, `NO_COLOR`, a terminal) and the ANSI styles every coloured text uses.
 * @module
 */

import type { Stream } from "./streams.ts";

/** `--color` values. */
export type ColorMode = "auto" | "always" | "never";

/** The colour decision: `always`/`never` as said; `auto` means a terminal and no `NO_COLOR` (any value). */
export function useColor(
  mode: ColorMode,
  stream: Stream,
  env: (name: string) => string | undefined,
): boolean {
  if (mode === "always") return true;
  if (mode === "never") return false;
  const noColor = env("NO_COLOR");
  return stream.isTerminal && (noColor === undefined || noColor === "") && env("TERM") !== "dumb";
}

/** The SGR codes of the styles used. */
const ANSI = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;

/** A text style. */
export type Style = keyof typeof ANSI;

/** `text` in `styles` when `color` is on (decided by {@link useColor}), else `text` as it is. */
export function paint(color: boolean, text: string, ...styles: readonly Style[]): string {
  if (!color || styles.length === 0) return text;
  return `\x1b[${styles.map((style) => ANSI[style]).join(";")}m${text}\x1b[0m`;
}
