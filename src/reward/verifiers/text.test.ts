import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyText } from "./text.ts";

const score = (pred: string, gold: string) => verifyText(pred, gold, {}).score;

describe("verifyText", () => {
  it("normalises case, punctuation, articles, whitespace and full-width forms", () => {
    expect(score("The Eiffel Tower.", "eiffel tower")).toBe(1);
    expect(score("  STOP  sign ", "stop sign")).toBe(1);
    expect(score("ＡＢＣ", "abc")).toBe(1);
    expect(score("上海 市", "上海市")).toBe(1);
  });
  it("number words equal digits", () => {
    expect(score("three", "3")).toBe(1);
    expect(score("twenty-one", "21")).toBe(1);
    expect(score("三", "3")).toBe(1);
  });
  it("yes/true/T are the same answer", () => {
    expect(score("True", "Yes")).toBe(1);
    expect(score("no", "False")).toBe(1);
    expect(score("yes", "no")).toBe(0);
  });
  it("lists are order-free but complete", () => {
    expect(score("red, blue", "blue and red")).toBe(1);
    expect(score("长江, 黄河", "黄河、长江")).toBe(1);
    expect(score("red", "blue and red")).toBe(0);
    expect(score("red, blue, green", "blue and red")).toBe(0);
  });
  it("numbers compare by value, with MMSI's % and ° handling but no 0.9 tolerance", () => {
    expect(score("2.0", "2")).toBe(1);
    expect(score("50%", "0.5")).toBe(1);
    expect(score("72°", "72")).toBe(1);
    expect(score("1", "10")).toBe(0);
    expect(score("1", "1.9")).toBe(0);
  });
  it("keeps spacing inside Latin words significant", () => {
    expect(score("I phone", "iPhone")).toBe(0);
  });
  it("accepts the option letter of the gold text when options are given", () => {
    expect(verifyText("B", "dog", { options: ["cat", "dog"] }).score).toBe(1);
    expect(verifyText("A", "dog", { options: ["cat", "dog"] }).score).toBe(0);
  });
  it("empty sides score 0 with a reason", () => {
    expect(verifyText("", "x", {})).toMatchObject({ score: 0, reason: "prediction is empty" });
    expect(verifyText("x", "", {})).toMatchObject({ score: 0, reason: "gold is empty" });
  });
});

describe("verifyText never throws", () => {
  it("returns a score in [0, 1] for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (pred, gold) => {
        const r = verifyText(pred, gold, { question: "What percentage?", options: ["a", "b", "c"] });
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(r.correct).toBe(r.score >= 0.999);
      }),
      { numRuns: 300 },
    );
  });
});
