import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Box,
  boxIou,
  distanceScore,
  distanceToBox,
  isValidTarget,
  matchTarget,
  type Point,
  parseTarget,
  pointInBox,
} from "./point.ts";

const pt = (x: number, y: number): Point => ({ kind: "point", x, y });
const box = (x1: number, y1: number, x2: number, y2: number): Box => ({ kind: "box", x1, y1, x2, y2 });

describe("distanceScore (OSWorld)", () => {
  it("falls linearly from 1 to 0.8 within 20 units", () => {
    expect(distanceScore(0)).toBe(1);
    expect(distanceScore(10)).toBeCloseTo(0.9, 12);
    expect(distanceScore(20)).toBeCloseTo(0.8, 12);
  });
  it("drops to 1 − d/50 past 20 and reaches 0 at 50", () => {
    expect(distanceScore(20.0001)).toBeCloseTo(0.6, 4);
    expect(distanceScore(30)).toBeCloseTo(0.4, 12);
    expect(distanceScore(50)).toBe(0);
    expect(distanceScore(500)).toBe(0);
  });
  it("gives 0 for nonsense distances", () => {
    expect(distanceScore(Number.NaN)).toBe(0);
    expect(distanceScore(-1)).toBe(0);
  });
  it("never increases with distance beyond the 20-unit step", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (a, b) => {
          const [near, far] = a <= b ? [a, b] : [b, a];
          expect(distanceScore(far)).toBeLessThanOrEqual(distanceScore(near));
        },
      ),
    );
  });
});

describe("parseTarget", () => {
  it("reads points and boxes in bracket and paren forms", () => {
    expect(parseTarget("[100, 200]")).toEqual(pt(100, 200));
    expect(parseTarget(" (7,8) ")).toEqual(pt(7, 8));
    expect(parseTarget("[1, 2, 3, 4]")).toEqual(box(1, 2, 3, 4));
    expect(parseTarget("[[1,2,3,4]]")).toEqual(box(1, 2, 3, 4));
  });
  it("refuses fractions, 3 numbers, words, deep nesting and huge digit runs", () => {
    for (const bad of ["[1.5, 2]", "[1, 2, 3]", "[a, b]", "[[[1,2]]]", `[${"9".repeat(40)}, 1]`, "", "[]"]) {
      expect(parseTarget(bad)).toBeNull();
    }
  });
  it("reads negatives and 1000 so validity can reject them", () => {
    expect(isValidTarget(parseTarget("[-1, 5]")!)).toBe(false);
    expect(isValidTarget(parseTarget("[1000, 5]")!)).toBe(false);
    expect(isValidTarget(parseTarget("[999, 0]")!)).toBe(true);
    expect(isValidTarget(box(5, 5, 4, 9))).toBe(false); // x1 > x2
  });
});

describe("point-in-box", () => {
  const b = box(100, 100, 200, 150);
  it("counts edges as inside", () => {
    expect(pointInBox(pt(100, 150), b)).toBe(true);
    expect(pointInBox(pt(201, 120), b)).toBe(false);
  });
  it("measures distance to the nearest edge point", () => {
    expect(distanceToBox(pt(150, 120), b)).toBe(0);
    expect(distanceToBox(pt(210, 120), b)).toBe(10);
    expect(distanceToBox(pt(203, 154), b)).toBe(5); // corner: 3-4-5
  });
});

describe("boxIou", () => {
  it("matches AndroidWorld's raw-area IoU", () => {
    expect(boxIou(box(503, 680, 718, 802), box(503, 580, 718, 702))).toBeCloseTo(0.0990990990990991, 12);
    expect(boxIou(box(0, 0, 10, 10), box(0, 0, 10, 10))).toBe(1);
    expect(boxIou(box(0, 0, 10, 10), box(20, 20, 30, 30))).toBe(0);
    expect(boxIou(box(5, 5, 5, 5), box(5, 5, 5, 5))).toBe(0); // zero union
  });
});

describe("matchTarget", () => {
  const gold = box(503, 580, 718, 702);
  it("point inside a box: score 1, a hit", () => {
    expect(matchTarget(pt(600, 650), gold)).toEqual({ score: 1, hit: true, how: "in_box" });
  });
  it("point outside a box: distance score to the nearest edge, never a hit", () => {
    const m = matchTarget(pt(728, 650), gold);
    expect(m.score).toBeCloseTo(0.9, 12);
    expect(m.hit).toBe(false);
    expect(matchTarget(pt(503, 800), gold).score).toBe(0);
  });
  it("box vs box is IoU, a hit at ≥ 0.5", () => {
    expect(matchTarget(gold, gold)).toEqual({ score: 1, hit: true, how: "iou" });
    expect(matchTarget(box(503, 680, 718, 802), gold).hit).toBe(false);
  });
  it("a predicted box against a labelled point is scored by its centre, so a screen-sized box earns nothing", () => {
    expect(matchTarget(box(0, 0, 999, 999), pt(100, 100)).score).toBe(0);
    expect(matchTarget(box(90, 90, 110, 110), pt(100, 100)).score).toBe(1);
  });
  it("point vs point uses the OSWorld distance score", () => {
    expect(matchTarget(pt(110, 190), pt(100, 200)).score).toBeCloseTo(0.8585786437626904, 10);
  });
  it("anything invalid scores 0", () => {
    expect(matchTarget(pt(1000, 5), gold).score).toBe(0);
    expect(matchTarget(pt(5, 5), box(0, 0, 1000, 10)).score).toBe(0);
    expect(matchTarget(pt(-1, 5), pt(0, 5)).score).toBe(0);
  });
});
