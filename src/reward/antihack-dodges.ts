/**
 * Anti-hacking rules for answers that dodge the question: an unfilled placeholder, "not sure" / "cannot be
 * determined", "any of them", and an integer in an encoding a string check may accept (antihack.ts runs them).
 */

import { normalizeAnswer } from "./antihack-shapes.ts";

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
