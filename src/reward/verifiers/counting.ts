/**
 * Counting verifier: both sides must read as one whole count (digits or English/Chinese number words, see
 * `parseCount`), and the counts must be equal.
 *
 * Where glmv decides differently from the release (whose non-digit cases go to an LLM judge, 0 when offline):
 * - "1" vs "1.0" → 1: a decimal with a zero fraction is a whole count (glmv's intended rule);
 * - "5" vs "five" → 1: number words are read deterministically (the judge prompt says they count);
 * - ranges and several numbers ("2-3", "2 or 3", "三到四个") → 0: a hedge is not a count.
 */
import { parseCount } from "../numbers.ts";
import type { Verifier } from "../types.ts";

/** Lead-ins around a bare count: "There are 5", "Answer: 5", "共5个", "总共 5". */
const COUNT_LEAD_IN =
  /^(?:there\s+(?:are|is)\s+|(?:the\s+)?(?:answer|count|total)\s*(?:is|:|：)?\s*|(?:一共|总共|共)(?:有)?\s*|有\s*)/i;

/**
 * Compare two counts exactly.
 * @example verifyCounting("01", "1", {}) // { score: 1, correct: true, reason: "count 1 matches" }
 */
export const verifyCounting: Verifier = (pred, gold) => {
  const g = parseCount(gold);
  if (g === null) return { score: 0, correct: false, reason: "gold is not a single whole count" };
  const p = parseCount(pred.trim().replace(COUNT_LEAD_IN, ""));
  if (p === null) return { score: 0, correct: false, reason: "prediction is not a single whole count" };
  return p === g
    ? { score: 1, correct: true, reason: `count ${g} matches` }
    : { score: 0, correct: false, reason: `counted ${p}, gold ${g}` };
};
