/** Test fixture shared by the in-process and the child-process tiny-backend tests: the model, items and sampling. */
import { promptFromItem } from "../data/task-encoding.ts";
import { buildSuite } from "../data/tasks/index.ts";
import { presetConfig } from "../model/config.ts";
import type { RolloutParams } from "../rl/loop/policy.ts";

export const cfg = presetConfig("tiny");
export const ITEMS = buildSuite({ seed: 3, perFamily: 2, split: "train", families: ["counting"] }).slice(
  0,
  2,
);
export const prompts = ITEMS.map(promptFromItem);
export const GEN: RolloutParams = {
  n: 4,
  temperature: 1,
  topP: 1,
  maxNewTokens: 10,
  thinkBudget: 6,
  style: "4.1v",
  seed: 3,
};
