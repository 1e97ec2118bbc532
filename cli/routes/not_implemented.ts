import { buildCommand, type Command } from "@stricli/core";
import { type CommonFlags, commonFlags, type DmabufContext } from "../context.ts";
import { CliError } from "../errors.ts";

/** A placeholder command for one still being built; it says so and exits 1. */
export function notImplemented(name: string, brief: string): Command<DmabufContext> {
  return buildCommand<CommonFlags, [], DmabufContext>({
    func: () => {
      throw new CliError(`dmabuf ${name} is not implemented yet`);
    },
    parameters: { flags: { ...commonFlags } },
    docs: { brief: `${brief} (not implemented yet)` },
  });
}
