import { describe, expect, it } from "vitest";
import { bootstrapMean, pairedBootstrapDifference, quantileSorted } from "./bootstrap.ts";

describe("quantileSorted", () => {
  it("interpolates between the closest ranks as numpy.quantile does", () => {
    expect(quantileSorted([0, 1, 2, 3], 0.5)).toBe(1.5);
    expect(quantileSorted([1, 2, 3, 4, 5], 0.025)).toBeCloseTo(1.1, 12);
    expect(quantileSorted([1, 2, 3, 4, 5], 0.975)).toBeCloseTo(4.9, 12);
    expect(quantileSorted([7], 0.3)).toBe(7);
  });
});

describe("bootstrapMean", () => {
  it("is the point itself when every item scored the same", () => {
    expect(bootstrapMean([0.5, 0.5, 0.5], { seed: 3 })).toMatchObject({ low: 0.5, high: 0.5, level: 0.95 });
  });

  it("is null for no items", () => {
    expect(bootstrapMean([])).toBeNull();
  });

  it("matches the exact resampling distribution of small samples", () => {
    // [0, 0, 1]: the resampled count of 1s is Binomial(3, 1/3); P(mean ≤ 2/3) = 26/27 < 0.975, so the top is 1
    expect(bootstrapMean([0, 0, 1], { seed: 1, resamples: 20000 })).toMatchObject({ low: 0, high: 1 });
    // [0, 0, 0, 1]: Binomial(4, 1/4); P(mean ≤ 1/2) = 0.949, P(mean ≤ 3/4) = 0.996, so the top is 3/4
    expect(bootstrapMean([0, 0, 0, 1], { seed: 1, resamples: 20000 })).toMatchObject({ low: 0, high: 0.75 });
  });

  it("agrees with the normal approximation on 400 Bernoulli items (p = 0.3)", () => {
    const values = Array.from({ length: 400 }, (_, i) => (i % 10 < 3 ? 1 : 0));
    const ci = bootstrapMean(values, { seed: 11, resamples: 4000 })!;
    const halfWidth = 1.96 * Math.sqrt((0.3 * 0.7) / 400); // 0.0449
    expect((ci.high - ci.low) / 2).toBeGreaterThan(halfWidth - 0.006);
    expect((ci.high - ci.low) / 2).toBeLessThan(halfWidth + 0.006);
    expect((ci.high + ci.low) / 2).toBeCloseTo(0.3, 1);
  });

  it("is reproducible by seed and changes with it", () => {
    const values = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0.5];
    expect(bootstrapMean(values, { seed: 5 })).toEqual(bootstrapMean(values, { seed: 5 }));
    expect(bootstrapMean(values, { seed: 5 })).not.toEqual(bootstrapMean(values, { seed: 6 }));
  });
});

describe("pairedBootstrapDifference", () => {
  it("a constant per-item gain has a zero-width interval (pairing cancels what the runs share)", () => {
    const a = [0, 0.25, 0.5, 0.75, 0, 0.25, 0.5];
    const b = a.map((x) => x + 0.25);
    const { delta, interval } = pairedBootstrapDifference(a, b, { seed: 2 });
    expect(delta).toBeCloseTo(0.25, 12);
    expect(interval!.low).toBeCloseTo(0.25, 12);
    expect(interval!.high).toBeCloseTo(0.25, 12);
    // unpaired, the same two runs would look uncertain
    const unpairedA = bootstrapMean(a, { seed: 2 })!;
    expect(unpairedA.high - unpairedA.low).toBeGreaterThan(0.2);
  });

  it("one flipped item out of three: delta 1/3, interval [0, 1] (exact distribution as above)", () => {
    const { delta, interval } = pairedBootstrapDifference([0, 1, 1], [1, 1, 1], {
      seed: 4,
      resamples: 20000,
    });
    expect(delta).toBeCloseTo(1 / 3, 12);
    expect(interval).toMatchObject({ low: 0, high: 1 });
  });

  it("identical runs differ by exactly 0; mismatched lengths are refused", () => {
    expect(pairedBootstrapDifference([1, 0, 1], [1, 0, 1])).toMatchObject({
      delta: 0,
      interval: { low: 0, high: 0 },
    });
    expect(() => pairedBootstrapDifference([1], [1, 0])).toThrow(/length/);
  });
});
