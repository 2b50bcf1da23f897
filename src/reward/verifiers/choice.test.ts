import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveChoice, resolveChoices, verifyChoice } from "./choice.ts";

const OPTS = ["12", "42", "a red car", "None of the above"];

describe("resolveChoice: letter dressings", () => {
  it.each([
    ["B", "B"],
    ["b", "B"],
    ["(B)", "B"],
    ["[B]", "B"],
    ["B.", "B"],
    ["B)", "B"],
    ["Option B", "B"],
    ["option b", "B"],
    ["The answer is (B).", "B"],
    ["Answer: B", "B"],
    ["选项B", "B"],
    ["B) 42", "B"],
    ["(B) 42", "B"],
    ["B. 42", "B"],
    ["B: 42", "B"],
    ["（B）", "B"],
    ["Ｂ", "B"],
  ])("%s → %s", (pred, letter) => {
    expect(resolveChoice(pred, OPTS)).toBe(letter);
  });
});

describe("resolveChoice: option text", () => {
  it("matches the option's own text, case- and space-insensitively", () => {
    expect(resolveChoice("42", OPTS)).toBe("B");
    expect(resolveChoice("A  Red Car", OPTS)).toBe("C");
    expect(resolveChoice("none of the above.", OPTS)).toBe("D");
  });
  it("accepts letter-keyed maps and options that carry their own prefix", () => {
    expect(resolveChoice("dog", { A: "cat", B: "dog" })).toBe("B");
    expect(resolveChoice("dog", ["A. cat", "B. dog"])).toBe("B");
    expect(resolveChoice("(b)", { "(A)": "cat", "(B)": "dog" })).toBe("B");
  });
  it("a text that reads as an article + word is text, not a letter", () => {
    expect(resolveChoice("A cat", ["dog", "a cat"])).toBe("B");
  });
});

describe("resolveChoice: none or ambiguous → null", () => {
  it.each([
    [""],
    ["E"], // not an option
    ["A or B"],
    ["A, B"],
    ["AB"],
    ["a dog"],
    ["I think it is 42 or 12"],
    ["B) 12"], // letter says B, text says A
    ["Option"],
  ])("%j → null", (pred) => {
    expect(resolveChoice(pred, OPTS)).toBeNull();
  });
  it("two options with the same text cannot be told apart", () => {
    expect(resolveChoice("same", ["same", "same", "other"])).toBeNull();
  });
  it("without options any letter A–Z counts", () => {
    expect(resolveChoice("(F)", undefined)).toBe("F");
    expect(resolveChoice("a dog", undefined)).toBeNull();
  });
});

describe("resolveChoices: letter sets", () => {
  it.each([
    ["AC", ["A", "C"]],
    ["A, C", ["A", "C"]],
    ["C and A", ["A", "C"]],
    ["(A)(C)", ["A", "C"]],
    ["A、C", ["A", "C"]],
    ["options A & D", ["A", "D"]],
  ])("%s → %j", (pred, letters) => {
    expect(resolveChoices(pred, OPTS)).toEqual(letters);
  });
  it("repeated letters are not a set", () => {
    expect(resolveChoices("A, A", OPTS)).toBeNull();
  });
  it("lower-case runs are words, not letters", () => {
    expect(resolveChoices("ac", undefined)).toBeNull();
  });
});

describe("verifyChoice", () => {
  const ctx = { options: OPTS };
  it("scores a matching letter, dressing or text", () => {
    expect(verifyChoice("(B)", "B", ctx)).toMatchObject({ score: 1, correct: true });
    expect(verifyChoice("42", "B", ctx)).toMatchObject({ score: 1, correct: true });
    expect(verifyChoice("B", "42", ctx)).toMatchObject({ score: 1, correct: true });
  });
  it("a wrong letter scores 0", () => {
    expect(verifyChoice("A", "B", ctx)).toMatchObject({ score: 0, correct: false });
  });
  it("several letters on a single-answer item score 0, with a reason", () => {
    const r = verifyChoice("A, B", "B", ctx);
    expect(r.score).toBe(0);
    expect(r.reason).toMatch(/several/);
  });
  it("multi-answer items compare order-free sets", () => {
    expect(verifyChoice("C, A", "AC", ctx).score).toBe(1);
    expect(verifyChoice("A", "AC", ctx).score).toBe(0);
    expect(verifyChoice("ABC", "AC", ctx).score).toBe(0);
  });
  it("an unresolvable prediction scores 0", () => {
    expect(verifyChoice("maybe", "B", ctx)).toMatchObject({
      score: 0,
      reason: "prediction designates no option",
    });
  });
  it("without options, a text gold is compared as normalised text", () => {
    expect(verifyChoice("Paris.", "paris", {}).score).toBe(1);
    expect(verifyChoice("B", "B", {}).score).toBe(1);
    expect(verifyChoice("b", "B", {}).score).toBe(1);
  });
});

describe("verifyChoice never throws", () => {
  it("returns a score in [0, 1] for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (pred, gold) => {
        const r = verifyChoice(pred, gold, { question: "What percentage?", options: ["a", "b", "c"] });
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(r.correct).toBe(r.score >= 0.999);
      }),
      { numRuns: 300 },
    );
  });
});

describe("resolveChoice: lead-in before option text", () => {
  it("reads 'The answer is 42' as the option whose text is 42", () => {
    expect(resolveChoice("The answer is 42", OPTS)).toBe("B");
  });
});

describe("TeX styling around a letter", () => {
  it("reads \\textbf{B}, \\mathrm{(C)} and \\text{D} as the letter, and styling inside a longer answer not at all", () => {
    const options = ["1", "2", "3", "4"];
    expect(resolveChoices("\\textbf{B}", options)).toEqual(["B"]);
    expect(resolveChoices("\\mathrm{(C)}", options)).toEqual(["C"]);
    expect(resolveChoices("\\text{D}", options)).toEqual(["D"]);
    expect(resolveChoices("\\textbf{E}", options)).toBeNull();
  });
});
