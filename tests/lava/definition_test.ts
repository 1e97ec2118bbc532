/**
 * The LAVA test definition: its structure (Lava-Test Test Definition 1.0 as Linaro's test-definitions write
 * it), and its steps run as LAVA would (tests/lava/run_definition.sh) against a stand-in bundle whose
 * `bin/dmabuf` prints a rendered smoke report, with the lava-test-case/lava-test-set recorders on PATH:
 * the dispatcher must read every check once plus the run-level cases, and reach ENDRUN even when a check
 * failed or dmabuf crashed (the steps run under `set -e`).
 */
import assert from "node:assert/strict";
import { parseDefinition, runScript } from "./definition.ts";
import { renderLava } from "../../commands/lab/lava.ts";
import { MIXED } from "../commands/lab/fixtures.ts";
import { dispatcherRead } from "../commands/lab/lava_dispatcher.ts";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const DEFINITION = `${HERE}dmabuf-smoke.yaml`;
const definition = parseDefinition(await Deno.readTextFile(DEFINITION));

Deno.test("dmabuf-smoke.yaml is a Lava-Test Test Definition 1.0 with the metadata LAVA and Linaro expect", () => {
  const { metadata } = definition;
  assert.equal(metadata.format, "Lava-Test Test Definition 1.0");
  assert.equal(metadata.name, "dmabuf-smoke");
  assert.equal(typeof metadata.description, "string");
  for (const key of ["os", "scope", "devices", "maintainer"]) {
    const list = metadata[key];
    assert.ok(Array.isArray(list) && list.length > 0 && list.every((v) => typeof v === "string"), key);
  }
});

Deno.test("its params are strings LAVA can write as NAME='value', including the bundle, heaps and sizes", () => {
  const params = definition.params ?? {};
  for (const name of ["DMABUF_ROOT", "DMABUF_VERSION", "DMABUF", "HEAPS", "SIZES", "ITERATIONS", "BENCH"]) {
    assert.ok(name in params, name);
  }
  for (const [name, value] of Object.entries(params)) {
    assert.equal(typeof value, "string", name);
    assert.ok(!String(value).includes("'"), `${name} holds a single quote`);
    assert.match(name, /^[A-Z_][A-Z0-9_]*$/);
  }
});

Deno.test("its steps are single shell lines that use the bundle's bin/dmabuf", () => {
  const steps = definition.run.steps;
  assert.ok(steps.length > 0);
  for (const step of steps) {
    assert.equal(typeof step, "string");
    assert.ok(!String(step).includes("\n"), `multi-line step: ${step}`);
  }
  // run.sh traces each step (set -x) and the dispatcher finds a signal anywhere in a line: a step holding
  // one literally would report it twice (seen with lava-run in the investigation of issue 14).
  for (const step of steps) assert.ok(!String(step).includes("<LAVA_SIGNAL_"), `signal in step: ${step}`);
  assert.ok(steps.some((s) => String(s).includes("dmabuf-${DMABUF_VERSION}/bin/dmabuf")));
  assert.ok(steps.some((s) => String(s).includes("smoke ${HEAP_ARGS} --format lava")));
});

Deno.test("runScript writes the params, then the job's overrides, then the steps between STARTRUN and ENDRUN", () => {
  const script = runScript(definition, { overrides: { HEAPS: "system" } });
  const lines = script.split("\n");
  assert.ok(lines.indexOf("HEAPS=''") < lines.indexOf("HEAPS='system'"));
  assert.ok(lines.indexOf("set -e") < lines.indexOf('echo "<LAVA_SIGNAL_STARTRUN $TESTRUN_ID $UUID>"'));
  assert.equal(lines.at(-2), 'echo "<LAVA_SIGNAL_ENDRUN $TESTRUN_ID $UUID>"');
});

