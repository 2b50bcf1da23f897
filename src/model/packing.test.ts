import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GlmvError } from "../util/errors.ts";
import { packingLowerBound, packSequences } from "./packing.ts";

describe("sequence packing", () => {
  it("packs into few fixed-context micro-batches and reports fill", () => {
    const p = packSequences([60, 40, 50, 50, 30, 70], 100);
    expect(p.microBatches).toHaveLength(3);
    expect(p.fill).toBeCloseTo(300 / 300, 12);
    for (const mb of p.microBatches)
      expect(mb.reduce((s, i) => s + [60, 40, 50, 50, 30, 70][i]!, 0)).toBeLessThanOrEqual(100);
  });

  it("never exceeds the context, keeps every sequence, stays near the lower bound", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 128 }), { minLength: 1, maxLength: 80 }), (lengths) => {
        const p = packSequences(lengths, 128);
        expect(p.microBatches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
        for (const mb of p.microBatches)
          expect(mb.reduce((s, i) => s + lengths[i]!, 0)).toBeLessThanOrEqual(128);
        expect(p.microBatches.length).toBeLessThanOrEqual(
          Math.ceil((11 / 9) * packingLowerBound(lengths, 128)) + 1,
        );
      }),
    );
  });

  it("rejects a sequence longer than the context with a typed error", () => {
    expect(() => packSequences([10, 200], 128)).toThrow(GlmvError);
    try {
      packSequences([10, 200], 128);
    } catch (e) {
      expect((e as GlmvError).code).toBe("bad_input");
      expect((e as GlmvError).where).toBe("sequence 1");
    }
  });
});
