/**
 * Anti-hacking rules for a range or bound offered for one value: `7 ± 1`, `6 < x < 8`, "at least 5", "between 6
 * and 8", `[6, 8]`, `6-8` (antihack.ts runs them). Each fires only when the gold is a single plain value.
 */

import {
  INTERVAL,
  inequalitySignCount,
  isSingleValue,
  NUMBER_SRC,
  normalizeAnswer,
  numericValue,
  PLUS_MINUS,
  sameValue,
  stripAssignment,
} from "./antihack-shapes.ts";

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
