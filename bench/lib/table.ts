/** A column of `formatTable`: header text and alignment (numbers read best right-aligned). */
export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  readonly align?: 'left' | 'right';
}

/**
 * A GitHub-flavoured Markdown table, padded so it also reads well in a terminal.
 * Cells must not contain `|` or newlines (not escaped).
 */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, 3, ...cells.map((r) => r[i]?.length ?? 0)));
  const pad = (text: string, i: number) => {
    const w = widths[i] ?? 0;
    return columns[i]?.align === 'right' ? text.padStart(w) : text.padEnd(w);
  };
  const line = (values: readonly string[]) => `| ${values.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (columns[i]?.align === 'right' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(columns.map((c) => c.header)), rule, ...cells.map(line)].join('\n');
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 -> "1,234,567" (rounded). */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? grouped.format(n) : '-';
}

/** Fixed decimals, or "-" for a missing/non-finite number. */
export function formatFixed(n: number | undefined, digits: number): string {
  return n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-';
}
