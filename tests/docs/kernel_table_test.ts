/**
 * README.md's kernel table is tests/kernel/features.ts, cell for cell (whitespace aside: deno fmt aligns it).
 * A host-tier test (outside tests/kernel/, which the host tier leaves to the VM): it reads only the README and
 * the data.
 */
import assert from "node:assert/strict";
import { featuresTable } from "../kernel/features.ts";

/** The rows of the first markdown table whose header starts with `| feature`, as trimmed cells. */
function tableCells(markdown: string, firstCell: string): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`| ${firstCell} `));
  assert.ok(start >= 0, `a table starting with "| ${firstCell}"`);
  const rows: string[][] = [];
  for (let i = start; i < lines.length && lines[i]!.startsWith("|"); i++) {
    rows.push(lines[i]!.slice(1, -1).split(" | ").map((cell) => cell.trim()));
  }
  return rows.filter((row) => !row.every((cell) => /^-+$/.test(cell)));
}

Deno.test("README's kernel table is the one tests/kernel/features.ts holds (and the VM tiers probe)", () => {
  const readme = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));
  assert.deepEqual(tableCells(readme, "feature"), tableCells(featuresTable(), "feature"));
});
