/**
 * A LAVA test definition's run script, written the way LAVA's dispatcher writes it
 * (Linaro/lava `lava_dispatcher/actions/deploy/testdef.py`, `TestRunnerAction.run` and `handle_parameters`):
 * the definition's params as `NAME='value'` shell variables, then the job's overrides, `set -e`, `set -x`,
 * the STARTRUN signal, the steps one per line, `set +x`, the ENDRUN signal.
 *
 * As a command: `definition.ts DEFINITION.yaml [NAME=VALUE...]` prints that script. An environment variable
 * named like a param also overrides it (the job's `parameters:`), so `HEAPS=system run_definition.sh` works.
 * @module
 */

import { parse } from "yaml";

/** The parts of a Lava-Test Test Definition 1.0 this reads. */
export interface TestDefinition {
  /** `format`, `name`, `description`, `os`, `scope`, `devices`, ... */
  metadata: Record<string, unknown>;
  /** Default parameters. */
  params?: Record<string, string | number | boolean | null>;
  /** The shell steps. */
  run: { steps: (string | null)[] };
}

/** Parses a definition's YAML text. */
export function parseDefinition(text: string): TestDefinition {
  return parse(text) as TestDefinition;
}

/** Options of {@link runScript}. */
export interface RunScriptOptions {
  /** Job parameters, written after the definition's defaults so they win. */
  overrides?: Record<string, string>;
  /** The directory the steps start in (LAVA: the test's runner path). */
  directory?: string;
  /** TESTRUN_ID (LAVA: `<index>_<name>`). */
  testRunId?: string;
}

/** The run.sh LAVA would write for `definition`. */
export function runScript(definition: TestDefinition, options: RunScriptOptions = {}): string {
  const lines = ["###default parameters from test definition###"];
  for (const [name, value] of Object.entries(definition.params ?? {})) {
    lines.push(`${name}='${value ?? ""}'`);
  }
  lines.push("######", "###test parameters from job submission###");
  for (const [name, value] of Object.entries(options.overrides ?? {})) lines.push(`${name}='${value}'`);
  lines.push(
    "######",
    "set -e",
    "set -x",
    `export TESTRUN_ID=${options.testRunId ?? `0_${String(definition.metadata.name ?? "definition")}`}`,
    `cd ${options.directory ?? "."}`,
    'UUID="local"',
    "set +x",
    'echo "<LAVA_SIGNAL_STARTRUN $TESTRUN_ID $UUID>"',
    "set -x",
  );
  for (const step of definition.run.steps) {
    if (step === null) continue;
    // As LAVA does for --cmd/--shell steps: keep $1 etc. for the command, not the script.
    lines.push(
      step.includes("--cmd") || step.includes("--shell") ? step.replace(/\$(\d+)\b/g, "\\$$$1") : step,
    );
  }
  lines.push("set +x", 'echo "<LAVA_SIGNAL_ENDRUN $TESTRUN_ID $UUID>"');
  return lines.join("\n") + "\n";
}

if (import.meta.main) {
  const [file, ...assignments] = Deno.args;
  if (file === undefined) {
    Deno.stderr.writeSync(new TextEncoder().encode("Usage: definition.ts DEFINITION.yaml [NAME=VALUE...]\n"));
    Deno.exit(2);
  }
  const definition = parseDefinition(Deno.readTextFileSync(file));
  const overrides: Record<string, string> = {};
  for (const name of Object.keys(definition.params ?? {})) {
    const value = Deno.env.get(name);
    if (value !== undefined) overrides[name] = value;
  }
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) {
      Deno.stderr.writeSync(new TextEncoder().encode(`Cannot read "${assignment}": expected NAME=VALUE\n`));
      Deno.exit(2);
    }
    overrides[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  Deno.stdout.writeSync(new TextEncoder().encode(runScript(definition, { overrides })));
}
