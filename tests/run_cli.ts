/**
 * Runs the CLI for tests: in-process through `main()` with captured streams (cheap: no Deno start-up), or as a
 * real subprocess through `cli/dmabuf` where process boundaries are the point (exit codes of the real entry,
 * fd inheritance, signals).
 * @module
 */

import { fileURLToPath } from "node:url";
import { main } from "../cli/main.ts";
import type { Io } from "../commands/toolkit/output.ts";

/** What a CLI run produced. */
export interface CliResult {
  /** Exit status. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Options of {@link runCli} and {@link spawnCli}. */
export interface RunOptions {
  /** Extra environment (in-process: visible to the CLI's env lookups only). */
  env?: Record<string, string>;
  /** Pretend stdout is a terminal (in-process only). */
  terminal?: boolean;
}

/** Runs `dmabuf <args>` in this process with captured stdout and stderr. */
export async function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { isTerminal: options.terminal ?? false, write: (text) => void (stdout += text) },
    stderr: { isTerminal: false, write: (text) => void (stderr += text) },
    env: (name) => options.env?.[name] ?? Deno.env.get(name),
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** The path of the CLI's shell entry (`cli/dmabuf`). */
export const CLI_PATH = fileURLToPath(new URL("../cli/dmabuf", import.meta.url));

/** Runs `cli/dmabuf <args>` as a subprocess and collects its output. */
export async function spawnCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const command = new Deno.Command(CLI_PATH, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: options.env ?? {},
  });
  const { code, stdout, stderr } = await command.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}
