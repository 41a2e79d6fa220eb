/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two strings. */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    const row = d[i] as number[];
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known name closest to `input`, when it is close enough to be a typo: at most a third of
 * its length in edits (at least 1, at most 3), case ignored. Undefined otherwise.
 *
 * ```ts
 * closestMatch('anthropc', ['openai', 'anthropic']); // 'anthropic'
 * closestMatch('mistral', ['openai', 'anthropic']); // undefined
 * ```
 */
export function closestMatch(input: string, known: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(needle.length / 3)));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(needle, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `' (did you mean "x"?)'` when a known name is close to `input`, else `''`. */
export function didYouMean(input: string, known: readonly string[]): string {
  const match = closestMatch(input, known);
  return match === undefined || match === input ? '' : ` (did you mean ${JSON.stringify(match)}?)`;
}
