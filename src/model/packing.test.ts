import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GlmvError } from "../util/errors.ts";
import { createPackedStream, packingLowerBound, packSequences, planCalls, splitByImages } from "./packing.ts";

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

describe("createPackedStream", () => {
  it("fills rows first-fit in stream order, every example once per epoch, within the image slots", () => {
    const lengths = [60, 50, 40, 70, 30, 80, 20, 90];
    const images = lengths.map(() => 1);
    const shape = { rows: 2, context: 128, imageSlots: 3 };
    const next = createPackedStream(lengths, images, shape, 7);
    const seen: number[] = [];
    for (let s = 0; s < 4; s++) {
      const rows = next();
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(r.reduce((a, i) => a + lengths[i]!, 0)).toBeLessThanOrEqual(128);
      expect(rows.flat().length).toBeLessThanOrEqual(3);
      seen.push(...rows.flat());
    }
    // the first epoch's 8 examples come before any repeat
    const firstEpoch = seen.slice(0, 8);
    expect(new Set(firstEpoch).size).toBe(8);
  });

  it("rejects an example longer than the context", () => {
    expect(() => createPackedStream([10, 300], [0, 0], { rows: 1, context: 256, imageSlots: 0 }, 1)).toThrow(
      /more than the context/,
    );
  });
});

describe("planCalls", () => {
  it("cuts rows to their image slots and segment bound, then groups rowsPerCall rows per call", () => {
    const images = [2, 1, 1, 0, 3];
    const calls = planCalls(
      [
        [0, 1, 2],
        [3, 4],
      ],
      (i) => images[i]!,
      { rowsPerCall: 2, imagesPerRow: 3 },
    );
    expect(calls).toEqual([[[0, 1], [2]], [[3, 4]]]);
    const bounded = planCalls([[0, 1, 2, 3]], () => 0, {
      rowsPerCall: 4,
      imagesPerRow: 1,
      segmentsPerRow: 3,
    });
    expect(bounded).toEqual([[[0, 1, 2], [3]]]);
  });
});

describe("splitByImages", () => {
  it("cuts a micro-batch so no row holds more images than its slots", () => {
    expect(splitByImages([0, 1, 2, 3, 4], () => 1, 2)).toEqual([[0, 1], [2, 3], [4]]);
    expect(splitByImages([0, 1, 2], (i) => (i === 1 ? 0 : 1), 1)).toEqual([[0, 1], [2]]);
    expect(splitByImages([], () => 1, 2)).toEqual([]);
    expect(() => splitByImages([0], () => 3, 2)).toThrow(/more than 2/);
  });
});
