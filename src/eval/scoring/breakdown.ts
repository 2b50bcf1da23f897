/** Means and per-value breakdowns of item scores, in the order values first appear. */
import type { BreakdownRow, ItemVerdict } from "../types.ts";

/** The mean of `scores` in item order (lmms-eval's `sum(arr) / len(arr)`); 0 for none. */
export function meanScore(scores: readonly number[]): number {
  let total = 0;
  for (const s of scores) total += s;
  return scores.length === 0 ? 0 : total / scores.length;
}

/**
 * Items and mean score per key. An item with a list of keys counts under each (DocVQA's `question_types`);
 * an item with no key is left out.
 */
export function breakdownBy(
  keys: readonly (string | readonly string[] | undefined)[],
  verdicts: readonly ItemVerdict[],
) {
  const groups = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const score = verdicts[i]?.score ?? 0;
    for (const k of key === undefined ? [] : typeof key === "string" ? [key] : key) {
      const scores = groups.get(k) ?? [];
      scores.push(score);
      groups.set(k, scores);
    }
  });
  const rows: Record<string, BreakdownRow> = {};
  for (const [k, scores] of groups) rows[k] = { n: scores.length, score: meanScore(scores) };
  return rows;
}
