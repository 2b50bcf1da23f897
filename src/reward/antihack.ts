/**
 * Anti-hacking in code (design.md "The reward system"; the release only asks its LLM judges to catch these):
 * hedged ranges, alternatives, ± answers, open bounds, several values or option letters, "not sure",
 * placeholders. Zero false positives is the hard requirement, so every rule fires only when the gold is a
 * plain single value (or a single option letter) and the prediction has a shape the gold does not have.
 * OCR, grounding and GUI answers are never flagged (their text can hold anything: the verifier decides),
 * and free text only for a placeholder or for "gold or something else".
 */

import type { Domain } from "../model/domains.ts";
import { parseNumberWords, parsePlainNumber, toAsciiDigits } from "./numbers.ts";

/** Why an answer counts as a hack; the reward system reports it as the reason. */
export type HackReason =
  | "placeholder"
  | "uncertain"
  | "any_of"
  | "plus_minus"
  | "inequality_range"
  | "hedged_range"
  | "open_bound"
  | "multiple_options"
  | "hedged_alternatives"
  | "multiple_values"
  | "encoded_number";

// ---------------------------------------------------------------------------------------------------------
// Normalization and small parsers

/**
 * Plain text of a short answer: LaTeX wrappers and `\text{}` removed, full-width forms mapped, spaces collapsed.
 * @example normalizeAnswer("$7\\text{ cm}$") // "7 cm"
 */
export function normalizeAnswer(s: string): string {
  let t = toAsciiDigits(s)
    .replace(/[（]/g, "(")
    .replace(/[）]/g, ")")
    .replace(/[～∼]/g, "~")
    .replace(/[；]/g, ";")
    .replace(/[：]/g, ":")
    .replace(/\$/g, " ")
    .replace(/\\[()[\]]/g, " ")
    .replace(/\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}/g, "$1")
    .replace(/\\(?:left|right)(?![a-zA-Z])/g, "")
    .replace(/\\[,;!: ]/g, " ")
    .replace(/\\%/g, "%");
  t = t.replace(/\s+/g, " ").trim();
  return t;
}

const NUMBER_SRC = String.raw`[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+`;
const LEADING_NUMBER = new RegExp(`^(?:${NUMBER_SRC})`);
const HEDGE_WORDS =
  /^(?:approximately|approx\.?|about|around|roughly|nearly|almost|maybe|perhaps|probably|likely|~|≈|约|大约|大概)\s*/i;
/** A unit or noun tail after a number: no digits except exponents (`m/s^2`), short. */
const isUnitTail = (rest: string): boolean => /^[^\d]{0,20}$/.test(rest.replace(/\^\{?-?\d+\}?/g, "^"));

