/**
 * Normalised exact text matching shared by the text, chart and choice-like verifiers.
 * The rule is "same words after removing what never carries meaning in a short answer": case, punctuation,
 * articles, whitespace, full-width forms, number words vs digits, yes/true/T. Lists compare order-free.
 */
import { parseNumberWords } from "./numbers.ts";

/** Answers that mean yes / no ("T", "True", "Yes", "是", "对"). Compared after lower-casing and punctuation removal. */
const YES = new Set(["yes", "y", "true", "t", "correct", "right", "是", "是的", "对", "对的", "正确"]);
const NO = new Set([
  "no",
  "n",
  "false",
  "f",
  "incorrect",
  "wrong",
  "否",
  "不是",
  "不对",
  "错",
  "错误",
  "不正确",
]);

const ARTICLES = new Set(["a", "an", "the"]);

/** English number words that may be part of a run ("twenty one", "one hundred and five"). */
const NUMBER_WORD =
  /^(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand)$/;

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/;
const CJK_SPACE =
  /(?<=[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]) | (?=[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff])/g;

/** Replace runs of English number words by digits ("twenty one apples" → "21 apples"); unparseable runs stay. */
function numberWordsToDigits(tokens: string[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    if (!NUMBER_WORD.test(tokens[i]!)) {
      out.push(tokens[i]!);
      i++;
      continue;
    }
    let j = i + 1;
    while (
      j < tokens.length &&
      (NUMBER_WORD.test(tokens[j]!) ||
        (tokens[j] === "and" &&
          /^(hundred|thousand)$/.test(tokens[j - 1]!) &&
          NUMBER_WORD.test(tokens[j + 1] ?? "")))
    )
      j++;
    const value = parseNumberWords(tokens.slice(i, j).join(" "));
    if (value === null) out.push(...tokens.slice(i, j));
    else out.push(String(value));
    i = j;
  }
  return out;
}

/**
 * The canonical form of a short answer: NFKC (full-width → ASCII), lower case, `&` → "and", punctuation (but
 * `%`) and degree signs removed, dots and apostrophes inside words dropped ("U.S.A." → "usa") (a decimal point, a thousands comma inside a number and a leading minus are kept as
 * numbers: "1,000" → "1000"), articles dropped, number words → digits, whitespace collapsed (and removed next to
 * CJK characters), yes/true/T → "yes", no/false/F → "no".
 * @example normalizeText("The  Red Car!") // "red car"
 */
export function normalizeText(text: string): string {
  let s = text.normalize("NFKC").toLowerCase();
  s = s
    .replace(/&/g, " and ")
    .replace(/\s+%/g, "%")
    .replace(/(\d),(?=\d{3}(?!\d))/g, "$1") // thousands separators
    .replace(/(^|[^\d])-(?=\d)/g, "$1\u0000") // a minus sign in front of a number survives punctuation removal
    .replace(/(\d)\.(?=\d)/g, "$1\u0001") // so does a decimal point
    .replace(/(?<=\p{L})[.'’](?=\p{L})/gu, "") // "U.S.A." → "usa", "don't" → "dont"
    .replace(/[^\P{P}%]+|°+/gu, " ")
    .replace(/\u0000/g, "-")
    .replace(/\u0001/g, ".");
  let tokens = s.split(/\s+/).filter((t) => t.length > 0 && !ARTICLES.has(t));
  tokens = numberWordsToDigits(tokens);
  let joined = tokens.join(" ");
  // Chinese and Japanese are written without spaces: a space next to one of their characters is noise.
  if (CJK.test(joined)) joined = joined.replace(CJK_SPACE, "");
  const zh = /^[零〇一二两三四五六七八九十百千]+$/.test(joined) ? parseNumberWords(joined) : null;
  if (zh !== null) return String(zh);
  if (YES.has(joined)) return "yes";
  if (NO.has(joined)) return "no";
  return joined;
}

/** Separators of an answer list: commas (not thousands commas), semicolons, "、", "and", "&". */
const LIST_SEPARATOR = /\s*(?:[;；、，]|,(?!\d{3}(?!\d))|\band\b|&)\s*/i;

/**
 * The items of a list answer ("red, blue", "blue and red", "长江、黄河"), each normalised, or null when the answer
 * has fewer than two items.
 * @example splitList("Red, blue, and green") // ["red", "blue", "green"]
 */
export function splitList(text: string): string[] | null {
  const items = text
    .normalize("NFKC")
    .split(LIST_SEPARATOR)
    .map(normalizeText)
    .filter((t) => t.length > 0);
  return items.length >= 2 ? items : null;
}

/** How two answers matched, or null when they do not. */
export type TextMatch = "exact" | "normalized" | "list";

/**
 * Normalised exact match: identical strings, equal canonical forms (`normalizeText`), or the same list items in
 * any order (as a multiset: "red, red" ≠ "red").
 * @example matchText("blue and red", "Red, Blue") // "list"
 */
export function matchText(pred: string, gold: string): TextMatch | null {
  if (pred === gold && pred.trim().length > 0) return "exact";
  const p = normalizeText(pred);
  if (p.length > 0 && p === normalizeText(gold)) return "normalized";
  const pl = splitList(pred);
  const gl = splitList(gold);
  if (!pl || !gl || pl.length !== gl.length) return null;
  pl.sort();
  gl.sort();
  return pl.every((item, i) => item === gl[i]) ? "list" : null;
}
