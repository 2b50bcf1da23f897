/**
 * Long-CoT SFT targets in the exact response format (paper §4.1; reward-spec-official.md §1.2):
 * GLM-4.1V `<think>…</think><answer><|begin_of_box|>X<|end_of_box|></answer>`,
 * GLM-4.5V `<think>…</think><|begin_of_box|>X<|end_of_box|>` (no `<answer>` tags).
 */
import type { ResponseStyle } from "../../model/domains.ts";
import { SPECIAL_TOKENS } from "../../model/special-tokens.ts";
import type { TaskItem } from "./types.ts";

/**
 * The full assistant response an SFT step imitates for `item`, in one of the two styles.
 * The box holds `item.responseAnswer` (a point for GUI items, otherwise the gold answer).
 * @example sftTarget(item, "4.1v") // "<think>3+4=7</think><answer><|begin_of_box|>7<|end_of_box|></answer>"
 */
export function sftTarget(item: Pick<TaskItem, "cot" | "responseAnswer">, style: ResponseStyle): string {
  const t = SPECIAL_TOKENS;
  const boxed = `${t.beginBox}${item.responseAnswer}${t.endBox}`;
  const think = `${t.thinkStart}${item.cot}${t.thinkEnd}`;
  return style === "4.1v" ? `${think}${t.answerStart}${boxed}${t.answerEnd}` : `${think}${boxed}`;
}
