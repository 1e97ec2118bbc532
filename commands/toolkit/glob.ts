/**
 * Globs of buffer names (`stat --name`): `*`, `?` and `[...]` (`[!...]` negates), matched against the whole
 * name, `/` included (a buffer name is not a path). A glob is user input, so one the matcher cannot take is a
 * usage error that names it, found when the command line is parsed.
 * @module
 */

import { UsageError } from "./errors.ts";

/**
 * A glob as an anchored regular expression.
 * @throws {UsageError} naming the glob when it makes no valid expression (e.g. the reversed range `[z-a]`)
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") source += "[^]*";
    else if (c === "?") source += "[^]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close === -1) source += "\\[";
      else {
        const body = glob.slice(i + 1, close);
        source += `[${body.startsWith("!") ? "^" + body.slice(1) : body}]`;
        i = close;
      }
    } else source += c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  }
  try {
    return new RegExp(`^${source}$`);
  } catch (error) {
    // The message names the glob, not the expression made of it: "[z-a]: Range out of order in character class".
    const why = error instanceof SyntaxError ? error.message.replace(/^.*: /, "") : String(error);
    throw new UsageError(`Invalid name pattern "${glob}": ${why.toLowerCase()}`, { cause: error });
  }
}

/** Parses `--name GLOB`: the glob itself, once it is known to make a valid matcher. @throws {UsageError} */
export function parseGlob(input: string): string {
  globToRegExp(input);
  return input;
}
