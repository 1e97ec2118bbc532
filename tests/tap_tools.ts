/**
 * TAP read by Perl's TAP::Harness, not by a parser of ours: `prove` for the verdict a lab runner would give,
 * TAP::Parser for which tests passed, failed and were skipped.
 * @module
 */

import assert from "node:assert/strict";

/** What `prove` (TAP::Harness) makes of a TAP document: its exit status and its report. */
export async function prove(tap: string): Promise<{ code: number; output: string }> {
  const file = await Deno.makeTempFile({ prefix: "dmabuf-smoke-", suffix: ".tap" });
  try {
    await Deno.writeTextFile(file, tap);
    // --exec cat: the "test program" prints the document; -v lists every test line as prove read it.
    const { code, stdout, stderr } = await new Deno.Command("prove", {
      args: ["-v", "--exec", "cat", file],
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }).output();
    const decoder = new TextDecoder();
    return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
  } finally {
    await Deno.remove(file);
  }
}

/** What TAP::Parser (the parser under prove) reads from a document: counts and test numbers per outcome. */
export async function tapParser(tap: string): Promise<Record<string, string>> {
  const script = `
    use TAP::Parser;
    local $/; my $tap = <STDIN>;
    my $p = TAP::Parser->new({ tap => $tap });
    while (defined(my $r = $p->next)) {}
    print "version=", $p->version, "\\n";
    print "plan=", $p->plan, "\\n";
    print "tests_run=", $p->tests_run, "\\n";
    print "passed=", join(",", $p->passed), "\\n";
    print "failed=", join(",", $p->failed), "\\n";
    print "skipped=", join(",", $p->skipped), "\\n";
    print "parse_errors=", join(" | ", $p->parse_errors), "\\n";
  `;
  const child = new Deno.Command("perl", { args: ["-e", script], stdin: "piped", stdout: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(tap));
  await writer.close();
  const { code, stdout } = await child.output();
  assert.equal(code, 0);
  return Object.fromEntries(
    new TextDecoder().decode(stdout).trim().split("\n").map((line) => [
      line.slice(0, line.indexOf("=")),
      line.slice(line.indexOf("=") + 1),
    ]),
  );
}
