import { describe, expect, it } from "vitest";
import {
  type CalibrationSample,
  calibratedPassRate,
  calibrationSamples,
  fitCalibration,
  IDENTITY_CALIBRATION,
  logit,
  recentSamples,
} from "./calibration.ts";

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Expected counts (no noise) of `trials` rollouts per likelihood under p(ℓ) = σ(a · logit ℓ + b). */
const exactSamples = (a: number, b: number, trials: number): CalibrationSample[] =>
  [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9].map((likelihood) => ({
    step: 1,
    likelihood,
    right: trials * sigmoid(a * logit(likelihood) + b),
    trials,
  }));

describe("fitCalibration", () => {
  it("is the identity without samples", () => {
    expect(fitCalibration([], 2)).toEqual(IDENTITY_CALIBRATION);
    expect(calibratedPassRate(IDENTITY_CALIBRATION, 0.3)).toBeCloseTo(0.3, 12);
  });

  it("recovers a drifted map from many pairs", () => {
    // the policy solves prompts far more often than its reference likelihood says (late RL)
    const fit = fitCalibration(exactSamples(0.7, 2, 10_000), 2);
    expect(fit.slope).toBeCloseTo(0.7, 3);
    expect(fit.intercept).toBeCloseTo(2, 2);
    expect(calibratedPassRate(fit, 0.5)).toBeCloseTo(sigmoid(2), 3);
  });

  it("stays near the identity on a few pairs and moves with the evidence", () => {
    const few = fitCalibration([{ step: 1, likelihood: 0.5, right: 1, trials: 1 }], 2);
    expect(Math.abs(few.intercept)).toBeLessThan(0.5);
    const more = fitCalibration([{ step: 1, likelihood: 0.5, right: 90, trials: 100 }], 2);
    expect(more.intercept).toBeGreaterThan(few.intercept);
    expect(calibratedPassRate(more, 0.5)).toBeGreaterThan(0.8);
  });

  it("handles prompts every rollout got right or wrong and extreme likelihoods", () => {
    const fit = fitCalibration(
      [
        { step: 1, likelihood: 1e-30, right: 0, trials: 8 },
        { step: 1, likelihood: 1, right: 8, trials: 8 },
        { step: 1, likelihood: 0.3, right: 8, trials: 8 },
      ],
      2,
    );
    expect(Number.isFinite(fit.slope) && Number.isFinite(fit.intercept)).toBe(true);
    expect(calibratedPassRate(fit, 0.3)).toBeGreaterThan(0.3);
  });

  it("rejects a non-positive prior strength", () => {
    expect(() => fitCalibration([], 0)).toThrow(RangeError);
  });
});

describe("calibration pairs", () => {
  it("come from the groups of prompts rescored this step", () => {
    const groups = [
      { promptId: "a", rewards: [1, 0, 1, 1] },
      { promptId: "b", rewards: [0, 0, 0, 0] },
    ];
    const pairs = calibrationSamples(groups, new Map([["a", 0.4]]), 7);
    expect(pairs).toEqual([{ step: 7, likelihood: 0.4, right: 3, trials: 4 }]);
  });

  it("keep the last `window` steps before the current one", () => {
    const at = (step: number): CalibrationSample => ({ step, likelihood: 0.5, right: 1, trials: 2 });
    const all = [1, 2, 3, 4, 5].map(at);
    expect(recentSamples(all, 5, 3).map((s) => s.step)).toEqual([2, 3, 4]);
    expect(recentSamples(all, 5, 0)).toEqual([]);
  });
});
