import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeOcrVerifier, ocrSimilarity, verifyOcr, verifyOcrIgnoreCase } from "./ocr.ts";

describe("verifyOcr", () => {
  it("is continuous 1 − edit distance / max length", () => {
    expect(verifyOcr("社区服务", "社区服", {}).score).toBeCloseTo(0.75, 12);
    expect(verifyOcr("abcd", "abce", {})).toMatchObject({ score: 0.75, correct: false });
  });
  it("ignores all whitespace", () => {
    expect(verifyOcr("a b\nc\t", "abc", {})).toMatchObject({ score: 1, correct: true });
  });
  it("is case-sensitive by default", () => {
    expect(verifyOcr("AFSDF", "afsdf", {}).score).toBe(0);
  });
  it("counts code points, not UTF-16 units", () => {
    // One emoji substituted: 1 edit of 2 characters, not 2 of 3 units.
    expect(verifyOcr("a😀", "a😁", {}).score).toBeCloseTo(0.5, 12);
    expect(verifyOcr("𠀀𠀁", "𠀀𠀁", {}).score).toBe(1);
    expect(ocrSimilarity("x𠀀", "x", { ignoreCase: false })).toBeCloseTo(0.5, 12);
  });
  it("both empty is 0 with a reason, not a division by zero", () => {
    expect(verifyOcr("", " \n", {})).toMatchObject({ score: 0, correct: false });
    expect(verifyOcr("", "", {}).reason).toMatch(/empty/);
  });
  it("an empty prediction against text scores 0", () => {
    expect(verifyOcr("", "abc", {}).score).toBe(0);
  });
  it("treats NFC and NFD forms of the same text as equal", () => {
    expect(verifyOcr("e\u0301", "\u00e9", {}).score).toBe(1);
  });
});

describe("verifyOcrIgnoreCase", () => {
  it("lower-cases both sides", () => {
    expect(verifyOcrIgnoreCase("AFSDF", "afsdf", {})).toMatchObject({ score: 1, correct: true });
    expect(verifyOcrIgnoreCase("AFSDF", "AFSDF.", {}).score).toBeCloseTo(0.8333333333333334, 12);
  });
  it("matches the factory", () => {
    expect(makeOcrVerifier({ ignoreCase: true })("Ab", "aB", {}).score).toBe(1);
  });
});

describe("verifyOcr never throws", () => {
  it("returns a score in [0, 1] for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (pred, gold) => {
        const r = verifyOcr(pred, gold, { question: "What percentage?", options: ["a", "b", "c"] });
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(r.correct).toBe(r.score >= 0.999);
      }),
      { numRuns: 300 },
    );
  });
});
