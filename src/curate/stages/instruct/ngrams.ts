/**
 * Word n-grams for contamination checks (the GPT-3 / Llama reports' 13-gram overlap): text is NFKC-folded, lower
 * cased and split into words (runs of letters, digits and marks; each CJK character is a word of its own, since
 * those scripts write no spaces); a gram is keyed by a 52-bit hash of its words, so a large benchmark's index stays
 * numbers rather than strings.
 */
import { createHash } from "node:crypto";

// A CJK character alone, or a run of other letters/digits/marks.
const CJK = "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}";
const WORD = new RegExp(`[${CJK}]|(?:(?![${CJK}])[\\p{L}\\p{N}\\p{M}])+`, "gu");

/**
 * The normalised words of a text.
 * @example normalizedWords("What's the AREA of ΔABC?") // ["what", "s", "the", "area", "of", "δabc"]
 * @example normalizedWords("图中有几个苹果") // ["图", "中", "有", "几", "个", "苹", "果"]
 */
export function normalizedWords(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(WORD) ?? [];
}

/**
 * The key of the words `words[start .. start+n)`: the first 52 bits of their SHA-1 (exact as a JS number; at a
 * million grams a side, a chance collision is about 1 in 5,000).
 */
export function gramKey(words: readonly string[], start: number, n: number): number {
  const digest = createHash("sha1")
    .update(words.slice(start, start + n).join(" "))
    .digest("hex");
  return Number.parseInt(digest.slice(0, 13), 16);
}

/**
 * Every n-gram key of a word list, with where it starts (none when the list is shorter than n).
 * @example wordGrams(["a", "b", "c"], 2).length // 2
 */
export function wordGrams(words: readonly string[], n: number): { key: number; start: number }[] {
  const grams: { key: number; start: number }[] = [];
  for (let i = 0; i + n <= words.length; i++) grams.push({ key: gramKey(words, i, n), start: i });
  return grams;
}
