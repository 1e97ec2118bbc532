/**
 * The one fd counter of the tests, for checks that nothing leaked.
 * @module
 */

/** How many fds this process has open (/proc/self/fd). */
export function openFdCount(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}
