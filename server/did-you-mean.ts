/** "Did you mean …?" for a mistyped flag, command or value (pure). */
import leven from "leven";

/**
 * The candidate closest to `input` by edit distance, when close enough to be a typo (at
 * most 2 edits, or a third of its length for long names); else the one candidate that
 * `input` starts or that starts `input` (`--max-str` for `--max-streams-per-socket`,
 * `warning` for `warn`); else undefined.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1;
  for (const c of candidates) {
    const d = leven(input, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  if (best !== undefined) return best;
  const prefixed = candidates.filter((c) => c.length >= 2 && input.length >= 2 && (c.startsWith(input) || input.startsWith(c)));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** `; did you mean X?` for `input` among `candidates`, or "". */
export function didYouMean(input: string, candidates: readonly string[], show: (c: string) => string = (c) => c): string {
  const match = closest(input, candidates);
  return match === undefined ? "" : `; did you mean ${show(match)}?`;
}