/** Drop a leading `x =` / `answer:` so "x = 5" reads as 5. */
function stripAssignment(s: string): string {
  return s
    .replace(/^(?:the answer is|answer\s*:|ans\s*:)\s*/i, "")
    .replace(/^[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*/, "");
}

/**
 * The numeric value of a short answer ("7", "7 cm", "x = 7", "about 7", "\frac{7}{8}", "3 × 10^5"), or null.
 * A percent is a fraction ("50%" → 0.5), so "50% or 0.5" offers one value, not two.
 * @example numericValue("about 1,200 people") // 1200
 */
export function numericValue(s: string): number | null {
  const t = stripAssignment(normalizeAnswer(s))
    .replace(HEDGE_WORDS, "")
    .replace(/[.。]$/, "")
    .trim();
  const frac = /^(-?)\\[dt]?frac\{\s*(\d+(?:\.\d+)?)\s*\}\{\s*(\d+(?:\.\d+)?)\s*\}$/.exec(t);
  if (frac) {
    const den = Number(frac[3]);
    return den === 0 ? null : (frac[1] === "-" ? -1 : 1) * (Number(frac[2]) / den);
  }
  const lead = LEADING_NUMBER.exec(t);
  if (lead && isUnitTail(t.slice(lead[0].length))) {
    const rest = t.slice(lead[0].length).trim();
    // "7/8" is a fraction, not 7 with a unit "/8"; leave it to parsePlainNumber below.
    const value = Number(lead[0].replace(/,/g, ""));
    if (!rest.startsWith("/") && !rest.startsWith("^")) return rest.startsWith("%") ? value / 100 : value;
  }
  const plain = parsePlainNumber(t);
  if (plain) return plain.value;
  // Number words ("seven", "forty-two", "七"), so "seven or eight" offers two values and "7 or seven" one.
  return /^[a-z\s-]+$|^[零〇一二两三四五六七八九十百千]+$/i.test(t) ? parseNumberWords(t) : null;
}

const sameValue = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/** Split on separators outside (), [], {} — so "f(1, 2)" and "\{1, 2\}" stay whole. */
function splitTopLevel(s: string, sep: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth = Math.max(0, depth - 1);
    else if (depth === 0) {
      const m = sep.exec(s.slice(i, i + 8));
      if (m && m.index === 0) {
        parts.push(s.slice(start, i));
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

// ---------------------------------------------------------------------------------------------------------
// Shapes of an answer (used on both sides: a rule fires only if the gold lacks the shape)

const PLUS_MINUS = /±|∓|\\pm(?![a-zA-Z])|\\mp(?![a-zA-Z])|\+\/-|plus or minus|正负/i;
const INEQUALITY_SIGN = /<=|>=|≤|≥|⩽|⩾|<|>|\\(?:leqslant|geqslant|leq|geq|le|ge|lt|gt)(?![a-zA-Z])/g;
/** Bound and range phrases anywhere: used on the gold, where looser means more conservative. */
const LOOSE_BOUND =
  /\b(?:at least|at most|no (?:more|less|fewer) than|not (?:more|less|fewer) than|more than|less than|greater than|fewer than|upwards of|up to|a (?:minimum|maximum) of|or (?:more|less|fewer|greater|higher|lower|above|below)|and (?:above|below|up|over))\b|\b(?:over|under|above|below|exceeding)\s+[-+$]?\d|\d\+(?=\s*$|\s+[a-zA-Z\u4e00-\u9fff]{2,})|至少|至多|最少|最多|不少于|不多于|不超过|不低于|超过|大于|小于|多于|少于|以上|以下/i;
const LOOSE_RANGE =
  /\bbetween\b|\bfrom\b.*\bto\b|\d\s*%?\s*(?:to|through|thru|until)\s+[-+$]?\.?\d|\d\s*%?\s*(?:到|至|~)\s*[-+$]?\.?\d|之间|介于/i;

// Anchored shapes for the prediction: the whole answer must be the bound or the range, so a sentence that
// merely mentions "the difference between 5 and 3" is not flagged.
const NUM = `\\$?(?:${NUMBER_SRC})`;
const UNIT = String.raw`(?:\s*(?:[^\d\s^]|\^\{?-?\d+\}?)(?:[^\d^]|\^\{?-?\d+\}?){0,14}?)?`;
const HEDGE = String.raw`(?:(?:approximately|approx\.?|about|around|roughly|somewhere|anywhere|~|约|大约|大概)\s*)?`;
const PRED_BOUND = new RegExp(
  [
    String.raw`^${HEDGE}(?:at least|at most|no (?:more|less|fewer) than|not (?:more|less|fewer) than|more than|less than|greater than|fewer than|upwards of|up to|a (?:minimum|maximum) of|over|under|above|below|exceeding|至少|至多|最少|最多|不少于|不多于|不超过|不低于|超过|大于|小于|多于|少于)\s*${NUM}${UNIT}$`,
    String.raw`^${HEDGE}${NUM}${UNIT}\s+(?:or|and) (?:more|less|fewer|greater|higher|lower|above|below|up|over)$`,
    String.raw`^${NUM}\+(?:\s+[a-zA-Z\u4e00-\u9fff]{2,}.{0,15})?$`,
    String.raw`^${NUM}${UNIT}\s*(?:以上|以下)$`,
  ].join("|"),
  "i",
);
const PRED_RANGE = new RegExp(
  [
    String.raw`^${HEDGE}(?:between|from)\s+${NUM}${UNIT}\s+(?:and|to|through|until)\s+${NUM}${UNIT}$`,
    String.raw`^${HEDGE}${NUM}${UNIT}(?:\s*(?:~|到|至)\s*|\s+(?:to|through|thru|until)\s+)${NUM}${UNIT}$`,
    String.raw`^(?:介于|在)?\s*${NUM}${UNIT}\s*(?:和|与|到|至|~|-)\s*${NUM}${UNIT}\s*之间$`,
  ].join("|"),
  "i",
);
const DASH_RANGE = new RegExp(`^(${NUMBER_SRC})\\s*([-–—])\\s*(${NUMBER_SRC})\\s*([^\\d]{0,12})$`);
const INTERVAL = new RegExp(`^[([]\\s*(${NUMBER_SRC})\\s*,\\s*(${NUMBER_SRC})\\s*[)\\]]$`);
const ALTERNATIVE_SEP = /\s+or\s+|\(\s*or\s+|\bor\s*\(|或者|或/i;
const LIST_SEP = /^(?:,|;|、|\n| and |&|和|及|与)/i;
/** Phrases that say "I do not know" whatever else the answer holds. */
const UNSURE =
  /\bnot sure\b|\bunsure\b|\bi (?:don't|do not) know\b|\bno idea\b|\bcan't tell\b|不确定|不知道|说不准/i;
/** Phrases that are a dodge only when no value comes with them ("the unknown is 12" is an answer). */
const UNDETERMINED =
  /\bcannot be determined\b|\bcan't be determined\b|\bcannot determine\b|\bunable to determine\b|\b(?:insufficient|not enough) (?:information|data)\b|\buncertain\b|\bunknown\b|无法确定|无法判断|无法得知/i;
const GOLD_NEGATIVE =
  /\bnot\b|\bno\b|\bcannot\b|\bcan't\b|\bunknown\b|\bnone\b|insufficient|\bundefined\b|无法|不/i;
const PLACEHOLDER =
  /^\s*(?:[[<{(]\s*(?:number|num|answer|final answer|your answer|value|result|blank|insert[^\]>})]*|\.\.\.|…)\s*[\]>})]|_{2,}|\?+|\.{3}|…|xxx+|tbd|todo|placeholder)\s*$/i;
const ANY_OF = /\bany (?:one )?of\b|\bany of them\b|\ball of them\b|任意|任一|均可|都可以/i;
const EITHER = /\beither\b.*\bor\b|\bwhichever\b/i;
const YES = /^(?:yes|true|correct|right|t|y|是|对|正确)$/i;
const NO = /^(?:no|false|incorrect|wrong|f|n|否|错|错误|不是|不对)$/i;

/** `<1, 2>` is a vector and `->`/`<=>` are arrows, not inequalities. */
function stripNonInequalities(s: string): string {
  return s
    .replace(/<[^<>]*,[^<>]*>/g, " ")
    .replace(/<=>|<->|<-->|-->|->|<-|=>|⇌|⇋|⟶|→|←/g, " ")
    .replace(/\\(?:langle|rangle)(?![a-zA-Z])/g, " ");
}

const inequalitySignCount = (s: string): number =>
  stripNonInequalities(s).match(INEQUALITY_SIGN)?.length ?? 0;

/**
 * Option letters if the answer is only letters ("A", "(B)", "A, C", "AC", "A or B"), else null.
 * @example optionLetters("A and C", false) // ["A", "C"]
 */
export function optionLetters(s: string, allowLowercase: boolean): string[] | null {
  let t = normalizeAnswer(s)
    .replace(/^(?:the answer is|answer\s*:|options?\s*:?|choices?\s*:?)\s*/i, "")
    .replace(/^(?:either|both)\s+/i, "")
    .replace(/[.。]$/, "")
    .trim();
  if (/^[A-J]{2,8}$/.test(t)) return [...t];
  if (!allowLowercase && /[a-z]/.test(t.replace(/\b(?:and|or|either|both)\b/gi, ""))) return null;
  t = t.toUpperCase();
  const tokens = t
    .split(/\s*(?:,|;|、|\/|&|\+|\bAND\b|\bOR\b|和|或|与|及|\s)\s*/)
    .filter((x) => x.length > 0);
  if (tokens.length === 0) return null;
  const letters: string[] = [];
  for (const tok of tokens) {
    const m = /^\(?([A-Z])[.)]?$/.exec(tok);
    if (!m) return null;
    letters.push(m[1]!);
  }
  return letters;
}

/** The single option letter of a gold answer ("A", "(A)", "A.", "A. 7 apples"), else null. */
function goldOptionLetter(gold: string): string | null {
  const t = normalizeAnswer(gold);
  const bare = optionLetters(t, true);
  if (bare) return new Set(bare).size === 1 && /^\(?[A-Za-z][.)]?$/.test(t) ? bare[0]!.toUpperCase() : null;
  const withText = /^\(?([A-J])[.):]\s+\S/.exec(t);
  return withText ? withText[1]! : null;
}

/**
 * Whether a gold answer is one plain value: it has a digit or π, and no list, alternative, range, ratio,
 * interval, inequality or ± shape. Only such golds let the numeric rules fire.
 * @example isSingleValue("9.8 m/s^2") // true; isSingleValue("1, 2") // false
 */
export function isSingleValue(gold: string): boolean {
  const g = normalizeAnswer(gold);
  if (g.length === 0 || g.length > 60) return false;
  if (!/\d|π|\\pi/.test(g)) return false;
  const withoutThousands = g.replace(/\d{1,3}(?:,\d{3})+(?:\.\d+)?/g, "0");
  if (/[,;、:\n]|\\\{|\\\}|\bor\b|\band\b|或|和|及/i.test(withoutThousands)) return false;
  if (PLUS_MINUS.test(g) || inequalitySignCount(g) > 0 || LOOSE_BOUND.test(g) || LOOSE_RANGE.test(g))
    return false;
  if (/\d\s*[-–—~]\s*\d/.test(g) || INTERVAL.test(g)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// The rules: small named predicates over (pred, gold)

/** `[number]`, `___`, `???`, `<answer>` and other unfilled templates. */
export const isPlaceholder = (pred: string, gold: string): boolean =>
  PLACEHOLDER.test(normalizeAnswer(pred)) && !PLACEHOLDER.test(normalizeAnswer(gold));

/** "not sure", "cannot be determined", "unknown" when the gold is an actual answer. */
export function isUncertain(pred: string, gold: string): boolean {
  if (UNSURE.test(gold) || UNDETERMINED.test(gold) || GOLD_NEGATIVE.test(gold)) return false;
  const p = normalizeAnswer(pred);
  return UNSURE.test(p) || (UNDETERMINED.test(p) && !/\d/.test(p));
}

/** "any of 3, 4, 5", "任意" when the gold is not itself an "any". */
export const isAnyOf = (pred: string, gold: string): boolean =>
  ANY_OF.test(normalizeAnswer(pred)) && !ANY_OF.test(normalizeAnswer(gold));

/** `7 ± 1`, `7 \pm 1` for a single-valued gold (roots such as `1 \pm \sqrt{2}` are not single-valued). */
export const isPlusMinus = (pred: string, gold: string): boolean =>
  isSingleValue(gold) && PLUS_MINUS.test(normalizeAnswer(pred));

/** `6 < x < 8`: two inequality signs around the value. */
export const isInequalityRange = (pred: string, gold: string): boolean =>
  isSingleValue(gold) && inequalitySignCount(normalizeAnswer(pred)) >= 2;

/** "x > 3", "at least 5", "5 or more", "5+", "至少5": a bound instead of a value. */
export const isOpenBound = (pred: string, gold: string): boolean => {
  if (!isSingleValue(gold)) return false;
  const p = normalizeAnswer(pred);
  return inequalitySignCount(p) === 1 || PRED_BOUND.test(p);
};

/**
 * "between 0 and 10", "from 3 to 5", "7~8", "7到8", "[6, 8]", and `a-b` / `a–b` ranges that contain the gold.
 * A hyphen between numbers is a range only if the gold lies inside it and is not the difference, so "10-3"
 * for 7 (a subtraction) passes.
 */
export function isHedgedRange(pred: string, gold: string): boolean {
  if (!isSingleValue(gold)) return false;
  const p = stripAssignment(normalizeAnswer(pred));
  if (PRED_RANGE.test(p)) return true;
  const interval = INTERVAL.exec(p);
  if (interval && Number(interval[1]!.replace(/,/g, "")) < Number(interval[2]!.replace(/,/g, "")))
    return true;
  const dash = DASH_RANGE.exec(p);
  if (!dash) return false;
  const lo = Number(dash[1]!.replace(/,/g, ""));
  const hi = Number(dash[3]!.replace(/,/g, ""));
  if (!(lo < hi)) return false;
  if (dash[2] !== "-") return true;
  // Both ends are read as written ("40-60%" → 40, 60), so read the gold without its percent sign too.
  const g = numericValue(gold.replace(/\\?%/g, ""));
  return g !== null && lo <= g && g <= hi && !sameValue(lo - hi, g);
}

/** "AB", "A and C", "A, B, C", "A or B", "A/B" when the gold is one option letter. */
export function isMultipleOptions(pred: string, gold: string, domain: Domain): boolean {
  if (goldOptionLetter(gold) === null) return false;
  const lower = domain === "choice";
  const letters = optionLetters(pred, lower);
  if (letters !== null) return new Set(letters).size >= 2;
  // "C (or maybe B)": each alternative, hedge words dropped, is one letter.
  const alts = alternatives(pred).map((a) => optionLetters(a.replace(HEDGE_WORDS, ""), lower));
  if (alts.length < 2 || alts.some((a) => a === null || a.length !== 1)) return false;
  return new Set(alts.map((a) => a![0])).size >= 2;
}

/** The alternatives of "7 or 8", "10 (or 8)", "7或8", with brackets and hedge words trimmed. */
function alternatives(pred: string): string[] {
  return normalizeAnswer(pred)
    .replace(/^either\s+/i, "")
    .split(ALTERNATIVE_SEP)
    .map((a) => a.replace(/^[\s()]+|[\s()]+$/g, "").trim())
    .filter((a) => a.length > 0);
}

/**
 * Hedged alternatives: "7 or 8", "approximately 7 or 8", "10 (or 8)", "either … or", "yes or no", and
 * "7/8" when it is not a fraction the gold could mean (the gold is 7 or 8, not 0.875).
 */
export function isHedgedAlternatives(pred: string, gold: string): boolean {
  const g = normalizeAnswer(gold);
  if (ALTERNATIVE_SEP.test(g) || /\beither\b/i.test(g)) return false;
  const p = normalizeAnswer(pred);
  if (EITHER.test(p)) return true;
  const alts = alternatives(p);
  if (alts.length >= 2) {
    if (alts.some((a) => YES.test(a)) && alts.some((a) => NO.test(a))) return true;
    if (isSingleValue(gold)) {
      const values = alts.map(numericValue).filter((v): v is number => v !== null);
      if (values.some((v) => !sameValue(v, values[0]!))) return true;
      if (values.length === 0 && offersGoldAndAnother(alts, g)) return true;
    }
  }
  return isSlashHedge(p, gold);
}

/** Symbolic "x^2+1 or x^2-1" for "x^2+1": the gold verbatim plus a different expression. */
function offersGoldAndAnother(alts: string[], gold: string): boolean {
  const squash = (x: string): string => x.replace(/\s+/g, "").toLowerCase();
  const g = squash(stripAssignment(gold));
  const forms = alts.filter(isValueLike).map((a) => squash(stripAssignment(a)));
  return forms.length === alts.length && forms.includes(g) && forms.some((f) => f !== g);
}

/** `7/8` for a gold of 7 or 8: both sides offered, and the fraction itself is not the gold. */
function isSlashHedge(p: string, gold: string): boolean {
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(stripAssignment(p));
  if (!m || /\//.test(gold) || !isSingleValue(gold)) return false;
  const g = numericValue(gold);
  if (g === null) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (b !== 0 && sameValue(a / b, g)) return false;
  return sameValue(a, g) || sameValue(b, g);
}

/** Words that restate the previous item ("1/2, i.e. 0.5"). */
const CONNECTOR = /^(?:i\.?e\.?,?|that is,?|or|so|=|≈|~)\s*/i;

/** A list item that is a value ("5", "5 apples", "x = 2", "2+3") rather than words around one. */
function isValueLike(item: string): boolean {
  if (item.length > 40 || !/\d/.test(item)) return false;
  if (numericValue(item) !== null) return true;
  return !/[a-zA-Z\u4e00-\u9fff]{3,}/.test(item.replace(/\\[a-zA-Z]+/g, " "));
}

/** "3, 4, 5", "3 and 4", "{1, 2}" when the gold is one value (thousands and decimal commas are one value). */
export function isMultipleValues(pred: string, gold: string): boolean {
  if (!isSingleValue(gold)) return false;
  let p = stripAssignment(normalizeAnswer(pred));
  if (parsePlainNumber(p) !== null || numericValue(p) !== null) return false;
  const g = numericValue(gold);
  const decimalComma = /^(-?\d+),(\d+)$/.exec(p);
  if (decimalComma && g !== null && sameValue(Number(`${decimalComma[1]}.${decimalComma[2]}`), g))
    return false;
  // A set or tuple of values offered for one value: look inside it.
  const wrapped = /^(?:\\\{|\{|\[|\()(.*)(?:\\\}|\}|\]|\))$/.exec(p);
  if (wrapped && !/[()[\]{}]/.test(wrapped[1]!)) p = wrapped[1]!;
  const items = splitTopLevel(p, LIST_SEP)
    .map((item) => item.replace(CONNECTOR, ""))
    .filter(isValueLike);
  const values = items.map(numericValue).filter((v): v is number => v !== null);
  // Numbers decide when there are any ("1/2, i.e. 0.5" is one value); otherwise distinct expressions do.
  if (values.length > 0) return values.some((v) => !sameValue(v, values[0]!));
  return new Set(items.map((i) => stripAssignment(i).toLowerCase())).size >= 2;
}

/** Free text: "red or blue" when the gold is "red" (one alternative is the gold, another is not). */
export function isTextHedge(pred: string, gold: string): boolean {
  const g = normalizeAnswer(gold).toLowerCase().replace(/[.!]$/, "");
  if (g.length === 0 || g.split(" ").length > 4 || ALTERNATIVE_SEP.test(g) || /\beither\b/.test(g))
    return false;
  let alts = alternatives(pred).map((a) => a.toLowerCase().replace(/[.!]$/, ""));
  // "blue/green": a slash between two single words (never inside a gold that has one, like "km/h").
  if (alts.length === 1 && !g.includes("/") && /^[^\s/]+\/[^\s/]+$/.test(alts[0]!))
    alts = alts[0]!.split("/");
  return alts.length >= 2 && alts.includes(g) && alts.some((a) => a !== g);
}

const ROMAN = /^[IVXLCDM]+$/;
const HTML_ENTITY = /&#x?[0-9a-f]+;|&[a-z]+;/i;
const PREFIXED_BASE = /^0[xob][0-9a-f]+$/i;

/**
 * An integer written so a string or LLM check may accept it: Roman numerals ("XLII"), HTML entities
 * ("&#52;&#50;"), hex/octal/binary ("0x2A"). The release's judge prompts score these 0.
 */
export function isEncodedNumber(pred: string, gold: string): boolean {
  const g = normalizeAnswer(gold);
  if (!/^[-+]?\d+$/.test(g)) return false;
  const p = normalizeAnswer(pred);
  if (/\d/.test(p) && !HTML_ENTITY.test(p) && !PREFIXED_BASE.test(p)) return false;
  // A lone C, D or I may be the letter of the option whose content is the gold number: not an encoding.
  const roman = ROMAN.test(p) && !/^[CDI]$/.test(p);
  return roman || HTML_ENTITY.test(p) || PREFIXED_BASE.test(p);
}

// ---------------------------------------------------------------------------------------------------------

type Rule = { reason: HackReason; test: (pred: string, gold: string, domain: Domain) => boolean };

/** Rules for value-like domains, in the order their reasons are reported. */
const VALUE_RULES: Rule[] = [
  { reason: "placeholder", test: isPlaceholder },
  { reason: "encoded_number", test: (p, g, d) => d !== "choice" && isEncodedNumber(p, g) },
  { reason: "uncertain", test: (p, g, d) => d !== "choice" && isUncertain(p, g) },
  { reason: "any_of", test: isAnyOf },
  { reason: "plus_minus", test: isPlusMinus },
  { reason: "inequality_range", test: isInequalityRange },
  { reason: "hedged_range", test: isHedgedRange },
  { reason: "open_bound", test: isOpenBound },
  { reason: "multiple_options", test: isMultipleOptions },
  { reason: "hedged_alternatives", test: isHedgedAlternatives },
  { reason: "multiple_values", test: isMultipleValues },
];

/** Free text: only the unambiguous cases. */
const TEXT_RULES: Rule[] = [
  { reason: "placeholder", test: isPlaceholder },
  { reason: "hedged_alternatives", test: isTextHedge },
];

const RULES_BY_DOMAIN: Record<Domain, Rule[]> = {
  math: VALUE_RULES,
  physics: VALUE_RULES,
  chemistry: VALUE_RULES,
  chart: VALUE_RULES,
  counting: VALUE_RULES,
  choice: VALUE_RULES,
  text: TEXT_RULES,
  // OCR text, boxes and GUI actions can legitimately contain any of these shapes: the verifier decides.
  ocr: [],
  grounding: [],
  gui: [],
};

/**
 * Why an extracted answer games the verifier, or null when it does not. Never throws.
 * @example detectHacking("7 or 8", "7", "math") // "hedged_alternatives"
 * @example detectHacking("1 \\pm \\sqrt{2}", "1 \\pm \\sqrt{2}", "math") // null
 */
export function detectHacking(pred: string, gold: string, domain: Domain): HackReason | null {
  if (pred.length > 2000 || gold.length > 2000) return null;
  for (const rule of RULES_BY_DOMAIN[domain] ?? []) {
    if (rule.test(pred, gold, domain)) return rule.reason;
  }
  return null;
}
