/**
 * Video-MME's answer extraction (BradyFU/Video-MME `evaluation/eval_your_results.py` and lmms-eval
 * `lmms_eval/tasks/videomme/utils.py`, both `extract_characters_regex`), reimplemented: answer phrases are deleted
 * wherever they occur, then the first capital A–D anywhere is the answer; none is no answer ("").
 * Its word-count guard (> 10 words and no A–D → "") cannot change the result, so it is left out.
 */

/**
 * The phrases deleted, in the official order. The last two are Python's implicit concatenation of adjacent string
 * literals (commas missing upstream), so "The best option is" and "Best answer:" alone are never deleted; kept as
 * the official code runs ("Best answer: C" reads "B").
 */
const ANSWER_PREFIXES = [
  "The best answer is",
  "The correct answer is",
  "The answer is",
  "The answer",
  "The best option isThe correct option is",
  "Best answer:Best option:",
] as const;

/**
 * The letter Video-MME's official rule extracts, or "" when it finds none.
 * @example extractVideoMmeLetter("The answer is (C).") // "C"
 * @example extractVideoMmeLetter("The Answer: C") // "A" (the capital A of "Answer" comes first)
 */
export function extractVideoMmeLetter(response: string): string {
  let s = response.trim();
  for (const prefix of ANSWER_PREFIXES) s = s.replaceAll(prefix, "");
  return /[ABCD]/.exec(s)?.[0] ?? "";
}
