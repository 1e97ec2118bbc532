/**
 * Whether gcc is on PATH: the tests that compile C (the bench reference, the struct layouts against kernel
 * headers) are ignored with that reason without it.
 * @module
 */

/** Whether `gcc --version` runs. */
export function hasGcc(): boolean {
  try {
    return new Deno.Command("gcc", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}
