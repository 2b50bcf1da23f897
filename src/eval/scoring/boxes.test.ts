import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  answerBoxes,
  bestBoxIndex,
  boxIou,
  centreInBox,
  formatBox,
  officialBoxes,
  pyFloat,
  readFormattedBox,
  thousandthsToPixels,
  type XyxyBox,
  xywhToXyxy,
} from "./boxes.ts";

type Case = {
  id: string;
  response: string;
  bbox: [number, number, number, number];
  width: number;
  height: number;
  expected: { boxes: XyxyBox[]; iou: number; acc: Record<string, boolean>; center: boolean };
};
const REFERENCE = JSON.parse(
  readFileSync(join(import.meta.dirname, "../../../test/benchmarks/refcoco/reference-verdicts.json"), "utf8"),
) as { cases: Case[] };

describe("lmms-eval refcoco_grounding rule against its Python (reference verdicts)", () => {
  it.each(REFERENCE.cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    expect(officialBoxes(c.response)).toEqual(c.expected.boxes);
    const gold = xywhToXyxy(c.bbox);
    const pixels = answerBoxes(c.response).map((b) => thousandthsToPixels(b, c.width, c.height));
    const best = bestBoxIndex(pixels, gold);
    const chosen = best >= 0 ? pixels[best]! : ([0, 0, 0, 0] as XyxyBox);
    const iou = boxIou(chosen, gold);
    expect(iou).toBe(c.expected.iou);
    for (const [t, hit] of Object.entries(c.expected.acc)) expect(iou >= Number(t)).toBe(hit);
    expect(centreInBox(gold, chosen)).toBe(c.expected.center);
  });
});

describe("answerBoxes (GLM's bracket styles first)", () => {
  it("reads GLM styles that lmms-eval's regex misses: 【】, full-width digits and commas", () => {
    expect(officialBoxes("【10，20，30，40】")).toEqual([]);
    expect(answerBoxes("【10，20，30，40】")).toEqual([[10, 20, 30, 40]]);
    expect(answerBoxes("［１０,２０,３０,４０］")).toEqual([[10, 20, 30, 40]]);
    expect(answerBoxes("<10 20 30 40>")).toEqual([[10, 20, 30, 40]]);
  });
  it("falls back to lmms-eval's parser where GLM's strict reading fails (out of range, prose)", () => {
    expect(answerBoxes("[[0,0,1000,1000]]")).toEqual([[0, 0, 1000, 1000]]);
    expect(answerBoxes('{"bbox_2d": [1, 2, 3, 4]}')).toEqual([[1, 2, 3, 4]]);
    expect(answerBoxes("nothing here")).toEqual([]);
  });
});

describe("pyFloat (Python's float() on JSON values)", () => {
  it.each([
    [" 12.5 ", 12.5],
    ["1_000", 1000],
    [".5", 0.5],
    ["5.", 5],
    ["-3e2", -300],
    ["inf", Number.POSITIVE_INFINITY],
    ["-Infinity", Number.NEGATIVE_INFINITY],
    [true, 1],
    [false, 0],
    [7, 7],
  ])("%j → %d", (v, want) => {
    expect(pyFloat(v)).toBe(want);
  });
  it.each([["e5"], ["."], ["1__0"], ["_1"], ["1e"], ["abc"], [""], [null], [[1]], [{}]])(
    "%j raises → null",
    (v) => {
      expect(pyFloat(v)).toBeNull();
    },
  );
  it("nan is NaN", () => expect(pyFloat("NaN")).toBeNaN());
});

describe("box arithmetic", () => {
  it("thousandths → pixels multiplies after dividing, as lmms-eval does", () => {
    expect(thousandthsToPixels([500, 0, 1000, 250], 640, 480)).toEqual([320, 0, 640, 120]);
    expect(thousandthsToPixels([123, 456, 789, 987], 1171, 1333)).toEqual([
      (123 / 1000) * 1171,
      (456 / 1000) * 1333,
      (789 / 1000) * 1171,
      (987 / 1000) * 1333,
    ]);
  });
  it("IoU: inverted boxes have no area; an empty union is 0 (even for identical points)", () => {
    expect(boxIou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3, 15);
    expect(boxIou([10, 10, 0, 0], [0, 0, 10, 10])).toBe(0);
    expect(boxIou([5, 5, 5, 5], [5, 5, 5, 5])).toBe(0);
  });
  it("centre accuracy counts the gold box's edges", () => {
    expect(centreInBox([0, 0, 10, 10], [8, 8, 12, 12])).toBe(true);
    expect(centreInBox([0, 0, 10, 10], [8, 8, 12.2, 12])).toBe(false);
  });
  it("best box: highest IoU, the first on ties, -1 for none", () => {
    const gold: XyxyBox = [0, 0, 10, 10];
    expect(
      bestBoxIndex(
        [
          [20, 20, 30, 30],
          [0, 0, 10, 10],
        ],
        gold,
      ),
    ).toBe(1);
    expect(
      bestBoxIndex(
        [
          [20, 20, 30, 30],
          [40, 40, 50, 50],
        ],
        gold,
      ),
    ).toBe(0);
    expect(bestBoxIndex([], gold)).toBe(-1);
  });
  it("formatBox reads back exactly", () => {
    const box: XyxyBox = [0.1 + 0.2, 1e-7, 123.456, -4];
    expect(readFormattedBox(formatBox(box))).toEqual(box);
    expect(readFormattedBox(null)).toBeNull();
    expect(readFormattedBox("(1,2)")).toBeNull();
  });
});
