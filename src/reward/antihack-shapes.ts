/**
 * Reading a short answer for the anti-hacking rules (antihack.ts): plain text, its numeric value, its option
 * letters, and whether a gold is one plain value. The shape patterns here are used on both sides, so a rule fires
 * only when the gold lacks the shape the prediction has.
 */

import { parseNumberWords, parsePlainNumber, toAsciiDigits } from "./numbers.ts";

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
    // The negative thin space joins: MATH's `10,\!000` is one number, not "10, 000".
    .replace(/\\!/g, "")
    .replace(/\\[,;: ]/g, " ")
    .replace(/\\%/g, "%");
  t = t.replace(/\s+/g, " ").trim();
  return t;
}

export const NUMBER_SRC = String.raw`[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+`;
const LEADING_NUMBER = new RegExp(`^(?:${NUMBER_SRC})`);
export const HEDGE_WORDS =
  /^(?:approximately|approx\.?|about|around|roughly|nearly|almost|maybe|perhaps|probably|likely|~|≈|约|大约|大概)\s*/i;
/** A unit or noun tail after a number: no digits except exponents (`m/s^2`), short. */
const isUnitTail = (rest: string): boolean => /^[^\d]{0,20}$/.test(rest.replace(/\^\{?-?\d+\}?/g, "^"));

/** Drop a leading `x =` / `answer:` so "x = 5" reads as 5. */
export function stripAssignment(s: string): string {
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

export const sameValue = (a: number, b: number): boolean =>
  Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/** Split on separators outside (), [], {} — so "f(1, 2)" and "\{1, 2\}" stay whole. */
export function splitTopLevel(s: string, sep: RegExp): string[] {
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

export const PLUS_MINUS = /±|∓|\\pm(?![a-zA-Z])|\\mp(?![a-zA-Z])|\+\/-|plus or minus|正负/i;
const INEQUALITY_SIGN = /<=|>=|≤|≥|⩽|⩾|<|>|\\(?:leqslant|geqslant|leq|geq|le|ge|lt|gt)(?![a-zA-Z])/g;
/** Bound and range phrases anywhere: used on the gold, where looser means more conservative. */
const LOOSE_BOUND =
  /\b(?:at least|at most|no (?:more|less|fewer) than|not (?:more|less|fewer) than|more than|less than|greater than|fewer than|upwards of|up to|a (?:minimum|maximum) of|or (?:more|less|fewer|greater|higher|lower|above|below)|and (?:above|below|up|over))\b|\b(?:over|under|above|below|exceeding)\s+[-+$]?\d|\d\+(?=\s*$|\s+[a-zA-Z\u4e00-\u9fff]{2,})|至少|至多|最少|最多|不少于|不多于|不超过|不低于|超过|大于|小于|多于|少于|以上|以下/i;
const LOOSE_RANGE =
  /\bbetween\b|\bfrom\b.*\bto\b|\d\s*%?\s*(?:to|through|thru|until)\s+[-+$]?\.?\d|\d\s*%?\s*(?:到|至|~)\s*[-+$]?\.?\d|之间|介于/i;
export const INTERVAL = new RegExp(`^[([]\\s*(${NUMBER_SRC})\\s*,\\s*(${NUMBER_SRC})\\s*[)\\]]$`);

/** `<1, 2>` is a vector and `->`/`<=>` are arrows, not inequalities. */
function stripNonInequalities(s: string): string {
  return s
    .replace(/<[^<>]*,[^<>]*>/g, " ")
    .replace(/<=>|<->|<-->|-->|->|<-|=>|⇌|⇋|⟶|→|←/g, " ")
    .replace(/\\(?:langle|rangle)(?![a-zA-Z])/g, " ");
}

export const inequalitySignCount = (s: string): number =>
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
export function goldOptionLetter(gold: string): string | null {
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
