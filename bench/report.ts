/** Small statistics and formatting helpers for the benchmark tables. */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `1234567` → `1,234,567`. */
export function grouped(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A ratio as `0.83×`. */
export function times(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** Megabytes (10^6 bytes), one decimal. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Prints rows as a Markdown table, columns padded; `align` is `l` or `r` per column. */
export function table(header: string[], rows: string[][], align: string): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    `| ${cells
      .map((cell, column) =>
        align[column] === 'r' ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join(' | ')} |`;
  const rule = `| ${widths
    .map((width, column) =>
      align[column] === 'r' ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width),
    )
    .join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Runs a full garbage collection when node runs with `--expose-gc`; otherwise does nothing. */
export function collectGarbage(): boolean {
  if (typeof globalThis.gc !== 'function') return false;
  globalThis.gc();
  return true;
}
