/**
 * Levenshtein distance, for "did you mean …?" hints on mistyped option names.
 * Option names are short (under 40 characters) and there are few of them, so
 * the plain two-row dynamic programme is all this needs.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate nearest to `word` (case-insensitive), or `undefined` when none
 * is within `maxDistance` edits. Ties go to the earlier candidate.
 */
export function closest(word: string, candidates: readonly string[], maxDistance: number): string | undefined {
  const needle = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    // Lengths differing by more than maxDistance cannot be close: skip the work.
    if (Math.abs(candidate.length - needle.length) > maxDistance) continue;
    const d = editDistance(needle, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
