/**
 * Chart verifier (ChartQA-style answers): numbers within 2.5% relative error (gold sets the scale), years exact,
 * percent forms reconciled, units and words around a number ignored; text answers by normalised exact match
 * (case, punctuation, articles, whitespace, yes/true/T, number words), option letters when options are given.
 *
 * Percent rule (glmv's, deterministic):
 * - both sides carry `%` (or neither) → the values are compared as written (`50%` = 0.5);
 * - exactly one side carries `%` → the bare side may be a fraction or percentage points: `0.5` and `50` both
 *   match `50%`;
 * - neither carries `%` but the question asks for a percent/percentage → the sides may also differ by a factor of
 *   100 (`0.5` matches `50`).
 * Year rule (the release's): two integer values with |v| in [1000, 3000] must be equal (2010 ≠ 2011).
 */
import { relClose, toAsciiDigits } from "../numbers.ts";
import { matchText, normalizeText, splitList } from "../text-normalize.ts";
import type { Verifier, VerifyContext } from "../types.ts";
import { resolveChoice } from "./choice.ts";

/** Relative tolerance of the chart config (`sympy_tolerance 2.5e-2`). */
export const CHART_TOLERANCE = 2.5e-2;

/** One number read out of a chart answer. `value` has `%` already divided out; `scale` is "million" etc. */
export type ChartNumber = { value: number; percent: boolean; scale: number };

