/**
 * LAVA's dispatcher reading signals from console text, for tests. The regex and the parameter handling are
 * ported from Linaro/lava at commit d27bcfdb59c6b0cd670164fafb04d03a75ff002a:
 * `lava_dispatcher/actions/test/shell.py` (`TestShellAction._reset_patterns` "signal" pattern,
 * `handle_testcase`, `signal_test_set`, `check_patterns` splitting the parameters on whitespace),
 * `lava_dispatcher/connection.py` (`SignalMatch.match`: result values, float() measurements) and
 * `lava_results_app/dbutils.py` (`_check_for_testset`: a set name must survive URL quoting).
 * @module
 */

/** shell.py: `"signal": r"<LAVA_SIGNAL_(\S+) ([^>]+)>"` (pexpect searches it anywhere in the output). */
const SIGNAL = /<LAVA_SIGNAL_(\S+) ([^>]+)>/g;

/** What the dispatcher records: each test case with its set, result, measurement and units. */
export interface LavaRecord {
  case: string;
  result: string;
  set: string | null;
  measurement?: number;
  units?: string;
}

/** Python's `float()` of a measurement, strictly: what it accepts for the numbers we print. */
const PY_FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** urllib.parse.quote's always-safe characters plus its default safe "/". */
const URL_SAFE = /^[A-Za-z0-9_.\-~/]+$/;

/** Reads console text as the dispatcher does; throws where it would raise TestError/JobError. */
export function dispatcherRead(text: string): LavaRecord[] {
  const records: LavaRecord[] = [];
  let set: string | null = null;
  for (const match of text.matchAll(SIGNAL)) {
    const name = match[1]!;
    const params = match[2]!.split(/\s+/).filter((p) => p !== "");
    if (name === "TESTSET") {
      const action = params.shift();
      if (action === "START") {
        if (params[0] === undefined) throw new Error("JobError: Test set declared without a name");
        set = params[0];
        if (!URL_SAFE.test(set)) throw new Error(`Invalid testset name '${set}', ignoring.`);
      } else if (action === "STOP") {
        set = null;
      }
      continue;
    }
    // Run and test case markers (lava-test-runner, lava-test-case --shell) only log.
    if (["STARTRUN", "ENDRUN", "STARTTC", "ENDTC"].includes(name)) continue;
    if (name !== "TESTCASE") throw new Error(`unexpected signal ${name}`);
    // handle_testcase: every parameter KEY=VALUE, keys lower-cased.
    const data = new Map<string, string>();
    for (const param of params) {
      const eq = param.indexOf("=");
      if (eq < 0) throw new Error(`JobError: Ignoring malformed parameter for signal: "${param}". `);
      data.set(param.slice(0, eq).toLowerCase(), param.slice(eq + 1));
    }
    const id = data.get("test_case_id");
    const result = data.get("result");
    if (id === undefined) throw new Error("TestError: Test case results without test_case_id");
    if (result === undefined || !["pass", "fail", "skip", "unknown"].includes(result)) {
      throw new Error(`TestError: Bad test result: ${result}`);
    }
    const record: LavaRecord = { case: id, result, set };
    const measurement = data.get("measurement");
    if (measurement !== undefined) {
      if (!PY_FLOAT.test(measurement)) throw new Error(`TestError: Invalid measurement ${measurement}`);
      record.measurement = Number(measurement);
      const units = data.get("units");
      if (units !== undefined) record.units = units;
    }
    records.push(record);
  }
  return records;
}
