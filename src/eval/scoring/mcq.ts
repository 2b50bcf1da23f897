/**
 * Multiple-choice letters as lmms-eval scores AI2D (`lmms_eval/tasks/ai2d/utils.py` `MultiChoiceRegexFilter` and
 * the `exact_match` metric with `ignore_case` and `ignore_punctuation`, `lmms_eval/api/metrics.py`
 * `exact_match_hf_evaluate`): a response that starts with `X.` becomes the letter X; anything else is compared
 * whole, after lower-casing and deleting ASCII punctuation on both sides.
 */
import { PY_WS_CLASS } from "../python/text.ts";

/** `re.match(r"^\s*([A-Z])\.", resp)`: capital letter then a period, at the start (Python's `\s`). */
const LEADING_LETTER = new RegExp(`^${PY_WS_CLASS}*([A-Z])\\.`);
/** Python's `string.punctuation`. */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/**
 * The filter: the letter of a leading `X.`, else the response unchanged.
 * @example ai2dFilter("B. the sun") // "B"
 * @example ai2dFilter("The answer is B") // "The answer is B"
 */
export function ai2dFilter(response: string): string {
  return LEADING_LETTER.exec(response)?.[1] ?? response;
}

/** What `exact_match` with ignore_case and ignore_punctuation compares: lower-cased, ASCII punctuation deleted. */
export function exactMatchKey(s: string): string {
  return s.toLowerCase().replace(ASCII_PUNCTUATION, "");
}

/** @example exactMatchIgnoringCaseAndPunctuation("(b)", "B") // true */
export function exactMatchIgnoringCaseAndPunctuation(prediction: string, reference: string): boolean {
  return exactMatchKey(prediction) === exactMatchKey(reference);
}

/** The option letters of n choices, `A`, `B`, … (lmms-eval's `chr(ord("A") + i)`). */
export function optionLetters(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String.fromCharCode(65 + i));
}
