import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { verifyPhysics } from "./physics.ts";

const golden = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/glmv-reward-golden.json", import.meta.url), "utf8"),
) as Record<string, [string, number][]>;

const score = (pred: string, gold: string): number => verifyPhysics(pred, gold, {}).score;

describe("physics: golden.json physics.judge pairs, intended verdicts", () => {
  // Faithful values are all 0: unit-bearing pairs go straight to the (offline) LLM, there is no exact-match
  // shortcut, and the numeric path is dead (sympify strict=True). glmv decides them by rule.
  const intended: Record<string, number> = {
    "'12' vs '12.0'": 1,
    "'12 m' vs '12'": 1,
    "'3' vs '4'": 0,
    "'x' vs 'x'": 1,
  };
  it.each(golden["physics.judge(LLM offline)"]!)("%s (faithful %d)", (label) => {
    const m = /^'(.*)' vs '(.*)'$/.exec(label)!;
    expect(score(m[1]!, m[2]!)).toBe(intended[label]);
  });
});

describe("physics: units by conversion", () => {
  it.each([
    ["5 km", "5000 m"],
    ["3.6 km/h", "1 m/s"],
    ["0.5 kg", "500 g"],
    ["298.15 K", "25 °C"],
    ["25^\\circ C", "298.15 K"],
    ["9.8 \\mathrm{m/s^2}", "9.8 m s^{-2}"],
    ["1 kJ", "1000 J"],
    ["101.325 kPa", "1 atm"],
    ["2 h", "7200 s"],
    ["12m", "12 m"],
    ["12", "12 m"],
    ["5 \\text{ N}", "5 kg m/s^2"],
  ])("%s = %s", (pred, gold) => {
    expect(verifyPhysics(pred, gold, {})).toMatchObject({ score: 1, correct: true });
  });
  it("a present unit must convert correctly", () => {
    expect(verifyPhysics("5 kg", "5 m", {})).toMatchObject({ score: 0, reason: "unit_mismatch" });
    expect(score("5 m", "5 km")).toBe(0);
    expect(score("1 m/s", "1 km/h")).toBe(0);
  });
});

describe("physics: notation and vectors", () => {
  it("scientific notation", () => {
    expect(score("3 \\times 10^8 m/s", "300000000 m/s")).toBe(1);
    expect(score("3.0×10⁸", "3e8")).toBe(1);
    expect(score("3.00001e8", "3e8")).toBe(1);
    expect(score("3.0001e8", "3e8")).toBe(0);
  });
  it("vectors compare element-wise, with a shared unit", () => {
    expect(score("(3, 4) m/s", "(3 m/s, 4 m/s)")).toBe(1);
    expect(score("(0.003, 0.004) km/s", "(3, 4) m/s")).toBe(1);
    expect(score("(4, 3) m/s", "(3, 4) m/s")).toBe(0);
    expect(score("3\\hat{i} + 4\\hat{j}", "4\\hat{j} + 3\\hat{i}")).toBe(1);
  });
  it("tolerance is 1e-5, relative to gold", () => {
    expect(score("9.80009", "9.8")).toBe(1);
    expect(score("9.8001", "9.8")).toBe(0);
  });
});
