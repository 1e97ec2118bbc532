/**
 * Aligned text tables: a header and one line per row, columns padded to their widest cell, numbers
 * right-aligned, the last column unpadded.
 * @module
 */

import type { ChunkedWriter } from "./chunked.ts";

/** A column of a table. */
export interface Column<Row> {
  /** Header text. */
  header: string;
  /** The cell text of a row. */
  cell: (row: Row) => string;
  /** Right-align (numbers). */
  right?: boolean;
}

/**
 * Writes `rows` as an aligned table to `out`, the header line through `header` (to style it). Plain loops and
 * one padding string: a 10,000-row table is on the cold path of `stat`.
 */
export function writeTable<Row>(
  out: ChunkedWriter,
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  header: (line: string) => string = (line) => line,
): void {
  const width = columns.length;
  const cells: string[] = new Array(rows.length * width);
  const widths = columns.map((column) => column.header.length);
  for (let c = 0; c < width; c++) {
    const cell = columns[c]!.cell;
    let max = widths[c]!;
    for (let r = 0, at = c; r < rows.length; r++, at += width) {
      const text = cell(rows[r]!);
      cells[at] = text;
      if (text.length > max) max = text.length;
    }
    widths[c] = max;
  }
  const spaces = " ".repeat(Math.max(0, ...widths));
  const right = columns.map((column) => column.right === true);
  const last = width - 1;
  const render = (texts: readonly string[], offset: number): string => {
    let line = "";
    for (let c = 0; c < width; c++) {
      const text = texts[offset + c]!;
      const pad = spaces.slice(0, widths[c]! - text.length);
      if (c > 0) line += "  ";
      if (right[c]) line += pad + text;
      else line += c === last ? text : text + pad;
    }
    return line;
  };
  out.write(header(render(columns.map((c) => c.header), 0)) + "\n");
  for (let at = 0; at < cells.length; at += width) out.write(render(cells, at) + "\n");
}
