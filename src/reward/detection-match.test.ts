import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Box, type Detection, iou, matchDetections, maxWeightAssignment } from "./detection-match.ts";

const coord = fc.integer({ min: 0, max: 999 });
const box: fc.Arbitrary<Box> = fc
  .tuple(coord, coord, coord, coord)
  .map(([a, b, c, d]) => [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)] as const);
const unlabelled = (boxes: Box[]): Detection[] => boxes.map((b) => ({ box: b, label: null }));

/** Every injective map of `n` rows into `m` columns. */
function injections(n: number, m: number): number[][] {
  if (n === 0) return [[]];
  return injections(n - 1, m).flatMap((p) =>
    Array.from({ length: m }, (_, c) => c)
      .filter((c) => !p.includes(c))
      .map((c) => [...p, c]),
  );
}

describe("maxWeightAssignment", () => {
  it("finds the greatest total weight (brute force on small matrices)", () => {
    const weights = fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }))
      .chain(([n, extra]) =>
        fc.array(
          fc.array(fc.double({ min: 0, max: 2, noNaN: true }), {
            minLength: n + extra,
            maxLength: n + extra,
          }),
          {
            minLength: n,
            maxLength: n,
          },
        ),
      );
    fc.assert(
      fc.property(weights, (w) => {
        const got = maxWeightAssignment(w).reduce((s, [r, c]) => s + w[r]![c]!, 0);
        const best = Math.max(
          ...injections(w.length, w[0]!.length).map((p) => p.reduce((s, c, r) => s + w[r]![c]!, 0)),
        );
        expect(got).toBeCloseTo(best, 9);
      }),
      { numRuns: 200 },
    );
  });
  it("gives each row its own column", () => {
    const pairs = maxWeightAssignment([
      [1, 1, 0],
      [1, 0, 0],
    ]);
    expect(pairs).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });
});

describe("matchDetections", () => {
  // Two overlapping gold objects; greedy highest-IoU-first (V-Triune, ROLL) takes p1–g1 (0.82) and leaves p2–g2
  // at 0.21, below 0.5: one object found. The optimal assignment finds both (p1–g2 0.54, p2–g1 0.70).
  const gold = unlabelled([
    [0, 0, 100, 10],
    [40, 0, 140, 10],
  ]);
  const pred = unlabelled([
    [10, 0, 110, 10],
    [0, 0, 70, 10],
  ]);
  it("finds the most objects at a threshold where greedy matching finds fewer", () => {
    expect(iou(pred[0]!.box, gold[0]!.box)).toBeCloseTo(90 / 110, 12);
    const pairs = matchDetections(pred, gold, false, 0.5);
    expect(pairs.map((p) => [p.pred, p.gold])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(pairs[0]!.iou).toBeCloseTo(0.7, 12);
    expect(pairs[1]!.iou).toBeCloseTo(70 / 130, 12);
  });
  it("matches label to label only", () => {
    const cat: Detection = { box: [0, 0, 10, 10], label: "cat" };
    const dog: Detection = { box: [0, 0, 10, 10], label: "dog" };
    expect(matchDetections([cat], [dog], true, 0.5)).toEqual([]);
    expect(matchDetections([cat], [dog], false, 0.5)).toEqual([{ pred: 0, gold: 0, iou: 1 }]);
    expect(matchDetections([{ ...cat, label: null }], [cat], true, 0.5)).toEqual([]);
  });
  it("counts a pair at exactly the threshold as found", () => {
    // IoU 50 / 100 = 0.5 exactly.
    const pairs = matchDetections(unlabelled([[0, 0, 50, 10]]), unlabelled([[0, 0, 100, 10]]), false, 0.5);
    expect(pairs).toHaveLength(1);
  });
  it("without a threshold, maximises the summed IoU (brute force on random boxes)", () => {
    fc.assert(
      fc.property(
        fc.array(box, { minLength: 1, maxLength: 4 }),
        fc.array(box, { minLength: 1, maxLength: 4 }),
        (p, g) => {
          const got = matchDetections(unlabelled(p), unlabelled(g), false, 0).reduce((s, x) => s + x.iou, 0);
          const [rows, cols] = p.length <= g.length ? [p, g] : [g, p];
          const best = Math.max(
            ...injections(rows.length, cols.length).map((perm) =>
              perm.reduce((s, c, r) => s + iou(rows[r]!, cols[c]!), 0),
            ),
          );
          expect(got).toBeCloseTo(best, 9);
        },
      ),
      { numRuns: 200 },
    );
  });
  it("matches 100 objects of one label against 100 in another order", () => {
    const boxes = Array.from(
      { length: 100 },
      (_, k): Box => [
        (k % 10) * 100,
        Math.floor(k / 10) * 100,
        (k % 10) * 100 + 90,
        Math.floor(k / 10) * 100 + 90,
      ],
    );
    const pairs = matchDetections(unlabelled(boxes), unlabelled([...boxes].reverse()), false, 0.5);
    expect(pairs).toHaveLength(100);
    expect(pairs.every((p) => p.iou === 1)).toBe(true);
  });
});
