/**
 * A process entry for `dmabuf trace` until the command is wired into the CLI: the kernel tests spawn it where
 * the process boundary is the point (SIGINT, SIGTERM, an unprivileged user, exit codes).
 *
 * ```sh
 * deno run -A tests/kernel/trace_entry.ts --duration 2s --json
 * ```
 */
import { parseArgs } from "node:util";
import { traceCommand } from "../../commands/trace/mod.ts";
import { parseDuration } from "../../cli/parse.ts";

const encoder = new TextEncoder();
const sink = (stream: typeof Deno.stdout) => ({
  write: (text: string) => void stream.writeSync(encoder.encode(text)),
});

const controller = new AbortController();
for (const name of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(name, () => controller.abort(name));

let code: number;
try {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      duration: { type: "string" },
      driver: { type: "string" },
      timeline: { type: "string" },
      pid: { type: "string" },
      events: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      output: { type: "string" },
    },
    strict: true,
  });
  code = await traceCommand({
    stdout: sink(Deno.stdout),
    stderr: sink(Deno.stderr),
    signal: controller.signal,
  }, {
    duration: values.duration === undefined ? undefined : parseDuration(values.duration),
    driver: values.driver,
    timeline: values.timeline,
    pid: values.pid === undefined ? undefined : Number(values.pid),
    events: values.events,
    json: values.json,
    output: values.output,
  });
} catch (error) {
  Deno.stderr.writeSync(encoder.encode(`dmabuf trace: ${(error as Error).message}\n`));
  code = 2;
}
Deno.exit(code);
