/**
 * ANLS (Average Normalized Levenshtein Similarity), the DocVQA / InfographicVQA metric, as lmms-eval's
 * `lmms_eval/api/metrics.py` `anls()` computes it (itself from Qwen-VL's `infographicsvqa_eval.py`):
 * both strings are normalised (`" ".join(s.strip().lower().split())`) for the edit distance, but the length it is
 * divided by is that of the UN-normalised strings upper-cased (`max(len(gt.upper()), len(pred.upper()))`), so
 * padding or doubled spaces in an answer lower its distance ratio. Score = 1 − min over golds; below 0.5 → 0.
 */
import { pyLen, pySplitWhitespace as pySplit } from "../python/text.ts";

/** The normalisation both sides get before the edit distance. */
export function anlsNormalize(s: string): string {
  return pySplit(s.toLowerCase()).join(" ");
}

/** Levenshtein distance over code points (Python indexes strings by code point). */
export function levenshtein(a: string, b: string): number {
  let short = Array.from(a);
  let long = Array.from(b);
  if (short.length > long.length) [short, long] = [long, short];
  let prev = Array.from({ length: short.length + 1 }, (_, i) => i);
  for (const [j, cl] of long.entries()) {
    const row = [j + 1];
    for (const [i, cs] of short.entries()) {
      row.push(
        cs === cl
          ? (prev[i] as number)
          : 1 + Math.min(prev[i] as number, prev[i + 1] as number, row[i] as number),
      );
    }
    prev = row;
  }
  return prev[short.length] as number;
}

/**
 * One question's ANLS: 1 − the smallest normalised distance to any gold answer, 0 when that falls below
 * `threshold`. With no gold answers Python's `min([])` raises; here that is the caller's error to prevent.
 * @example anlsScore("1/2/1998", ["1/2/98"]) // 1 − 2/8 = 0.75
 */
export function anlsScore(prediction: string, golds: readonly string[], threshold = 0.5): number {
  const pred = anlsNormalize(prediction);
  const predLength = pyLen(prediction.toUpperCase());
  let best = Number.POSITIVE_INFINITY;
  for (const gold of golds) {
    const length = Math.max(pyLen(gold.toUpperCase()), predLength);
    const value = length === 0 ? 0 : levenshtein(anlsNormalize(gold), pred) / length;
    best = Math.min(best, value);
  }
  const score = 1 - best;
  return score < threshold ? 0 : score;
}
