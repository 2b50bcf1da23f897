/**
 * Short-answer text verifier (VQA, geography, MMSI-style answers): normalised exact match, order-free lists,
 * numbers compared as numbers, and option letters when the item has options.
 *
 * Normalisation (see `normalizeText`): case, punctuation, articles, whitespace, full-width forms, number words ↔
 * digits, yes/true/T. From the release's MMSI verifier: `°` is dropped and a `%` makes a decimal (`50%` = `0.5`),
 * and numbers compare by value (`2` = `2.0`). glmv does not adopt MMSI's 0.9 relative tolerance (1 vs 10 would
 * pass); numbers must agree to 1e-6 relative.
 */
import { parsePlainNumber, relClose } from "../numbers.ts";
import { matchText } from "../text-normalize.ts";
import type { Verifier } from "../types.ts";
import { resolveChoice } from "./choice.ts";

/** Relative tolerance for numeric answers: float noise, not estimation error. */
const TEXT_NUMBER_TOLERANCE = 1e-6;

/** A number as the MMSI verifier reads it: degree signs removed, `%` as a decimal, otherwise a plain number. */
function readPlainAnswer(text: string): number | null {
  const s = text
    .normalize("NFKC")
    .replace(/°|\^\s*\{?\\circ\}?/g, "")
    .trim();
  return parsePlainNumber(s)?.value ?? null;
}

/**
 * Compare a short answer with the gold text.
 * @example verifyText("blue and red", "Red, Blue", {}).correct // true
 */
export const verifyText: Verifier = (pred, gold, ctx) => {
  if (gold.trim().length === 0) return { score: 0, correct: false, reason: "gold is empty" };
  if (pred.trim().length === 0) return { score: 0, correct: false, reason: "prediction is empty" };
  const how = matchText(pred, gold);
  if (how) return { score: 1, correct: true, reason: `text matches (${how})` };
  const g = readPlainAnswer(gold);
  const p = readPlainAnswer(pred);
  if (g !== null && p !== null) {
    const same = p === g || relClose(p, g, TEXT_NUMBER_TOLERANCE);
    return same
      ? { score: 1, correct: true, reason: "numbers are equal" }
      : { score: 0, correct: false, reason: `numbers differ (${p} vs ${g})` };
  }
  if (ctx.options) {
    const letter = resolveChoice(pred, ctx.options);
    if (letter !== null && letter === resolveChoice(gold, ctx.options))
      return { score: 1, correct: true, reason: `option ${letter} matches` };
  }
  return { score: 0, correct: false, reason: "text differs" };
};
