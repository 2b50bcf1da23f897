/**
 * Anti-hacking in code (design.md "The reward system"; the release only asks its LLM judges to catch these):
 * hedged ranges, alternatives, ± answers, open bounds, several values or option letters, "not sure",
 * placeholders. Zero false positives is the hard requirement, so every rule fires only when the gold is a
 * plain single value (or a single option letter) and the prediction has a shape the gold does not have.
 * OCR, grounding and GUI answers are never flagged (their text can hold anything: the verifier decides),
 * and free text only for a placeholder or for "gold or something else".
 * The rules live by family (antihack-dodges.ts, antihack-ranges.ts, antihack-alternatives.ts) over the answer
 * reading in antihack-shapes.ts; this file orders them per domain.
 */

import type { Domain } from "../model/domains.ts";
import {
  isHedgedAlternatives,
  isMultipleOptions,
  isMultipleValues,
  isTextHedge,
} from "./antihack-alternatives.ts";
import { isAnyOf, isEncodedNumber, isPlaceholder, isUncertain } from "./antihack-dodges.ts";
import { isHedgedRange, isInequalityRange, isOpenBound, isPlusMinus } from "./antihack-ranges.ts";

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
// The rules per domain, in the order their reasons are reported

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
