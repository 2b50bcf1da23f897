import { describe, expect, it } from "vitest";
import type { StepMetrics } from "../loop/trainer.ts";
import { compareRuns, rolloutsToReach } from "./compare.ts";

describe("compareRuns", () => {
  const m = (rolloutsTotal: number, accuracy?: number) =>
    ({
      rolloutsTotal,
      ...(accuracy === undefined ? {} : { heldout: { accuracy, perFamily: {}, items: 512 } }),
    }) as StepMetrics;
  it("counts the rollouts RLCS needed to reach uniform's final accuracy", () => {
    const rlcs = [m(100, 0.5), m(200, 0.7), m(300), m(400, 0.8)];
    const uniform = [m(100, 0.4), m(200, 0.5), m(400, 0.7)];
    const c = compareRuns(rlcs, uniform);
    expect(c).toMatchObject({ target: 0.7, rlcsRollouts: 200, uniformRollouts: 400, ratio: 0.5 });
    expect(rolloutsToReach(rlcs, 0.9)).toBeNull();
    expect(compareRuns([m(100, 0.5)], uniform).ratio).toBeNull();
  });
});
