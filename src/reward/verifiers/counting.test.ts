import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyCounting } from "./counting.ts";

describe("verifyCounting", () => {
  it.each([
    ["1", "1"],
    ["01", "1"],
    ["1.0", "1"],
    ["five", "5"],
    ["5 apples", "5"],
    ["十只猫", "10"],
    ["２", "2"],
    ["twenty-one", "21"],
    ["There are 5 apples.", "5"],
    ["Answer: 5", "5"],
    ["共5个", "5"],
    ["一共有三只", "3"],
  ])("%j = %j", (pred, gold) => {
    expect(verifyCounting(pred, gold, {})).toMatchObject({ score: 1, correct: true });
  });
  it.each([
    ["2", "22"],
    ["3", "4"],
    ["1.5", "1"],
    ["2-3", "2"],
    ["2 or 3", "2"],
    ["三到四个", "3"],
    ["about 5", "5"],
    ["", "5"],
  ])("%j ≠ %j", (pred, gold) => {
    expect(verifyCounting(pred, gold, {})).toMatchObject({ score: 0, correct: false });
  });
  it("explains an unusable gold", () => {
    expect(verifyCounting("5", "many", {}).reason).toBe("gold is not a single whole count");
  });
});

describe("verifyCounting never throws", () => {
  it("returns a score in [0, 1] for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (pred, gold) => {
        const r = verifyCounting(pred, gold, { question: "What percentage?", options: ["a", "b", "c"] });
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(r.correct).toBe(r.score >= 0.999);
      }),
      { numRuns: 300 },
    );
  });
});
