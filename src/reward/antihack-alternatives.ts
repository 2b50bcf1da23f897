/**
 * Anti-hacking rules for several answers offered for one: option letters ("A and C"), hedged alternatives
 * ("7 or 8", "7/8"), lists of values ("3, 4, 5") and free-text hedges ("red or blue") (antihack.ts runs them).
 */

import type { Domain } from "../model/domains.ts";
import {
  goldOptionLetter,
  HEDGE_WORDS,
  isSingleValue,
  normalizeAnswer,
  numericValue,
  optionLetters,
  sameValue,
  splitTopLevel,
  stripAssignment,
} from "./antihack-shapes.ts";
import { parsePlainNumber } from "./numbers.ts";

const ALTERNATIVE_SEP = /\s+or\s+|\(\s*or\s+|\bor\s*\(|或者|或/i;
const LIST_SEP = /^(?:,|;|、|\n| and |&|和|及|与)/i;
const EITHER = /\beither\b.*\bor\b|\bwhichever\b/i;
const YES = /^(?:yes|true|correct|right|t|y|是|对|正确)$/i;
const NO = /^(?:no|false|incorrect|wrong|f|n|否|错|错误|不是|不对)$/i;

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
  // A typeset matrix's `&` separates columns, not alternatives; the verifier decides (a vmatrix is one number).
  if (p.includes("\\begin{")) return false;
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
