/**
 * Which of this process's fds `--fd N` may name. A shell hands fds over across exec, so an inherited fd has
 * no close-on-exec flag (one with it would have been closed by the exec); the runtime's own fds (its epoll,
 * eventfds, caches) all have it. The real entry (`cli/main.ts`) asks for inherited fds only, so `map --fd 3`
 * in a shell that has no fd 3 says so instead of describing the runtime's epoll. A run in the same process
 * (the tests) takes any open fd: the caller's own fds are the ones it hands over.
 *
 * FFI-free, so the entry can set it without loading ffi/; the check is `commands/handed_fd.ts`.
 * @module
 */

let inheritedOnly = false;

/** Makes `--fd N` accept only fds this process inherited (the real entry calls this once, at start). */
export function requireInheritedFds(): void {
  inheritedOnly = true;
}

/** Whether `--fd N` must be an inherited fd. */
export function inheritedFdsRequired(): boolean {
  return inheritedOnly;
}
