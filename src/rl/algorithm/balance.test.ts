import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { balanceRanks, interleaveSmallLarge, karmarkarKarp, sequenceWorkload } from "./balance.ts";

const sums = (parts: number[][], w: readonly number[]) => parts.map((p) => p.reduce((s, i) => s + w[i]!, 0));

describe("length balancing across ranks", () => {
  it("uses verl's workload model", () => {
    expect(sequenceWorkload(100)).toBe(24576 * 100 + 100 * 100);
  });

  it("finds the perfect equal-size split of a small case", () => {
    const w = [5, 4, 3, 3, 2, 1];
    const parts = karmarkarKarp(w, 2, true);
    expect(parts.map((p) => p.length)).toEqual([3, 3]);
    expect(sums(parts, w).sort()).toEqual([9, 9]);
  });

  it("every item lands in exactly one partition, and equal size holds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 4 }),
        (ws, k) => {
          const n = ws.length - (ws.length % k) || k;
          const w = ws.slice(0, n).concat(Array(Math.max(0, n - ws.length)).fill(1));
          const parts = karmarkarKarp(w, k, true);
          expect(parts).toHaveLength(k);
          expect(parts.flat().sort((a, b) => a - b)).toEqual(w.map((_, i) => i));
          for (const p of parts) expect(p).toHaveLength(w.length / k);
        },
      ),
    );
  });

  it("beats round-robin on skewed lengths", () => {
    const lengths = [4000, 3900, 100, 120, 3800, 90, 110, 3700];
    const { balance, ranks } = balanceRanks(lengths, 2);
    expect(ranks.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const w = lengths.map(sequenceWorkload);
    const rr = sums(
      [
        [0, 2, 4, 6],
        [1, 3, 5, 7],
      ],
      w,
    );
    const rrBalance = Math.max(...rr) / ((rr[0]! + rr[1]!) / 2);
    expect(balance).toBeLessThan(1.01);
    expect(balance).toBeLessThanOrEqual(rrBalance);
  });

  it("falls back to unequal sizes when the count does not divide", () => {
    const { ranks } = balanceRanks([10, 20, 30], 2);
    expect(ranks.flat().sort()).toEqual([0, 1, 2]);
    expect(() => karmarkarKarp([1, 2, 3], 2, true)).toThrow(RangeError);
  });

  it("interleaves small and large", () => {
    expect(interleaveSmallLarge([0, 1, 2, 3], [1, 2, 3, 4])).toEqual([0, 2, 3, 1]);
  });
});
