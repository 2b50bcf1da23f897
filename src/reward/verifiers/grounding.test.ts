import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Box, formatBoxes, iou, matchBoxes, parseBoxes, verifyGrounding } from "./grounding.ts";

const coord = fc.integer({ min: 0, max: 999 });
/** Any valid box (possibly zero-area). */
const box: fc.Arbitrary<Box> = fc
  .tuple(coord, coord, coord, coord)
  .map(([a, b, c, d]) => [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)] as const);

describe("parseBoxes", () => {
  it.each([
    ["[[10,20,30,40]]", [[10, 20, 30, 40]]],
    ["[10, 20, 30, 40]", [[10, 20, 30, 40]]],
    ["(10,20,30,40)", [[10, 20, 30, 40]]],
    ["<10 20 30 40>", [[10, 20, 30, 40]]],
    ["[[ 10 , 20 , 30 , 40 ]]", [[10, 20, 30, 40]]],
    ["10, 20, 30, 40", [[10, 20, 30, 40]]],
    ["［10，20，30，40］", [[10, 20, 30, 40]]],
    ["<|begin_of_box|>[[1,2,3,4]]<|end_of_box|>", [[1, 2, 3, 4]]],
    [
      "[[1,2,3,4],[5,6,7,8]]",
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
    ],
    [
      "The cat is at [1,2,3,4] and the dog at (5,6,7,8).",
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
    ],
    ["[[1,2,3,4]] (the red cup)", [[1, 2, 3, 4]]],
  ])("%j", (text, boxes) => {
    expect(parseBoxes(text)).toEqual({ ok: true, boxes });
  });
  it.each([
    ["[[30,20,10,40]]", /x1 > x2/],
    ["[[10,40,30,20]]", /y1 > y2/],
    ["[[10,20,30,1000]]", /outside/],
    ["[[-1,20,30,40]]", /outside/],
    ["[[10,20,30]]", /3 numbers/],
    ["[[500, 300]]", /^unsupported: a point \[x, y\] is not a box/],
    ["[[10,20,30,40,50]]", /5 numbers/],
    ["[[a,b,c,d]]", /no box/],
    ["[[1,2,3,x]]", /not a number/],
    ["[[1,2,3,4]] 5", /outside the box/],
    ["somewhere on the left", /no box/],
    ["", /no box/],
  ])("%j is invalid", (text, reason) => {
    const r = parseBoxes(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
  it("takes pixel limits for boxes in pixels", () => {
    expect(parseBoxes("[[0, 0, 1280, 720]]", { maxX: 1280, maxY: 720 })).toEqual({
      ok: true,
      boxes: [[0, 0, 1280, 720]],
    });
    expect(parseBoxes("[[0, 0, 1281, 720]]", { maxX: 1280, maxY: 720 })).toEqual({
      ok: false,
      reason: "a coordinate is outside the 1280×720 image",
    });
  });
  it("round-trips formatBoxes", () => {
    fc.assert(
      fc.property(fc.array(box, { minLength: 1, maxLength: 10 }), (boxes) => {
        expect(parseBoxes(formatBoxes(boxes))).toEqual({ ok: true, boxes });
      }),
    );
  });
});

describe("iou", () => {
  it("computes raw-area overlap", () => {
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3, 12);
    expect(iou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0);
    expect(iou([0, 0, 10, 10], [2, 2, 8, 8])).toBeCloseTo(0.36, 12);
  });
  it("is symmetric and in [0, 1]", () => {
    fc.assert(
      fc.property(box, box, (a, b) => {
        const x = iou(a, b);
        expect(x).toBe(iou(b, a));
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
      }),
    );
  });
  it("is 1 on identical boxes", () => {
    fc.assert(
      fc.property(box, (a) => {
        expect(iou(a, [...a] as unknown as Box)).toBe(1);
      }),
    );
  });
  it("a degenerate box overlaps nothing else", () => {
    expect(iou([550, 580, 550, 702], [503, 580, 718, 702])).toBe(0);
  });
});

describe("matchBoxes", () => {
  it("finds the optimal one-to-one assignment, not the greedy one", () => {
    // Greedy would pair pred 0 with gold 0 (IoU 0.6), leaving pred 1 with a poor match.
    const gold: Box[] = [
      [0, 0, 10, 10],
      [6, 0, 16, 10],
    ];
    const pred: Box[] = [
      [3, 0, 13, 10],
      [0, 0, 9, 10],
    ];
    const pairs = matchBoxes(pred, gold);
    const total = pairs.reduce((s, p) => s + p.iou, 0);
    const swapped = iou(pred[0]!, gold[0]!) + iou(pred[1]!, gold[1]!);
    const straight = iou(pred[0]!, gold[1]!) + iou(pred[1]!, gold[0]!);
    expect(total).toBeCloseTo(Math.max(swapped, straight), 12);
  });
  it("matches brute force on random small sets", () => {
    const perms = (n: number): number[][] =>
      n === 0
        ? [[]]
        : perms(n - 1).flatMap((p) =>
            Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
          );
    fc.assert(
      fc.property(
        fc.array(box, { minLength: 1, maxLength: 5 }),
        fc.array(box, { minLength: 5, maxLength: 5 }),
        (pred, gold) => {
          const got = matchBoxes(pred, gold).reduce((s, p) => s + p.iou, 0);
          let best = 0;
          for (const perm of perms(gold.length)) {
            best = Math.max(
              best,
              pred.reduce((s, b, i) => s + iou(b, gold[perm[i]!]!), 0),
            );
          }
          expect(got).toBeCloseTo(best, 9);
        },
      ),
      { numRuns: 50 },
    );
  });
  it("pairs every box of the smaller side past 8 boxes", () => {
    const gold: Box[] = Array.from({ length: 10 }, (_, i) => [i * 50, 0, i * 50 + 40, 40] as const);
    expect(matchBoxes(gold, gold).every((p) => p.pred === p.gold && p.iou === 1)).toBe(true);
  });
});

describe("verifyGrounding", () => {
  it("scores IoU continuously, correct at ≥ 0.5", () => {
    expect(verifyGrounding("[[0,0,10,10]]", "[[0,0,10,10]]", {})).toMatchObject({ score: 1, correct: true });
    const third = verifyGrounding("[[5,0,15,10]]", "[[0,0,10,10]]", {});
    expect(third.score).toBeCloseTo(1 / 3, 12);
    expect(third.correct).toBe(false);
    expect(verifyGrounding("(0, 0, 10, 8)", "[[0,0,10,10]]", {}).correct).toBe(true);
  });
  it("extra predicted boxes cost: mean over max(#pred, #gold)", () => {
    const r = verifyGrounding("[[0,0,10,10],[50,50,60,60]]", "[[0,0,10,10]]", {});
    expect(r.score).toBeCloseTo(0.5, 12);
    expect(r.correct).toBe(false);
  });
  it("matches several gold boxes in any order", () => {
    const r = verifyGrounding("[[50,50,60,60],[0,0,10,10]]", "[[0,0,10,10],[50,50,60,60]]", {});
    expect(r).toMatchObject({ score: 1, correct: true });
  });
  it("missing boxes cost", () => {
    expect(verifyGrounding("[[0,0,10,10]]", "[[0,0,10,10],[50,50,60,60]]", {}).score).toBeCloseTo(0.5, 12);
  });
  it("invalid predictions and golds score 0 with a reason", () => {
    expect(verifyGrounding("[[10,0,5,10]]", "[[0,0,10,10]]", {})).toMatchObject({
      score: 0,
      reason: "a box has x1 > x2",
    });
    expect(verifyGrounding("[[0,0,10,10]]", "none", {}).reason).toMatch(/^gold:/);
  });
});

describe("verifyGrounding never throws", () => {
  it("returns a score in [0, 1] for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (pred, gold) => {
        const r = verifyGrounding(pred, gold, { question: "What percentage?", options: ["a", "b", "c"] });
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(r.correct).toBe(r.score >= 0.999);
      }),
      { numRuns: 300 },
    );
  });
});
