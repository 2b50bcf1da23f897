/**
 * `Levenshtein.distance(a, b)` of python-Levenshtein: unit-cost edit distance over code points. fastest-levenshtein
 * counts UTF-16 units, which differs for characters outside the BMP (𝑥, emoji), so those strings take the slow path.
 */
import { distance as utf16Distance } from "fastest-levenshtein";

const ASTRAL = /[\uD800-\uDFFF]/;

/** @example pyLevenshtein("kitten", "sitting") // 3 */
export function pyLevenshtein(a: string, b: string): number {
  if (!ASTRAL.test(a) && !ASTRAL.test(b)) return utf16Distance(a, b);
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[y.length]!;
}
