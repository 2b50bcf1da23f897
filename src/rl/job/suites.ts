/** The main job's data: the synthetic training and held-out suites of a config, and the small labelled SFT set. */
import { buildSuite } from "../../data/tasks/suite.ts";
import type { TaskItem } from "../../data/tasks/types.ts";
import type { RlConfig } from "../loop/config.ts";

/** The labelled SFT set: the first `perFamily` training items of each family whose level is in `levels`. */
export function labelledSftSet(
  train: readonly TaskItem[],
  levels: readonly number[],
  perFamily: number,
): TaskItem[] {
  const taken = new Map<string, number>();
  return train.filter((item) => {
    if (!levels.includes(item.level)) return false;
    const n = taken.get(item.family) ?? 0;
    taken.set(item.family, n + 1);
    return n < perFamily;
  });
}

/** The training and held-out suites of a config (held-out items split evenly over the families). */
export function buildSuites(config: RlConfig): { train: TaskItem[]; heldout: TaskItem[] } {
  const { families, levels, trainPerFamily, heldoutItems, imageSize } = config.data;
  const common = { seed: config.seed, families, levels, size: imageSize };
  return {
    train: buildSuite({ ...common, perFamily: trainPerFamily, split: "train" }),
    heldout: buildSuite({
      ...common,
      perFamily: Math.ceil(heldoutItems / families.length),
      split: "heldout",
    }),
  };
}
