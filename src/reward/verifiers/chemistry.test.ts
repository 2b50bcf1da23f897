import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { verifyChemistry } from "./chemistry.ts";

const golden = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/glmv-reward-golden.json", import.meta.url), "utf8"),
) as Record<string, [string, number][]>;

const score = (pred: string, gold: string, ctx = {}): number => verifyChemistry(pred, gold, ctx).score;

describe("chemistry: golden.json chemistry.judge pairs, intended verdicts", () => {
  // Faithful values are 0 (dead sympy path; units such as "M" send the pair to the offline LLM).
  const intended: Record<string, number> = { "'12' vs '12.0'": 1, "'0.1 M' vs '0.1'": 1 };
  it.each(golden["chemistry.judge(LLM offline)"]!)("%s (faithful %d)", (label) => {
    const m = /^'(.*)' vs '(.*)'$/.exec(label)!;
    expect(score(m[1]!, m[2]!)).toBe(intended[label]);
  });
});

describe("chemistry: formulas", () => {
  it.each([
    ["H2O", "H_2O"],
    ["\\mathrm{H_2O}", "H2O"],
    ["\\ce{H2SO4}", "H_2SO_4"],
    ["SO_4^{2-}", "SO4^{-2}"],
    ["\\mathrm{SO_4^{2-}}", "SO₄²⁻"],
    ["Na^+", "Na+"],
    ["NaCl(aq)", "NaCl"],
    ["CuSO_4\\cdot 5H_2O", "CuSO4·5H2O"],
  ])("%s = %s", (pred, gold) => {
    expect(verifyChemistry(pred, gold, {})).toMatchObject({ score: 1, correct: true });
  });
  it.each([
    ["CO", "Co"],
    ["OH2", "H2O"],
    ["SO_4^{-}", "SO_4^{2-}"],
    ["NaCl(s)", "NaCl(aq)"],
  ])("%s ≠ %s", (pred, gold) => {
    expect(score(pred, gold)).toBe(0);
  });
});

describe("chemistry: reactions", () => {
  const gold = "2H_2 + O_2 \\rightarrow 2H_2O";
  it("any arrow, any species order, proportional coefficients", () => {
    expect(score("O2 + 2H2 -> 2H2O", gold)).toBe(1);
    expect(score("2H2 + O2 = 2H2O", gold)).toBe(1);
    expect(score("2H_2 + O_2 ⇌ 2H_2O", gold)).toBe(1);
    expect(score("H_2 + \\frac{1}{2}O_2 → H_2O", gold)).toBe(1);
    expect(score("2H2(g) + O2(g) → 2H2O(l)", gold)).toBe(1);
  });
  it("unbalanced, extra species, swapped sides and wrong states fail", () => {
    expect(score("H2 + O2 → H2O", gold)).toBe(0);
    expect(score("2H2 + O2 → 2H2O + O2", gold)).toBe(0);
    expect(score("2H2O → 2H2 + O2", gold)).toBe(0);
    expect(score("2H2(g) + O2(g) → 2H2O(g)", "2H2(g) + O2(g) → 2H2O(l)")).toBe(0);
    expect(score("H2O", gold)).toBe(0);
  });
  it("charges in ionic equations", () => {
    expect(score("Cl^- + Ag^+ → AgCl", "Ag^{+} + Cl^{-} \\rightarrow AgCl")).toBe(1);
  });
});

describe("chemistry: quantities", () => {
  it("units and tolerance", () => {
    expect(score("0.1 mol/L", "0.1 M")).toBe(1);
    expect(score("100 mM", "0.1 M")).toBe(1);
    expect(score("-285.8 kJ/mol", "-285800 J/mol")).toBe(1);
    expect(score("0.2 M", "0.1 M")).toBe(0);
    expect(score("7.00", "7")).toBe(1);
    expect(score("22.4 L", "22400 mL")).toBe(1);
  });
  it("choice letters are letters, not element symbols", () => {
    expect(score("(B)", "B")).toBe(1);
    expect(score("C", "B")).toBe(0);
    expect(score("NaCl", "A", { options: ["NaCl", "KCl"] })).toBe(1);
  });
});
