import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chartNumbersMatch, readChartNumber, verifyChart } from "./chart.ts";

const ok = (pred: string, gold: string, question?: string) =>
  verifyChart(pred, gold, question === undefined ? {} : { question }).score;

describe("readChartNumber", () => {
  it.each([
    ["12.5 %", 0.125, true, 1],
    ["$1.2 million", 1.2, false, 1e6],
    ["\\frac{900}{20}", 45, false, 1],
    ["about 3,500 people", 3500, false, 1],
    ["five percent", 0.05, true, 1],
    ["72^\\circ", 72, false, 1],
    ["-3.5", -3.5, false, 1],
    ["５k", 5, false, 1e3],
    ["3/4", 0.75, false, 1],
    ["45元", 45, false, 1],
    ["\\text{45 kg}", 45, false, 1],
  ])("%j", (text, value, percent, scale) => {
    const n = readChartNumber(text);
    expect(n).not.toBeNull();
    expect(n!.value).toBeCloseTo(value, 12);
    expect(n!.percent).toBe(percent);
    expect(n!.scale).toBe(scale);
  });
  it.each([["2010-2011"], ["3 and 4"], ["Yes"], [""], ["1/0"], ["COVID-19"]])("%j → null", (text) => {
    expect(readChartNumber(text)).toBeNull();
  });
});

describe("verifyChart: numbers", () => {
  it("accepts 2.5% relative error with the gold as scale", () => {
    expect(ok("102", "100")).toBe(1);
    expect(ok("97.5", "100")).toBe(1);
    expect(ok("102.6", "100")).toBe(0);
    expect(ok("97.4", "100")).toBe(0);
  });
  it("compares years exactly", () => {
    expect(ok("2010", "2011")).toBe(0);
    expect(ok("2011", "2011.0")).toBe(1);
    expect(ok("1999", "2000")).toBe(0);
  });
  it("strips units, currency, thousands separators and degree signs", () => {
    expect(ok("$1,200", "1200")).toBe(1);
    expect(ok("72 °", "72")).toBe(1);
    expect(ok("45 kg", "45")).toBe(1);
    expect(ok("1.2 million", "1200000")).toBe(1);
  });
  it("reads LaTeX fractions and number words", () => {
    expect(ok("\\frac{900}{20}", "45.00")).toBe(1);
    expect(ok("\\frac{919}{20}", "43.95")).toBe(0);
    expect(ok("twelve", "12")).toBe(1);
  });
  it("rejects ranges and several numbers against a number", () => {
    expect(ok("45-50", "45")).toBe(0);
    expect(ok("45 or 50", "45")).toBe(0);
    const r = verifyChart("45 or 50", "45", {});
    expect(r.reason).toMatch(/not a single number/);
  });
});

describe("verifyChart: percent rule", () => {
  it("one side with % — the bare side may be a fraction or percentage points", () => {
    expect(ok("0.5", "50%")).toBe(1);
    expect(ok("50", "50%")).toBe(1);
    expect(ok("50%", "0.5")).toBe(1);
    expect(ok("50%", "50")).toBe(1);
    expect(ok("40", "50%")).toBe(0);
  });
  it("both with % compare as written", () => {
    expect(ok("50 %", "50%")).toBe(1);
    expect(ok("0.5%", "50%")).toBe(0);
  });
  it("neither with %: a factor of 100 only when the question asks for a percentage", () => {
    expect(ok("0.5", "50")).toBe(0);
    expect(ok("0.5", "50", "What percentage of users are adults?")).toBe(1);
  });
  it("chartNumbersMatch is exposed for reuse", () => {
    expect(chartNumbersMatch(readChartNumber("0.25")!, readChartNumber("25%")!, false)).toBe(true);
  });
});

describe("verifyChart: text", () => {
  it("normalised exact match with yes/true/T equivalence", () => {
    expect(ok("Blue", "blue")).toBe(1);
    expect(ok("T", "Yes")).toBe(1);
    expect(ok("True", "yes")).toBe(1);
    expect(ok("No", "Yes")).toBe(0);
    expect(ok("the United States", "United States")).toBe(1);
  });
  it("lists are order-free except for difference questions", () => {
    expect(ok("12, 15", "15, 12")).toBe(1);
    expect(ok("12, 15", "15, 12", "What is the difference between A and B?")).toBe(0);
    expect(ok("12.1, 15", "15, 12")).toBe(1);
  });
  it("option letters when the item has options", () => {
    expect(verifyChart("B", "42", { options: ["12", "42"] }).score).toBe(1);
  });
  it("empty sides score 0 with a reason", () => {
    expect(verifyChart("", "5", {})).toMatchObject({ score: 0, reason: "prediction is empty" });
    expect(verifyChart("5", " ", {})).toMatchObject({ score: 0, reason: "gold is empty" });
  });
});

describe("verifyChart never throws", () => {
  it("returns a score in [0, 1] for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (pred, gold) => {
        const r = verifyChart(pred, gold, { question: "What percentage?", options: ["a", "b", "c"] });
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(r.correct).toBe(r.score >= 0.999);
      }),
      { numRuns: 300 },
    );
  });
});