/** A number not glued to a word before it ("COVID-19", "A4" are names, not numbers). */
const NUMBER_TOKEN =
  /(?<![\w.]|[a-z]-)[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?(?!\w*\d)|(?<![\w.])[-+]?\.\d+/gi;
const FRACTION = /^\\d?frac\{\s*([-+]?\d+(?:\.\d+)?)\s*\}\{\s*([-+]?\d+(?:\.\d+)?)\s*\}$/;
const SLASH_FRACTION = /^([-+]?\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/;

const SCALES: [RegExp, number][] = [
  [/\b(thousand|k)\b/i, 1e3],
  [/\b(million|mn|mio)\b/i, 1e6],
  [/\b(billion|bn)\b/i, 1e9],
  [/\btrillion\b/i, 1e12],
  [/万/, 1e4],
  [/亿/, 1e8],
];

/** Strip LaTeX dressing, currency and degree signs so only the number and its words remain. */
function stripDressing(text: string): string {
  return toAsciiDigits(text.normalize("NFKC"))
    .replace(/\\(?:text|mathrm|textbf|mathbf)\{([^{}]*)\}/g, "$1")
    .replace(/\\[,!;: ]|\\quad/g, "")
    .replace(/\\%/g, "%")
    .replace(/\^\s*\{?\\circ\}?|°/g, "")
    .replace(/\\(?:left|right)/g, "")
    .replace(/[$€£¥₹]|\b(?:USD|EUR|GBP|RMB|CNY)\b/g, " ")
    .trim();
}

/**
 * The single number a chart answer states, with its percent sign and scale word ("$1.2 million", "45%",
 * "\\frac{900}{20}", "about 3,500 people", "five percent"); null when it states none or several ("2010-2011").
 * @example readChartNumber("12.5 %") // { value: 0.125, percent: true, scale: 1 }
 */
export function readChartNumber(text: string): ChartNumber | null {
  const s = stripDressing(text);
  if (s.length === 0 || s.length > 120) return null;
  const frac = FRACTION.exec(s) ?? SLASH_FRACTION.exec(s);
  if (frac) {
    const den = Number(frac[2]);
    return den === 0 ? null : { value: Number(frac[1]) / den, percent: false, scale: 1 };
  }
  let body = s;
  let tokens = body.match(NUMBER_TOKEN);
  if (!tokens) {
    // Number words: "five percent", "twenty-one".
    body = normalizeText(s);
    tokens = body.match(NUMBER_TOKEN);
  }
  if (tokens?.length !== 1) return null;
  const token = tokens[0]!;
  const rest = body.replace(token, " ");
  if (/\d/.test(rest)) return null;
  const percent = /%|\bper\s?cent(age)?\b|\bpct\b|百分/i.test(rest);
  let value = Number(token.replace(/,/g, ""));
  if (!Number.isFinite(value)) return null;
  if (percent) value /= 100;
  const scale = SCALES.find(([re]) => re.test(rest))?.[1] ?? 1;
  return { value, percent, scale };
}

/** The release's closeness with its year rule: integers in [1000, 3000] compare exactly. */
function closeEnough(pred: number, gold: number): boolean {
  const isYear = (v: number) => Number.isInteger(v) && Math.abs(v) >= 1000 && Math.abs(v) <= 3000;
  if (isYear(pred) && isYear(gold)) return pred === gold;
  return pred === gold || relClose(pred, gold, CHART_TOLERANCE);
}

/** The values a number may stand for: as written, and times its scale word when it has one. */
function readings(n: ChartNumber): number[] {
  return n.scale === 1 ? [n.value] : [n.value, n.value * n.scale];
}

/**
 * Whether two chart numbers match under the percent rule (see the module comment) and the tolerance.
 * @example chartNumbersMatch(readChartNumber("0.5")!, readChartNumber("50%")!, false) // true
 */
export function chartNumbersMatch(pred: ChartNumber, gold: ChartNumber, percentQuestion: boolean): boolean {
  for (const p of readings(pred)) {
    for (const g of readings(gold)) {
      if (closeEnough(p, g)) return true;
      if (pred.percent && !gold.percent && closeEnough(p * 100, g)) return true;
      if (!pred.percent && gold.percent && closeEnough(p / 100, g)) return true;
      if (
        percentQuestion &&
        !pred.percent &&
        !gold.percent &&
        (closeEnough(p / 100, g) || closeEnough(p * 100, g))
      )
        return true;
    }
  }
  return false;
}

const PERCENT_QUESTION = /percent|percentage|%|百分/i;
/** Questions whose list answers are ordered ("difference between A and B"). */
const ORDERED_QUESTION = /difference|order|rank|sequence|差/i;

/** Numeric lists ("12, 15" vs "15, 12"): item by item, order-free unless the question makes order matter. */
function listsMatch(pred: string, gold: string, ctx: VerifyContext): boolean | null {
  const pl = splitList(pred)?.map(readChartNumber);
  const gl = splitList(gold)?.map(readChartNumber);
  if (!pl || !gl || pl.length !== gl.length || pl.some((n) => !n) || gl.some((n) => !n)) return null;
  const pct = PERCENT_QUESTION.test(ctx.question ?? "");
  const pairwise = (a: ChartNumber[], b: ChartNumber[]) =>
    a.every((n, i) => chartNumbersMatch(n, b[i]!, pct));
  const p = pl as ChartNumber[];
  const g = gl as ChartNumber[];
  if (pairwise(p, g)) return true;
  if (ORDERED_QUESTION.test(ctx.question ?? "")) return false;
  const byValue = (a: ChartNumber, b: ChartNumber) => a.value - b.value;
  return pairwise([...p].sort(byValue), [...g].sort(byValue));
}

function sameOrder(pred: string, gold: string): boolean {
  const p = splitList(pred) ?? [];
  const g = splitList(gold) ?? [];
  return p.length === g.length && p.every((item, i) => item === g[i]);
}

/**
 * Chart verifier: text match, option letter, single number, or numeric list, in that order.
 * @example verifyChart("102", "100", {}).correct // true (2% off)
 */
export const verifyChart: Verifier = (pred, gold, ctx) => {
  if (gold.trim().length === 0) return { score: 0, correct: false, reason: "gold is empty" };
  if (pred.trim().length === 0) return { score: 0, correct: false, reason: "prediction is empty" };
  const ordered = ORDERED_QUESTION.test(ctx.question ?? "");
  const how = matchText(pred, gold);
  // An order-free list match does not count where the question makes order matter ("difference of A and B").
  if (how && !(how === "list" && ordered && !sameOrder(pred, gold)))
    return { score: 1, correct: true, reason: `text matches (${how})` };
  if (ctx.options) {
    const p = resolveChoice(pred, ctx.options);
    if (p !== null && p === resolveChoice(gold, ctx.options))
      return { score: 1, correct: true, reason: `option ${p} matches` };
  }
  const g = readChartNumber(gold);
  const p = readChartNumber(pred);
  if (g && p) {
    return chartNumbersMatch(p, g, PERCENT_QUESTION.test(ctx.question ?? ""))
      ? { score: 1, correct: true, reason: "numbers match within 2.5%" }
      : { score: 0, correct: false, reason: `numbers differ (${p.value} vs ${g.value})` };
  }
  if (g) return { score: 0, correct: false, reason: "gold is a number, prediction is not a single number" };
  const lists = listsMatch(pred, gold, ctx);
  if (lists !== null)
    return lists
      ? { score: 1, correct: true, reason: "number lists match" }
      : { score: 0, correct: false, reason: "number lists differ" };
  return { score: 0, correct: false, reason: "text differs" };
};
