import { describe, expect, it } from "vitest";
import { ADVANTAGES, drGrpo, grpo, hasSignal, meanStd } from "./advantages.ts";

describe("group advantages", () => {
  it("GRPO normalises within the group", () => {
    const a = grpo([1, 0, 1, 0]);
    expect(a.map((x) => Number(x.toFixed(5)))).toEqual([1, -1, 1, -1]);
    const b = grpo([1, 0, 0, 0]);
    const { mean, std } = meanStd([1, 0, 0, 0]);
    expect(b[0]).toBeCloseTo((1 - mean) / (std + 1e-6), 9);
    expect(b.reduce((x, y) => x + y, 0)).toBeCloseTo(0, 9);
  });

  it("Dr. GRPO only centres", () => {
    expect(drGrpo([1, 0, 0, 0])).toEqual([0.75, -0.25, -0.25, -0.25]);
  });

  it("a group without variance has zero advantages and no signal", () => {
    expect(grpo([1, 1, 1])).toEqual([0, 0, 0]);
    expect(hasSignal([1, 1, 1])).toBe(false);
    expect(hasSignal([0.5, 0.5 + 1e-9])).toBe(false);
    expect(hasSignal([0.2, 0.3])).toBe(true);
  });

  it("the registry holds the paper's names", () => {
    expect(Object.keys(ADVANTAGES).sort()).toEqual(["drGrpo", "grpo"]);
  });
});
