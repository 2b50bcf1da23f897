/**
 * Math verifier: the intended official rule (relative tolerance 1e-6, gold second) plus the equivalences the
 * official judge prompt asks of its LLM, decided in code: fractions, LaTeX forms, π, √, sets, intervals,
 * tuples, matrices, equations, inequalities, units, percent, degrees and multiple-choice letters.
 * The official numeric path never runs (sympify strict=True refuses strings), so there every non-identical
 * pair goes to an LLM or scores 0; here the rules decide.
 */
import { answersEquivalent, type EquivalenceOptions } from "../equivalence.ts";
import { numberRule } from "../math-forms/precision.ts";
import type { Verifier, VerifyContext, VerifyResult } from "../types.ts";
import { resolveChoice } from "./choice.ts";

/** Relative tolerance of the math verifier (`sympy_tolerance` in the official config). */
export const MATH_TOLERANCE = 1e-6;

const LETTERS = "ABCDEFGHIJ";
const GOLD_LETTER = /^\s*\(?\s*([A-J])\s*\)?\s*$/;

/** The option texts as a letter → text map. */
function optionMap(options: VerifyContext["options"]): Map<string, string> {
  if (!options) return new Map();
  if (Array.isArray(options)) return new Map(options.map((text, i) => [LETTERS[i] ?? "?", text]));
  return new Map(
    Object.entries(options).map(([k, v]) => [
      k
        .trim()
        .replace(/[().\s]/g, "")
        .toUpperCase(),
      v,
    ]),
  );
}

/**
 * Multiple choice: the letter the gold names, and the one the prediction designates (by letter, by option
 * text, or by a value equivalent to exactly one option's text). Null when the item is not a choice item.
 */
function judgeChoice(
  pred: string,
  gold: string,
  ctx: VerifyContext,
  opts: EquivalenceOptions,
): VerifyResult | null {
  const options = optionMap(ctx.options);
  const goldLetterMatch = GOLD_LETTER.exec(gold);
  if (options.size === 0 && !goldLetterMatch) return null;
  const goldLetter = goldLetterMatch?.[1] ?? resolveChoice(gold, ctx.options);
  if (!goldLetter) return null;
  let predLetter = resolveChoice(pred, ctx.options);
  if (!predLetter && options.size > 0) {
    const hits = [...options].filter(([, text]) => answersEquivalent(pred, text, opts).equal).map(([l]) => l);
    if (hits.length === 1) predLetter = hits[0]!;
  }
  if (predLetter) {
    const correct = predLetter === goldLetter;
    return {
      score: correct ? 1 : 0,
      correct,
      reason: correct ? `choice ${goldLetter}` : `choice ${predLetter} ≠ ${goldLetter}`,
    };
  }
  return { score: 0, correct: false, reason: "choice: prediction designates no single option" };
}

/**
 * Shared body of the math, physics and chemistry verifiers: choice items by letter, everything else through
 * `answersEquivalent` with the domain's tolerance. Never throws.
 */
export function verifyWithTolerance(
  pred: string,
  gold: string,
  ctx: VerifyContext,
  domainOpts: EquivalenceOptions,
): VerifyResult {
  // An item's own precision (decimal places, significant figures, a tolerance) replaces the domain's number rule.
  const opts =
    ctx.precision == null ? domainOpts : { ...domainOpts, close: numberRule(ctx.precision, domainOpts.tol) };
  try {
    if (pred.trim().length === 0) return { score: 0, correct: false, reason: "empty_prediction" };
    const choice = judgeChoice(pred, gold, ctx, opts);
    if (choice) return choice;
    const verdict = answersEquivalent(pred, gold, opts);
    return { score: verdict.equal ? 1 : 0, correct: verdict.equal, reason: verdict.reason };
  } catch (err) {
    return { score: 0, correct: false, reason: `error: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Math verifier (relative tolerance 1e-6).
 * @example verifyMath("\\frac{3}{2}", "1.5", {}) // { score: 1, correct: true, reason: "numeric" }
 */
export const verifyMath: Verifier = (pred, gold, ctx) =>
  verifyWithTolerance(pred, gold, ctx, { tol: MATH_TOLERANCE });
