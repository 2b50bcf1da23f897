/**
 * MathVista's scoring rules, reimplemented from lupantech/MathVista `evaluation/extract_answer.py` (the rule-based
 * shortcuts before its GPT extractor) and `evaluation/calculate_score.py` (`normalize_extracted_answer`,
 * `safe_equal`), with Python's own number parsing, rounding and printing (`../python/`).
 */
import { pyLevenshtein } from "../python/levenshtein.ts";
import { pyFloatRepr, pyFloatToInt, pyParseFloat, pyParseInt, pyRound } from "../python/numbers.ts";
import { pyStr, pyStrip } from "../python/text.ts";

export type MathVistaProblem = {
  questionType: string;
  answerType: string;
  choices: string[] | null;
  precision: number | null;
};

/**
 * Which integer rule normalises a free-form integer extraction:
 * - `release`: the released calculate_score.py, `str(int(float(x)))` ("2.0" → "2");
 * - `results-2023`: `str(int(x))`, which refuses "2.0". The verdicts (`true_false`) and scores files in the
 *   repository's `results/` folder were made this way; the released code disagrees with them on such items.
 */
export type IntegerRule = "release" | "results-2023";

export type MathVistaRules = {
  /** extract_answer.py's `--quick_extract`: take X from `The answer is "X".` before asking the GPT extractor. */
  quickExtract: boolean;
  integerRule: IntegerRule;
};

export const DEFAULT_RULES: MathVistaRules = { quickExtract: true, integerRule: "release" };

/** The answer the rules extract without a model, or `needsJudge` where the official pipeline would call GPT. */
export type RuleExtraction = { extraction: string } | { needsJudge: true };

// `.` in Python's re stops only at "\n"; JavaScript's also stops at "\r", U+2028, U+2029
const QUICK_ANSWER = /The answer is "([^\n]*)"\./;

/**
 * extract_answer.py's rule-based steps, in order: an empty response; a response equal to a choice; a response
 * that `int()` (integer answers) or `float()` (float answers) accepts; optionally the quick regex.
 * @example extractByRules("7", { questionType: "free_form", answerType: "integer", choices: null, precision: null }, DEFAULT_RULES)
 * // { extraction: "7" }
 */
export function extractByRules(
  response: string,
  problem: MathVistaProblem,
  rules: MathVistaRules,
): RuleExtraction {
  if (response === "") return { extraction: "" };
  if (problem.questionType === "multi_choice" && problem.choices?.includes(response))
    return { extraction: response };
  if (problem.answerType === "integer") {
    const n = pyParseInt(response);
    if (n !== null) return { extraction: n.toString() };
  }
  if (problem.answerType === "float") {
    const x = pyParseFloat(response);
    if (x !== null) return { extraction: pyFloatRepr(x) };
  }
  if (rules.quickExtract) {
    const quick = QUICK_ANSWER.exec(response);
    if (quick) return { extraction: quick[1] as string };
  }
  return { needsJudge: true };
}

/** Python's `float(value)` for a value from JSON: str parsing, numbers as they are, bools as 1/0; else null. */
function pyFloatOf(value: unknown): number | null {
  if (typeof value === "string") return pyParseFloat(value);
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return null;
}

/** Python's `int(value)` for a value from JSON: str parsing, floats truncated, bools as 1/0; else null. */
function pyIntOf(value: unknown): bigint | null {
  if (typeof value === "string") return pyParseInt(value);
  if (typeof value === "number") return pyFloatToInt(value);
  if (typeof value === "boolean") return value ? 1n : 0n;
  return null;
}

/** The first choice at the least Levenshtein distance (`distances.index(min(distances))`). */
function mostSimilarChoice(prediction: string, choices: readonly string[]): string {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  choices.forEach((choice, i) => {
    const d = pyLevenshtein(prediction, choice);
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  });
  return choices[best] as string;
}

/**
 * `normalize_extracted_answer`: multiple choice → "(X)" or a bare option letter picks that choice, anything else
 * the nearest choice by edit distance; integer → `str(int(float(x)))` (or `str(int(x))`, see `IntegerRule`);
 * float → `str(round(float(x), int(precision)))`; list → `str(x)`. Null where Python's conversion raises.
 * @example normalizeExtraction("(B) 8", { questionType: "multi_choice", answerType: "text", choices: ["7", "8"], precision: null }, "release")
 * // "8"
 */
export function normalizeExtraction(
  extraction: unknown,
  problem: MathVistaProblem,
  integerRule: IntegerRule = "release",
): string | null {
  if (problem.questionType === "multi_choice") {
    const choices = problem.choices ?? [];
    if (choices.length === 0) return null; // Python fails on min() of no distances
    let text = typeof extraction === "string" ? pyStrip(extraction) : pyStr(extraction);
    const letter = /\(([a-zA-Z])\)/.exec(text);
    if (letter) text = (letter[1] as string).toUpperCase();
    const letters = choices.map((_, i) => String.fromCharCode(65 + i));
    const index = letters.indexOf(text);
    if (index >= 0) return choices[index] as string;
    return mostSimilarChoice(text, choices);
  }
  if (problem.answerType === "integer") {
    if (integerRule === "results-2023") return pyIntOf(extraction)?.toString() ?? null;
    const x = pyFloatOf(extraction);
    return x === null ? null : (pyFloatToInt(x)?.toString() ?? null);
  }
  if (problem.answerType === "float") {
    const x = pyFloatOf(extraction);
    if (x === null || problem.precision === null || !Number.isFinite(problem.precision)) return null;
    return pyFloatRepr(pyRound(x, Math.trunc(problem.precision)));
  }
  return pyStr(extraction); // list (and any other type): str(x)
}

/** `safe_equal`: the normalised prediction equals the gold answer string. */
export function safeEqual(prediction: string | null, answer: string): boolean {
  return prediction !== null && prediction === answer;
}
