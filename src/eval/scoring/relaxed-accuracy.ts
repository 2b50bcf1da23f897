/**
 * ChartQA's relaxed accuracy as lmms-eval `lmms_eval/tasks/chartqa/utils.py` `relaxed_correctness` has it (from
 * Qwen-VL's `evaluate_vqa.py`, after pix2struct): numbers within 5% of a non-zero target are right; otherwise (a
 * non-number on either side, or a target of 0) the strings must be equal ignoring case. No stripping or unit removal.
 */
import { pyParseFloat as pyFloat } from "../python/numbers.ts";

/** `_to_float`: a trailing run of `%` divides by 100 (`"50%"` → 0.5); otherwise Python's `float()`, or null. */
export function chartqaToFloat(text: string): number | null {
  if (text.endsWith("%")) {
    const value = pyFloat(text.replace(/%+$/, ""));
    return value === null ? null : value / 100;
  }
  return pyFloat(text);
}

/**
 * @example relaxedCorrectness("0.575", "0.57") // true: |0.575 − 0.57| / 0.57 ≤ 0.05
 * @example relaxedCorrectness("0", "0.0") // false: a zero target is compared as strings
 */
export function relaxedCorrectness(prediction: string, target: string, maxRelativeChange = 0.05): boolean {
  const predictionFloat = chartqaToFloat(prediction);
  const targetFloat = chartqaToFloat(target);
  // Python's `if prediction_float is not None and target_float:` — NaN is truthy there, 0.0 and -0.0 are not.
  if (predictionFloat !== null && targetFloat !== null && targetFloat !== 0) {
    return Math.abs(predictionFloat - targetFloat) / Math.abs(targetFloat) <= maxRelativeChange;
  }
  return prediction.toLowerCase() === target.toLowerCase();
}
