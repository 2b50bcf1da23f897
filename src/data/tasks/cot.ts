/**
 * Long-CoT SFT targets in the exact response format (paper §4.1; reward-spec-official.md §1.2):
 * GLM-4.1V `<think>…</think><answer><|begin_of_box|>X<|end_of_box|></answer>`,
 * GLM-4.5V `<think>…</think><|begin_of_box|>X<|end_of_box|>` (no `<answer>` tags).
 */
import type { ResponseStyle } from "../../model/domains.ts";
import type { TaskItem } from "./types.ts";

export const BEGIN_OF_BOX = "<|begin_of_box|>";
export const END_OF_BOX = "<|end_of_box|>";

/**
 * The full assistant response an SFT step imitates for `item`, in one of the two styles.
 * The box holds `item.responseAnswer` (a point for GUI items, otherwise the gold answer).
 * @example sftTarget(item, "4.1v") // "<think>3+4=7</think><answer><|begin_of_box|>7<|end_of_box|></answer>"
 */
export function sftTarget(item: Pick<TaskItem, "cot" | "responseAnswer">, style: ResponseStyle): string {
  const boxed = `${BEGIN_OF_BOX}${item.responseAnswer}${END_OF_BOX}`;
  const think = `<think>${item.cot}</think>`;
  return style === "4.1v" ? `${think}<answer>${boxed}</answer>` : `${think}${boxed}`;
}
