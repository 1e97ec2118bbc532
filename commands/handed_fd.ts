/**
 * The one check of an fd the user names with `--fd N` (without `--pid`): open in this process and, when run
 * from a shell, inherited from it (see `toolkit/fd_origin.ts`). Used by every command that takes one.
 * @module
 */

import { CliError } from "./toolkit/errors.ts";
import { inheritedFdsRequired } from "./toolkit/fd_origin.ts";
import { Fcntl, fdFlags } from "../ffi/fd.ts";

/** What a user does to hand a dma-buf or sync_file fd over. */
const HAND_OVER_HINT = "an fd must be inherited (e.g. from alloc/fence --exec, or a shell redirection such " +
  "as 3<&5), or give --pid";

/**
 * Checks that `fd` is one the caller handed over.
 * @throws {CliError} `fd N is not open in this process`, or `fd N was not inherited (it is not open in the
 * calling shell)` for one of the runtime's own
 */
export function checkHandedFd(fd: number): void {
  const flags = fdFlags(fd);
  if (flags === null) throw new CliError(`fd ${fd} is not open in this process`, { hint: HAND_OVER_HINT });
  if (inheritedFdsRequired() && (flags & Fcntl.FD_CLOEXEC) !== 0) {
    throw new CliError(`fd ${fd} was not inherited (it is not open in the calling shell)`, {
      hint: HAND_OVER_HINT,
    });
  }
}
