/**
 * A per-run IoU threshold schedule for the detection rewards: the threshold an object must reach to count as found
 * may rise with the RL step (ROLL's "dynamic" DetectionRewardWorker setting: 0.85 for the first 10% of the steps,
 * 0.95 for the next 15%, 0.99 after; alibaba/ROLL vl_rlvr_pipeline_start.md). The run resolves the threshold of
 * its step and stamps it on the step's grounding items (`applyIouSchedule`); an item's own `iouThreshold` wins, the
 * way an item's own `style` wins over the run's. Items travel unchanged through the pool, the reward server and the
 * CLI, so this reaches the verifier on every path.
 */
import { z } from "zod";
import type { ScoreInput } from "./system.ts";

const Threshold = z.number().gt(0).lte(1);

/** A fixed threshold, or stages `{ fromStep, threshold }` from step 0 on, in rising step order. */
export const IouScheduleSchema = z.union([
  Threshold,
  z
    .object({
      stages: z.array(z.strictObject({ fromStep: z.int().min(0), threshold: Threshold })).min(1),
    })
    .refine((s) => s.stages[0]?.fromStep === 0, {
      message: "the first stage of an IoU schedule starts at fromStep 0",
      path: ["stages", 0, "fromStep"],
    })
    .refine((s) => s.stages.every((st, k) => k === 0 || st.fromStep > s.stages[k - 1]!.fromStep), {
      message: "IoU schedule stages must be in rising fromStep order",
      path: ["stages"],
    }),
]);
export type IouSchedule = z.infer<typeof IouScheduleSchema>;

/**
 * The IoU threshold of `step` (0-based) under `schedule`: the last stage whose `fromStep` is ≤ step.
 * @example iouThresholdAt({ stages: [{ fromStep: 0, threshold: 0.5 }, { fromStep: 100, threshold: 0.75 }] }, 120)
 * // 0.75
 */
export function iouThresholdAt(schedule: IouSchedule, step: number): number {
  if (typeof schedule === "number") return schedule;
  let threshold = schedule.stages[0]!.threshold;
  for (const stage of schedule.stages) if (stage.fromStep <= step) threshold = stage.threshold;
  return threshold;
}

/**
 * ROLL's "dynamic" schedule for a run of `totalSteps`: 0.85 for the first 10% of the steps, 0.95 for the next 15%,
 * 0.99 after.
 * @example rollDynamicSchedule(100) // { stages: [{ fromStep: 0, threshold: 0.85 }, { fromStep: 10, … }, { fromStep: 25, … }] }
 */
export function rollDynamicSchedule(totalSteps: number): IouSchedule {
  const at = (fraction: number) => Math.max(1, Math.round(totalSteps * fraction));
  const stages = [
    { fromStep: 0, threshold: 0.85 },
    { fromStep: at(0.1), threshold: 0.95 },
    { fromStep: Math.max(at(0.25), at(0.1) + 1), threshold: 0.99 },
  ];
  return { stages };
}

/**
 * The items of one step with the schedule's threshold set on each grounding item that has none of its own.
 * @example applyIouSchedule(items, { stages: [{ fromStep: 0, threshold: 0.5 }] }, 3)[0].iouThreshold // 0.5
 */
export function applyIouSchedule(
  items: readonly ScoreInput[],
  schedule: IouSchedule,
  step: number,
): ScoreInput[] {
  const threshold = iouThresholdAt(schedule, step);
  return items.map((item) =>
    item.domain === "grounding" && item.iouThreshold === undefined
      ? { ...item, iouThreshold: threshold }
      : item,
  );
}
