/** Per-value breakdown rows (items and mean score) for a task summary. */
import type { BreakdownRow } from "../types.ts";

/**
 * Items and mean score per value of `key`, rows in first-seen order; items whose key is null or "" are left out.
 * @example breakdownBy(["a", "b", "a"], [1, 0, 0], (x) => x) // { a: { n: 2, score: 0.5 }, b: { n: 1, score: 0 } }
 */
export function breakdownBy<T>(
  items: readonly T[],
  scores: readonly number[],
  key: (item: T, index: number) => string | null | undefined,
): Record<string, BreakdownRow> {
  const sums = new Map<string, { n: number; sum: number }>();
  items.forEach((item, i) => {
    const k = key(item, i);
    if (k === null || k === undefined || k === "") return;
    const row = sums.get(k) ?? { n: 0, sum: 0 };
    row.n += 1;
    row.sum += scores[i] ?? 0;
    sums.set(k, row);
  });
  return Object.fromEntries([...sums].map(([k, { n, sum }]) => [k, { n, score: sum / n }]));
}

/** Mean of the scores (0 for none). */
export const meanScore = (scores: readonly number[]): number =>
  scores.length === 0 ? 0 : scores.reduce((a, b) => a + b, 0) / scores.length;
