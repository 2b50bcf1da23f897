import { describe, expect, it } from "vitest";
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import {
  applyIouSchedule,
  IouScheduleSchema,
  iouThresholdAt,
  rollDynamicSchedule,
} from "./detection-schedule.ts";
import { RewardPool } from "./pool.ts";
import { type ScoreInput, scoreItem } from "./system.ts";

const RISING = {
  stages: [
    { fromStep: 0, threshold: 0.5 },
    { fromStep: 100, threshold: 0.75 },
    { fromStep: 200, threshold: 0.9 },
  ],
};

describe("iouThresholdAt", () => {
  it("takes the last stage that has started", () => {
    expect([0, 99, 100, 150, 200, 10_000].map((s) => iouThresholdAt(RISING, s))).toEqual([
      0.5, 0.5, 0.75, 0.75, 0.9, 0.9,
    ]);
    expect(iouThresholdAt(0.6, 123)).toBe(0.6);
  });
  it("ROLL's dynamic schedule: 0.85 for the first 10% of the steps, 0.95 for the next 15%, 0.99 after", () => {
    const s = rollDynamicSchedule(200);
    expect([0, 19, 20, 49, 50, 199].map((k) => iouThresholdAt(s, k))).toEqual([
      0.85, 0.85, 0.95, 0.95, 0.99, 0.99,
    ]);
    expect(IouScheduleSchema.safeParse(rollDynamicSchedule(3)).success).toBe(true);
  });
  it.each([
    [{ stages: [] }, "stages"],
    [{ stages: [{ fromStep: 5, threshold: 0.5 }] }, "fromStep 0"],
    [
      {
        stages: [
          { fromStep: 0, threshold: 0.5 },
          { fromStep: 0, threshold: 0.7 },
        ],
      },
      "rising",
    ],
    [{ stages: [{ fromStep: 0, threshold: 1.5 }] }, "threshold"],
    [0, "number"],
  ])("refuses %j", (schedule, _why) => {
    expect(IouScheduleSchema.safeParse(schedule).success).toBe(false);
  });
});

describe("applyIouSchedule", () => {
  const { beginBox, endBox } = SPECIAL_TOKENS;
  const gold = '[{"label": "cat", "bbox_2d": [100, 100, 300, 300]}]';
  // IoU 36000 / 44000 ≈ 0.82: found at 0.5 and 0.75, missed at 0.9.
  const answer = '[{"label": "cat", "bbox_2d": [120, 100, 320, 300]}]';
  const item = (extra: Partial<ScoreInput> = {}): ScoreInput => ({
    id: 1,
    domain: "grounding",
    style: "4.5v",
    answer: gold,
    response: `<think>a cat</think>${beginBox}${answer}${endBox}`,
    ...extra,
  });

  it("the threshold rises with the step and the reward follows it through scoreItem", () => {
    const rewards = [0, 150, 250].map((step) => scoreItem(applyIouSchedule([item()], RISING, step)[0]!));
    expect(rewards.map((r) => r.correct)).toEqual([true, true, false]);
    expect(rewards[0]!.reward).toBeCloseTo(36_000 / 44_000, 9);
    expect(rewards[2]).toMatchObject({
      reward: 0,
      reason: "IoU@0.9 0.0000: 0 of 1 gold objects found at IoU ≥ 0.9, 1 extra",
    });
  });
  it("the stamped threshold crosses the worker boundary of the reward pool", async () => {
    const pool = new RewardPool({ workers: 1 });
    try {
      const steps = [0, 250].map((step) => applyIouSchedule([item({ id: step })], RISING, step)[0]!);
      const results = await pool.score(steps);
      expect(results.map((r) => r.correct)).toEqual([true, false]);
    } finally {
      await pool.close();
    }
  });
  it("an item's own threshold wins, and other domains are left alone", () => {
    const [own, math] = applyIouSchedule(
      [item({ iouThreshold: 0.5 }), { ...item(), domain: "math" }],
      RISING,
      250,
    );
    expect(own!.iouThreshold).toBe(0.5);
    expect(math!.iouThreshold).toBeUndefined();
  });
});