/** A bundle whose bin/dmabuf prints `smokeOutput` for `smoke` and exits `smokeStatus`, logging its args. */
async function fakeBundle(root: string, smokeOutput: string, smokeStatus: number): Promise<void> {
  const bin = `${root}/dmabuf-0.1.0/bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(`${root}/smoke.lava`, smokeOutput);
  await Deno.writeTextFile(
    `${bin}/dmabuf`,
    [
      "#!/bin/sh",
      `echo "$*" >> "${root}/args.txt"`,
      'case "$1" in',
      "  --version) echo 0.1.0 ;;",
      `  smoke) cat "${root}/smoke.lava"; exit ${smokeStatus} ;;`,
      "  *) exit 2 ;;",
      "esac",
      "",
    ].join("\n"),
  );
  await Deno.chmod(`${bin}/dmabuf`, 0o755);
}

async function runDefinition(root: string, ...assignments: string[]) {
  const output = await new Deno.Command("sh", {
    args: [
      `${HERE}run_definition.sh`,
      "--workdir",
      `${root}/work`,
      DEFINITION,
      `DMABUF_ROOT=${root}`,
      ...assignments,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("run_definition.sh: the dispatcher reads every smoke check and the run-level cases", async () => {
  const root = await Deno.makeTempDir({ prefix: "dmabuf-lava-def-" });
  try {
    await fakeBundle(root, renderLava(MIXED), 1);
    const { code, stdout, stderr } = await runDefinition(root, "HEAPS=system,udmabuf");
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^<LAVA_SIGNAL_STARTRUN 0_dmabuf-smoke local>$/m);
    assert.match(stdout, /^<LAVA_SIGNAL_ENDRUN 0_dmabuf-smoke local>$/m);
    const records = dispatcherRead(stdout);
    const smokeIds = dispatcherRead(renderLava(MIXED)).map((r) => r.case);
    assert.deepEqual(records.map((r) => r.case), ["dmabuf-bundle", ...smokeIds, "dmabuf-smoke-complete"]);
    assert.deepEqual(records.map((r) => r.result).filter((r) => r === "fail").length, 1);
    // The recorders saw the two lava-test-case calls; the checks' own signals were printed by dmabuf.
    assert.equal(
      await Deno.readTextFile(`${root}/work/lava-record.txt`),
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=dmabuf-bundle RESULT=pass>\n" +
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=dmabuf-smoke-complete RESULT=pass>\n",
    );
    assert.equal(
      await Deno.readTextFile(`${root}/args.txt`),
      "--version\nsmoke --heap system --heap udmabuf --format lava\n",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("run_definition.sh: a crashed dmabuf fails dmabuf-smoke-complete and still reaches ENDRUN", async () => {
  const root = await Deno.makeTempDir({ prefix: "dmabuf-lava-def-" });
  try {
    await fakeBundle(root, renderLava(MIXED).split("\n").slice(0, 5).join("\n") + "\n", 134);
    const { code, stdout, stderr } = await runDefinition(root);
    assert.equal(code, 0, stderr);
    const records = dispatcherRead(stdout);
    assert.deepEqual(records.at(-1), { case: "dmabuf-smoke-complete", result: "fail", set: null });
    assert.match(stdout, /<LAVA_SIGNAL_ENDRUN /);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const busybox = await new Deno.Command("sh", { args: ["-c", "command -v busybox"], stdout: "piped" })
  .output();
const BUSYBOX = busybox.success ? new TextDecoder().decode(busybox.stdout).trim() : null;

Deno.test({
  name: BUSYBOX === null
    ? "the recorders print what LAVA's helpers print under busybox sh (ignored: no busybox)"
    : "the recorders print what LAVA's helpers print under busybox sh",
  ignore: BUSYBOX === null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "dmabuf-lava-rec-" });
    try {
      const run = async (script: string, ...args: string[]) => {
        const out = await new Deno.Command(BUSYBOX!, {
          args: ["sh", `${HERE}${script}`, ...args],
          env: { LAVA_RECORD: `${dir}/record.txt` },
          stdout: "piped",
        }).output();
        assert.ok(out.success);
        return new TextDecoder().decode(out.stdout);
      };
      assert.equal(
        await run(
          "lava-test-case",
          "system.4KiB.allocClose",
          "--result",
          "pass",
          "--measurement",
          "812.5",
          "--units",
          "ns",
        ),
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.4KiB.allocClose RESULT=pass UNITS=ns MEASUREMENT=812.5>\n",
      );
      assert.equal(await run("lava-test-set", "start", "system"), "<LAVA_SIGNAL_TESTSET START system>\n");
      assert.equal(await run("lava-test-set", "stop"), "<LAVA_SIGNAL_TESTSET STOP>\n");
      assert.equal(
        await run("lava-test-case", "uname", "--shell", "true"),
        "<LAVA_SIGNAL_STARTTC uname>\n<LAVA_SIGNAL_ENDTC uname>\n<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=uname RESULT=pass>\n",
      );
      assert.equal((await Deno.readTextFile(`${dir}/record.txt`)).split("\n").length, 7);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
