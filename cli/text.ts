/**
 * stricli's texts with the error messages made one line each (`dmabuf: <message>`), with a suggestion where
 * one is close.
 * @module
 */

import {
  type ApplicationText,
  ArgumentParseError,
  ArgumentScannerError,
  EnumValidationError,
  FlagNotFoundError,
  formatMessageForArgumentScannerError,
  text_en,
  type UnexpectedFlagError,
} from "@stricli/core";
import { formatError } from "./errors.ts";
import { shown } from "../commands/toolkit/errors.ts";
import { runArgs, verboseRequested } from "./run_args.ts";

function oneLine(text: string): string {
  return text.trim().split("\n").map((line) => line.trim()).filter((line) => line !== "").join("; ");
}

function suggest(corrections: readonly string[]): string {
  return corrections.length === 0 ? "" : `; did you mean ${corrections.map((c) => `"${c}"`).join(" or ")}?`;
}

/** Messages for stricli's scanner errors, in the house grammar and naming the option. */
const scannerMessages = {
  FlagNotFoundError: (error: FlagNotFoundError) =>
    `Unknown option ${error.input.startsWith("-") ? "" : "--"}${shown(error.input)}${
      suggest(error.corrections.map((c) => `--${c.replace(/^-+/, "")}`))
    }`,
  EnumValidationError: (error: EnumValidationError) =>
    `--${error.externalFlagName}: Invalid value "${shown(error.input)}": expected one of ${
      error.values.join(", ")
    }`,
  UnexpectedFlagError: (error: UnexpectedFlagError) => `--${error.externalFlagName} given twice`,
};

/** A word of a command line as a shell would need it typed. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The message for options given before the command (`dmabuf --json heaps`): the same line with the leading
 * options after the command (`--color` with its value), as stricli only takes them there.
 */
function optionsFirst(args: readonly string[]): string {
  let at = 0;
  while (at < args.length && args[at]!.startsWith("-") && args[at] !== "--") {
    at += args[at] === "--color" ? 2 : 1;
  }
  const options = args.slice(0, at);
  const rest = args.slice(at);
  if (rest.length === 0) return "dmabuf: options go after a command (see dmabuf --help)";
  const end = rest.indexOf("--");
  const line = end === -1 ? [...rest, ...options] : [...rest.slice(0, end), ...options, ...rest.slice(end)];
  return `dmabuf: options go after the command: dmabuf ${line.map(shellWord).join(" ")}`;
}

function parsingMessage(exc: unknown): string {
  if (exc instanceof ArgumentParseError) {
    const cause = exc.exception instanceof Error ? exc.exception.message : String(exc.exception);
    return `dmabuf: ${
      exc.externalFlagNameOrPlaceholder.startsWith("-") ? "" : "--"
    }${exc.externalFlagNameOrPlaceholder}: ${oneLine(cause)}`;
  }
  if (exc instanceof ArgumentScannerError) {
    return `dmabuf: ${oneLine(formatMessageForArgumentScannerError(exc, scannerMessages))}`;
  }
  return formatError(exc, verboseRequested());
}

/** stricli's English texts with dmabuf's error formatting. */
export const text: ApplicationText = {
  ...text_en,
  noCommandRegisteredForInput: ({ input, corrections }) => {
    if (input.startsWith("-") && runArgs()[0] === input) return optionsFirst(runArgs());
    const suggestion = corrections.length > 0
      ? `; did you mean ${corrections.map((c) => `"${c.replaceAll("`", "")}"`).join(" or ")}?`
      : "";
    return `dmabuf: Unknown command "${shown(input)}"${suggestion} (see dmabuf --help)`;
  },
  exceptionWhileParsingArguments: (exc) => parsingMessage(exc),
  exceptionWhileRunningCommand: (exc) => formatError(exc, verboseRequested()),
  commandErrorResult: (err) => formatError(err, verboseRequested()),
  exceptionWhileLoadingCommandFunction: (exc) => formatError(exc, verboseRequested()),
  exceptionWhileLoadingCommandContext: (exc) => formatError(exc, verboseRequested()),
  // --help and --version are stricli's integration flags: a failure writing them (stdout on a full disk) is
  // reported like any command's.
  exceptionWhileRunningIntegrationFlag: ({ exception }) => formatError(exception, verboseRequested()),
};
