import { existsSync } from "node:fs";
import { assertEquals, assertIncludes, assertOk, assertThrows } from "../../assert.ts";
import { CliError } from "../../../commands/toolkit/errors.ts";
import { checkDirectory, readUserText, UserInput, UserOutput } from "../../../commands/toolkit/user_file.ts";

const TEXT = { limit: 1024, readAs: "a test document" };

/** A temporary directory (`${dir}` is its path), removed with everything in it when disposed. */
function tempDir(): Disposable & { toString(): string } {
  const path = Deno.makeTempDirSync({ prefix: "dmabuf-user-file-" });
  return { toString: () => path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

Deno.test("readUserText: a regular file's text; a directory, a device, a missing file are one line each", () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir}/a.txt`, "hello\n");
  assertEquals(readUserText(`${dir}/a.txt`, TEXT), "hello\n");
  const cases: [string, string][] = [
    [`${dir}`, `Cannot read ${dir}: EISDIR (Is a directory)`],
    ["/dev/zero", "Cannot read /dev/zero: it is a character device, not a file"],
    [`${dir}/missing`, `Cannot read ${dir}/missing: ENOENT (No such file or directory)`],
    [`${dir}/a.txt/x`, `Cannot read ${dir}/a.txt/x: ENOTDIR (Not a directory)`],
  ];
  for (const [path, message] of cases) assertThrows(() => readUserText(path, TEXT), CliError, message);
});

Deno.test("readUserText: a file larger than the limit is refused by its size, before it is read", () => {
  using dir = tempDir();
  const sparse = `${dir}/sparse`;
  Deno.writeFileSync(sparse, new Uint8Array());
  Deno.truncateSync(sparse, 3 * 1024 ** 3);
  const start = performance.now();
  assertThrows(
    () => readUserText(sparse, TEXT),
    CliError,
    `Cannot read ${sparse}: it is 3 GiB, more than the 1 KiB read as a test document`,
  );
  assertOk(performance.now() - start < 100);
});

Deno.test("readUserText: the sniff sees the start and can give up at once", () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir}/x`, "not it");
  let seen = "";
  const sniff = (start: Uint8Array) => {
    seen = new TextDecoder().decode(start);
    return "it is not it";
  };
  assertThrows(
    () => readUserText(`${dir}/x`, { ...TEXT, sniff }),
    CliError,
    `${dir}/x is not a test document: it is not it`,
  );
  assertEquals(seen, "not it");
});

Deno.test("readUserText: a long path is shown cut, with its length, and control characters escaped", () => {
  const error = assertThrows(() => readUserText(`/nonexistent/${"a".repeat(5000)}`, TEXT), CliError);
  assertIncludes(error.message, "... (5013 characters)");
  assertOk(error.message.length < 300, error.message);
  const newline = assertThrows(() => readUserText("/nonexistent/a\nb", TEXT), CliError);
  assertIncludes(newline.message, "/nonexistent/a\\x0ab");
});

Deno.test("UserInput: checked when opened, read only as far as asked (/dev/zero included)", () => {
  using zero = UserInput.open("/dev/zero");
  assertEquals(zero.size, null);
  assertEquals(zero.readAtMost(4097).length, 4097);
  assertThrows(() => UserInput.open("/"), CliError, "Cannot read /: EISDIR (Is a directory)");
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir}/f`, "abc");
  using file = UserInput.open(`${dir}/f`);
  assertEquals(file.size, 3);
  assertEquals(new TextDecoder().decode(file.readAtMost(100)), "abc");
});

Deno.test("UserOutput: refused at open (a directory, a missing directory); an unwritten new file is removed", () => {
  assertThrows(() => UserOutput.open("/tmp"), CliError, "Cannot write /tmp: EISDIR (Is a directory)");
  assertThrows(
    () => UserOutput.open("/nonexistent/dir/report.txt"),
    CliError,
    "Cannot write /nonexistent/dir/report.txt: ENOENT (No such file or directory)",
  );
  assertThrows(() => UserOutput.open("/dev/full").write("x"), CliError, "ENOSPC (No space left on device)");
  using dir = tempDir();
  {
    using _output = UserOutput.open(`${dir}/new`);
    assertOk(existsSync(`${dir}/new`));
  }
  assertEquals(existsSync(`${dir}/new`), false);
  {
    using output = UserOutput.open(`${dir}/new`);
    output.write("report\n");
  }
  assertEquals(Deno.readTextFileSync(`${dir}/new`), "report\n");
});

Deno.test("UserOutput: an existing file keeps its contents until the new ones are written, then has only them", () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir}/old`, "old contents, longer than the new\n");
  {
    using _unwritten = UserOutput.open(`${dir}/old`);
  }
  assertEquals(Deno.readTextFileSync(`${dir}/old`), "old contents, longer than the new\n");
  {
    using output = UserOutput.open(`${dir}/old`);
    output.write(new TextEncoder().encode("new\n"));
  }
  assertEquals(Deno.readTextFileSync(`${dir}/old`), "new\n");
});

Deno.test("checkDirectory: a directory passes; a file, a missing path are one line naming the flag", () => {
  checkDirectory("/dev", "--heap-dir");
  assertThrows(
    () => checkDirectory("/etc/hostname", "--heap-dir"),
    CliError,
    "Cannot read the directory /etc/hostname (--heap-dir): ENOTDIR (Not a directory)",
  );
  assertThrows(
    () => checkDirectory("/nonexistent", "--heap-dir"),
    CliError,
    "Cannot read the directory /nonexistent (--heap-dir): ENOENT (No such file or directory)",
  );
});
