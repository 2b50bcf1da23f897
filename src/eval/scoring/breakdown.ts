/** Means and per-value breakdowns of item scores, in the order values first appear. */
import type { BreakdownRow } from "../types.ts";

/** The mean of `scores` in item order (lmms-eval's `sum(arr) / len(arr)`); 0 for none. */
export function meanScore(scores: readonly number[]): number {
  let total = 0;
  for (const s of scores) total += s;
  return scores.length === 0 ? 0 : total / scores.length;
}

/**
 * Items and mean score per key, rows in first-seen order. An item with a list of keys counts under each (DocVQA's
 * `question_types`); an item with no key (undefined, null) is left out. Scores are numbers or verdicts.
 * @example breakdownBy(["a", "b", "a"], [1, 0, 0]) // { a: { n: 2, score: 0.5 }, b: { n: 1, score: 0 } }
 */
export function breakdownBy(
  keys: readonly (string | readonly string[] | undefined | null)[],
  scores: readonly (number | { score: number })[],
) {
  const groups = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const v = scores[i] ?? 0;
    const score = typeof v === "number" ? v : v.score;
    for (const k of key === undefined || key === null ? [] : typeof key === "string" ? [key] : key) {
      const scores = groups.get(k) ?? [];
      scores.push(score);
      groups.set(k, scores);
    }
  });
  const rows: Record<string, BreakdownRow> = {};
  for (const [k, scores] of groups) rows[k] = { n: scores.length, score: meanScore(scores) };
  return rows;
}
