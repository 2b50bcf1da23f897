/**
 * Text similarities used by the GUI rewards: the LCS ratio (AndroidWorld, WebVoyager) and OSWorld's typed-text
 * similarity (Levenshtein + bigram Jaccard with length and repetition penalties).
 * All work on Unicode code points, as the released Python does, so an emoji counts as one character.
 */

/** Split into code points (not UTF-16 units). */
function codePoints(s: string): string[] {
  return Array.from(s);
}

/** Length of the longest common subsequence, O(n·m) time with one row of memory. */
export function lcsLength(a: string, b: string): number {
  const xs = codePoints(a);
  const ys = codePoints(b);
  if (xs.length === 0 || ys.length === 0) return 0;
  const row = new Int32Array(ys.length + 1);
  for (const x of xs) {
    let diagonal = 0; // row[j-1] of the previous row
    for (let j = 1; j <= ys.length; j++) {
      const above = row[j]!;
      row[j] = x === ys[j - 1] ? diagonal + 1 : Math.max(above, row[j - 1]!);
      diagonal = above;
    }
  }
  return row[ys.length]!;
}

/**
 * LCS length divided by the longer length, in [0, 1]. Two empty strings are identical → 1.
 * @example lcsRatio("Personal Finance", "Personal Finance Tracker") // 0.6667
 */
export function lcsRatio(a: string, b: string): number {
  const longest = Math.max(codePoints(a).length, codePoints(b).length);
  return longest === 0 ? 1 : lcsLength(a, b) / longest;
}

/** Levenshtein edit distance (insert, delete, substitute, each cost 1) over code points. */
export function levenshtein(a: string, b: string): number {
  const xs = codePoints(a);
  const ys = codePoints(b);
  if (xs.length === 0) return ys.length;
  if (ys.length === 0) return xs.length;
  let prev = Int32Array.from({ length: ys.length + 1 }, (_, j) => j);
  let cur = new Int32Array(ys.length + 1);
  for (let i = 1; i <= xs.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= ys.length; j++) {
      const substitution = prev[j - 1]! + (xs[i - 1] === ys[j - 1] ? 0 : 1);
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, substitution);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[ys.length]!;
}

/** 1 − distance / longer length; two empty strings → 1. */
export function editSimilarity(a: string, b: string): number {
  const longest = Math.max(codePoints(a).length, codePoints(b).length);
  return longest === 0 ? 1 : 1 - levenshtein(a, b) / longest;
}

/** The set of character n-grams of a string. */
function ngramSet(chars: readonly string[], n: number): Set<string> {
  const grams = new Set<string>();
  for (let i = 0; i + n <= chars.length; i++) grams.add(chars.slice(i, i + n).join(""));
  return grams;
}

/** Jaccard index of the character-bigram sets (case-insensitive); two strings with no bigrams → 1. */
export function bigramJaccard(a: string, b: string): number {
  const ga = ngramSet(codePoints(a.toLowerCase()), 2);
  const gb = ngramSet(codePoints(b.toLowerCase()), 2);
  if (ga.size === 0 && gb.size === 0) return 1;
  let inter = 0;
  for (const g of ga) if (gb.has(g)) inter++;
  const union = ga.size + gb.size - inter;
  return union > 0 ? inter / union : 0;
}

/** Texts shorter than this are never called repetitive. */
const REPETITION_MIN_LENGTH = 10;
/** Share of the text one character (or one repeated n-gram) may cover before it counts as repetition. */
const REPETITION_SHARE = 0.7;

/**
 * True when one character makes up more than 70% of the text, or one 2/3/4-gram's occurrences cover more
 * than 70% of it (count·n / length; overlapping occurrences count, as in the release). Short texts are exempt.
 */
export function isRepetitive(text: string): boolean {
  const chars = codePoints(text);
  if (chars.length < REPETITION_MIN_LENGTH) return false;
  for (const n of [1, 2, 3, 4]) {
    if (n > 1 && n >= chars.length) continue;
    const counts = new Map<string, number>();
    let most = 0;
    for (let i = 0; i + n <= chars.length; i++) {
      const gram = chars.slice(i, i + n).join("");
      const count = (counts.get(gram) ?? 0) + 1;
      counts.set(gram, count);
      if (count > most) most = count;
    }
    if ((most * n) / chars.length > REPETITION_SHARE) return true;
  }
  return false;
}

/** Below this length ratio (shorter / longer) the score is multiplied by the ratio itself. */
const LENGTH_RATIO_FLOOR = 0.3;
/** Multiplier when either text is repetitive (stops "aaaa…" from farming bigram overlap). */
const REPETITION_PENALTY = 0.3;

/**
 * OSWorld's typed-text similarity. Both sides are trimmed and lower-cased; an empty side scores 0. Then
 * 0.6·editSimilarity + 0.4·bigramJaccard, × the length ratio when it is below 0.3, × 0.3 when either text is
 * repetitive, clamped to [0, 1].
 * @example typedTextSimilarity("HeLloworld!", "Hello World!") // 0.85
 */
export function typedTextSimilarity(pred: string, gold: string): number {
  const a = pred.trim().toLowerCase();
  const b = gold.trim().toLowerCase();
  const la = codePoints(a).length;
  const lb = codePoints(b).length;
  if (la === 0 || lb === 0) return 0;
  const ratio = Math.min(la, lb) / Math.max(la, lb);
  const lengthPenalty = ratio < LENGTH_RATIO_FLOOR ? ratio : 1;
  const repetitionPenalty = isRepetitive(a) || isRepetitive(b) ? REPETITION_PENALTY : 1;
  const combined = 0.6 * editSimilarity(a, b) + 0.4 * bigramJaccard(a, b);
  return Math.min(1, Math.max(0, combined * lengthPenalty * repetitionPenalty));
}
