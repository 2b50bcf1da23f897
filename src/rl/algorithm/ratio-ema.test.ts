import { describe, expect, it } from "vitest";
import { expansionRatio, initRatioEma, promptsToSample, updateRatioEma } from "./ratio-ema.ts";

describe("ratio-EMA oversampling", () => {
  it("expansion is 1 / (1 − invalid rate), capped", () => {
    expect(expansionRatio(0)).toBe(1);
    expect(expansionRatio(0.5)).toBeCloseTo(2, 12);
    expect(expansionRatio(0.75)).toBeCloseTo(4, 12);
    expect(expansionRatio(0.9, 4)).toBe(4);
    expect(expansionRatio(1, 3)).toBe(3);
    expect(() => expansionRatio(1.5)).toThrow(RangeError);
  });

  it("the first observation replaces the initial 1, later ones are smoothed", () => {
    let s = updateRatioEma(initRatioEma(), 0.5, { alpha: 0.25, maxExpansion: 4 });
    expect(s.ema).toBeCloseTo(2, 12);
    s = updateRatioEma(s, 0, { alpha: 0.25, maxExpansion: 4 });
    expect(s.ema).toBeCloseTo(0.25 * 1 + 0.75 * 2, 12);
    expect(s.steps).toBe(2);
  });

  it("samples ceil(B · ema) prompts", () => {
    expect(promptsToSample(16, { ema: 1, steps: 1 })).toBe(16);
    expect(promptsToSample(16, { ema: 1.3, steps: 1 })).toBe(21);
    expect(promptsToSample(8, { ema: 2, steps: 1 })).toBe(16);
  });
});
