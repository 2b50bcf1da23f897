import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Domain } from "../model/domains.ts";
import { DOMAINS } from "../model/domains.ts";
import type { HackReason } from "./antihack.ts";
import { detectHacking } from "./antihack.ts";
import { isMultipleValues } from "./antihack-alternatives.ts";
import { isHedgedRange } from "./antihack-ranges.ts";
import { isSingleValue, numericValue, optionLetters } from "./antihack-shapes.ts";

type Hack = [pred: string, gold: string, domain: Domain, reason: HackReason];
type Legit = [pred: string, gold: string, domain: Domain];

/** Answers that game a verifier: each must be flagged, with this reason. */
const HACKS: Hack[] = [
  // hedged ranges
  ["between 0 and 10", "5", "math", "hedged_range"],
  ["between 3 and 5", "4", "counting", "hedged_range"],
  ["Between 10% and 20%", "15%", "chart", "hedged_range"],
  ["from 3 to 5", "4", "math", "hedged_range"],
  ["from 3 cm to 5 cm", "4 cm", "physics", "hedged_range"],
  ["between 9 and 10 m/s^2", "9.8 m/s^2", "physics", "hedged_range"],
  ["3 to 5", "4", "counting", "hedged_range"],
  ["about 30 to 40", "35", "chart", "hedged_range"],
  ["7~8", "7", "counting", "hedged_range"],
  ["7 ～ 8", "8", "counting", "hedged_range"],
  ["7到8", "7", "counting", "hedged_range"],
  ["7至9", "8", "chart", "hedged_range"],
  ["介于3和5之间", "4", "math", "hedged_range"],
  ["3-5", "4", "counting", "hedged_range"],
  ["2014-2016", "2015", "chart", "hedged_range"],
  ["2014–2016", "2015", "chart", "hedged_range"],
  ["10 - 20 kg", "15 kg", "physics", "hedged_range"],
  ["[6, 8]", "7", "math", "hedged_range"],
  ["(6, 8)", "7", "math", "hedged_range"],
  ["$3$ to $5$", "4", "math", "hedged_range"],
  ["x = 3 to 5", "4", "math", "hedged_range"],
  ["1,000 to 2,000", "1,500", "chart", "hedged_range"],
  ["40-60%", "50%", "chart", "hedged_range"],
  // inequalities and open bounds
  ["6 < x < 8", "7", "math", "inequality_range"],
  ["6 \\le x \\le 8", "7", "math", "inequality_range"],
  ["6 ≤ x ≤ 8", "7", "math", "inequality_range"],
  ["6 < n < 8", "7", "counting", "inequality_range"],
  ["x > 3", "4", "math", "open_bound"],
  ["x \\geq 5", "5", "math", "open_bound"],
  ["≥ 5", "5", "counting", "open_bound"],
  ["at least 5", "5", "counting", "open_bound"],
  ["At most 12", "12", "counting", "open_bound"],
  ["more than 100", "120", "chart", "open_bound"],
  ["less than 3 m/s", "2 m/s", "physics", "open_bound"],
  ["5 or more", "5", "counting", "open_bound"],
  ["5 apples or more", "5", "counting", "open_bound"],
  ["5+", "5", "counting", "open_bound"],
  ["5+ people", "6", "counting", "open_bound"],
  ["over 50", "60", "chart", "open_bound"],
  ["至少5", "5", "counting", "open_bound"],
  ["5个以上", "6", "counting", "open_bound"],
  ["不超过10", "10", "counting", "open_bound"],
  ["up to 8", "8", "counting", "open_bound"],
  // plus-minus
  ["7 ± 1", "7", "math", "plus_minus"],
  ["7 \\pm 1", "7", "math", "plus_minus"],
  ["x^2 \\pm 1", "x^2+1", "math", "plus_minus"],
  ["9.8 \\pm 0.1 m/s^2", "9.8 m/s^2", "physics", "plus_minus"],
  ["x = \\pm 2", "2", "math", "plus_minus"],
  ["5 +/- 1", "5", "chart", "plus_minus"],
  ["\\mp 3", "-3", "math", "plus_minus"],
  // hedged alternatives
  ["7 or 8", "7", "counting", "hedged_alternatives"],
  ["7 or 8", "8", "math", "hedged_alternatives"],
  ["approximately 7 or 8", "7", "chart", "hedged_alternatives"],
  ["10 (or 8)", "10", "math", "hedged_alternatives"],
  ["10 （或 8）", "10", "math", "hedged_alternatives"],
  ["7或8", "7", "counting", "hedged_alternatives"],
  ["x = 2 or x = 3", "2", "math", "hedged_alternatives"],
  ["\\frac{1}{2} or \\frac{1}{3}", "\\frac{1}{2}", "math", "hedged_alternatives"],
  ["3 cm or 4 cm", "3 cm", "physics", "hedged_alternatives"],
  ["0.5 mol or 1 mol", "0.5 mol", "chemistry", "hedged_alternatives"],
  ["either 7 or 8", "7", "counting", "hedged_alternatives"],
  ["either NaCl or KCl", "NaCl", "chemistry", "hedged_alternatives"],
  ["Yes or No", "Yes", "chart", "hedged_alternatives"],
  ["True (or False)", "True", "chart", "hedged_alternatives"],
  ["正确（或错误）", "正确", "math", "hedged_alternatives"],
  ["7/8", "7", "counting", "hedged_alternatives"],
  ["7/8", "8", "counting", "hedged_alternatives"],
  ["12/13", "12", "chart", "hedged_alternatives"],
  ["red or blue", "red", "text", "hedged_alternatives"],
  ["Paris or London", "Paris", "text", "hedged_alternatives"],
  ["seven or eight", "7", "counting", "hedged_alternatives"],
  ["forty-two or forty-three", "42", "math", "hedged_alternatives"],
  ["x^2+1 \\text{ or } x^2-1", "x^2+1", "math", "hedged_alternatives"],
  ["9.8 m/s^2 or 10 m/s^2", "9.8 m/s^2", "physics", "hedged_alternatives"],
  ["blue/green", "blue", "text", "hedged_alternatives"],
  // multiple options
  ["A or B", "A", "choice", "multiple_options"],
  ["A, B, C", "B", "choice", "multiple_options"],
  ["A, B, C, D", "C", "choice", "multiple_options"],
  ["AB", "A", "choice", "multiple_options"],
  ["ABCD", "D", "choice", "multiple_options"],
  ["A and C", "C", "choice", "multiple_options"],
  ["A/B", "B", "choice", "multiple_options"],
  ["(A) or (B)", "A", "choice", "multiple_options"],
  ["either A or B", "A", "choice", "multiple_options"],
  ["both A and B", "B", "choice", "multiple_options"],
  ["A、B", "A", "choice", "multiple_options"],
  ["a, b", "A", "choice", "multiple_options"],
  ["B or C", "(B)", "math", "multiple_options"],
  ["A and D", "A. 12 apples", "choice", "multiple_options"],
  ["C (or maybe B)", "C", "choice", "multiple_options"],
  // multiple values
  ["3, 4, 5", "4", "math", "multiple_values"],
  ["3 and 4", "3", "counting", "multiple_values"],
  ["\\{3, 4\\}", "3", "math", "multiple_values"],
  ["x = 1, x = 2", "1", "math", "multiple_values"],
  ["12; 13", "12", "chart", "multiple_values"],
  ["5 apples, 6 apples", "5", "counting", "multiple_values"],
  ["\\frac{1}{2}, \\frac{1}{3}", "\\frac{1}{2}", "math", "multiple_values"],
  ["2、3", "2", "counting", "multiple_values"],
  ["x^2+1, x^2-1", "x^2+1", "math", "multiple_values"],
  // encoded numbers
  ["XLII", "42", "math", "encoded_number"],
  ["VII", "7", "counting", "encoded_number"],
  ["&#52;&#50;", "42", "math", "encoded_number"],
  ["0x2A", "42", "math", "encoded_number"],
  // any of, uncertainty, placeholders
  ["any of 3, 4, 5", "3", "math", "any_of"],
  ["any of them", "B", "choice", "any_of"],
  ["任意一个", "2", "math", "any_of"],
  ["not sure", "3", "math", "uncertain"],
  ["I don't know", "42", "counting", "uncertain"],
  ["cannot be determined", "12", "physics", "uncertain"],
  ["无法确定", "5", "chart", "uncertain"],
  ["not sure, maybe 5", "5", "counting", "uncertain"],
  ["[number]", "3", "math", "placeholder"],
  ["[answer]", "B", "choice", "placeholder"],
  ["___", "12", "counting", "placeholder"],
  ["???", "7", "chart", "placeholder"],
  ["<answer>", "Paris", "text", "placeholder"],
  ["{your answer}", "2", "physics", "placeholder"],
];

/** Legitimate answers (equivalent, or wrong without hedging, or the gold has the same shape): never flagged. */
const LEGIT: Legit[] = [
  // plain and equivalent values
  ["5", "5", "math"],
  ["5.0", "5", "math"],
  ["x = 5", "5", "math"],
  ["\\frac{1}{2}", "0.5", "math"],
  ["1/2", "0.5", "math"],
  ["7/8", "0.875", "math"],
  ["7/8", "\\frac{7}{8}", "math"],
  ["14/2", "7", "math"],
  ["6/8", "3/4", "math"],
  ["1,234", "1234", "math"],
  ["1,234,567", "1234567", "chart"],
  ["3,5", "3.5", "chart"],
  ["10-3", "7", "math"],
  ["3-10", "-7", "math"],
  ["5 + x", "x+5", "math"],
  ["2^{10}", "1024", "math"],
  ["10^{-3}", "0.001", "physics"],
  ["3 \\times 10^{-5}", "3e-5", "physics"],
  ["1.2e-5 mol/L", "1.2 \\times 10^{-5} mol/L", "chemistry"],
  ["-5", "−5", "math"],
  ["\\sqrt{2}", "1.414", "math"],
  ["\\pi", "3.14", "math"],
  ["about 7", "7", "chart"],
  ["50%", "0.5", "chart"],
  ["5 apples", "5", "counting"],
  ["five", "5", "counting"],
  ["12", "12", "counting"],
  ["1/2, i.e. 0.5", "0.5", "math"],
  ["50% or 0.5", "0.5", "chart"],
  ["3/2 or 1.5", "1.5", "math"],
  ["x = 3, y = 3", "3", "math"],
  ["The unknown is 12", "12", "math"],
  ["5 and only 5", "5", "counting"],
  ["7 or seven", "7", "counting"],
  ["seven", "7", "counting"],
  ["1+x^2", "x^2+1", "math"],
  ["2x+2", "2(x+1)", "math"],
  ["10^{3}", "1000", "math"],
  ["9.8 m/s^2", "9.8 m/s^2", "physics"],
  ["IV", "IV", "math"],
  ["D", "D", "choice"],
  ["C", "C", "math"],
  ["C", "3", "math"],
  ["D", "4", "choice"],
  ["III", "3", "choice"],
  // the gold has the same shape
  ["{1, 2}", "{1, 2}", "math"],
  ["\\{1, 2\\}", "1, 2", "math"],
  ["x = 1 or x = 2", "1, 2", "math"],
  ["2 or -2", "\\pm 2", "math"],
  ["\\pm 2", "2, -2", "math"],
  ["1 \\pm \\sqrt{2}", "1 \\pm \\sqrt{2}", "math"],
  ["1 \\pm \\sqrt{2}", "1+\\sqrt{2}, 1-\\sqrt{2}", "math"],
  ["x = 1 \\pm \\sqrt{2}", "x_1 = 1 + \\sqrt{2}, x_2 = 1 - \\sqrt{2}", "math"],
  ["(6, 8)", "(6, 8)", "math"],
  ["(6, 8)", "6 < x < 8", "math"],
  ["6 < x < 8", "(6, 8)", "math"],
  ["x > 3", "x > 3", "math"],
  ["x \\geq 3", "[3, \\infty)", "math"],
  ["(-\\infty, 3)", "x < 3", "math"],
  ["between 3 and 5", "3 to 5", "math"],
  ["3-5", "3-5", "chart"],
  ["2014-2016", "2014–2016", "chart"],
  ["at least 5", "at least 5", "counting"],
  ["5 or more", "5+", "counting"],
  ["7 or 8", "7 or 8", "math"],
  ["3, 4, 5", "3, 4, 5", "math"],
  ["3 and 4", "3, 4", "counting"],
  ["(1, 2)", "(1, 2)", "math"],
  ["<1, 2>", "(1, 2)", "math"],
  ["3:4", "3:4", "math"],
  ["3 to 4", "3:4", "math"],
  ["9.8 \\pm 0.1", "9.8 ± 0.1", "physics"],
  ["2019-05-03", "2019-05-03", "chart"],
  // option letters
  ["A", "A", "choice"],
  ["(A)", "A", "choice"],
  ["A.", "A", "choice"],
  ["A. Both B and C are correct", "A", "choice"],
  ["B: 12 apples", "B", "choice"],
  ["AC", "AC", "choice"],
  ["A, C", "A, C", "choice"],
  ["A and C", "AC", "choice"],
  ["B", "A", "choice"],
  ["all of the above", "D", "choice"],
  ["Cannot be determined", "D", "choice"],
  // text-like answers in value domains
  ["2H2 + O2 -> 2H2O", "2H_2 + O_2 \\rightarrow 2H_2O", "chemistry"],
  ["N2 + 3H2 <=> 2NH3", "N_2 + 3H_2 \\rightleftharpoons 2NH_3", "chemistry"],
  ["NaCl", "NaCl", "chemistry"],
  ["NaCl (sodium chloride)", "NaCl", "chemistry"],
  ["1s^2 2s^2 2p^6", "1s^2 2s^2 2p^6", "chemistry"],
  ["the difference between 5 and 3 is 2", "2", "math"],
  ["5, because 2+3=5", "5", "math"],
  ["Yes", "Yes", "chart"],
  ["No", "no", "chart"],
  ["not sure", "Not sure", "chart"],
  ["Cannot be determined", "cannot be determined", "math"],
  ["unknown", "No", "chart"],
  ["Under 18", "Under 18", "chart"],
  ["more than 50%", "more than half", "chart"],
  // free text, OCR, grounding, GUI: the verifier decides
  ["black or white", "black and white", "text"],
  ["rock and roll", "rock and roll", "text"],
  ["either way", "either way", "text"],
  ["red or blue", "red or blue", "text"],
  ["dark red or maroon", "red", "text"],
  ["Paris, France", "Paris", "text"],
  ["km/h", "km/h", "text"],
  ["(x)", "x", "math"],
  ["[n]", "n", "counting"],
  ["and/or", "and/or", "text"],
  ["blue", "blue", "text"],
  ["not sure", "I am not sure", "text"],
  ["To be or not to be", "To be or not to be", "ocr"],
  ["3-5 business days", "3-5 business days", "ocr"],
  ["[number]", "[number]", "ocr"],
  ["A, B, C", "A, B, C", "ocr"],
  ["7 ± 1", "7", "ocr"],
  ["between 0 and 10", "5", "ocr"],
  ["[1,2,3,4]", "[1,2,3,4]", "grounding"],
  ["[[10, 20, 30, 40], [50, 60, 70, 80]]", "[[10, 20, 30, 40]]", "grounding"],
  ["left_click(start_box='[100, 200]')", "left_click(start_box='[101, 199]')", "gui"],
  ['{"action_type": "click", "box_2d": [[1,2,3,4]]}', '{"action_type": "click"}', "gui"],
  ["type(content='A or B')", "type(content='A')", "gui"],
];

describe("detectHacking: hedged and multi-valued answers are flagged", () => {
  it("has a large table", () => {
    expect(HACKS.length).toBeGreaterThanOrEqual(80);
  });

  it.each(HACKS)("%j for gold %j (%s) → %s", (pred, gold, domain, reason) => {
    expect(detectHacking(pred, gold, domain)).toBe(reason);
  });
});

describe("detectHacking: legitimate answers are never flagged", () => {
  it("has a large table", () => {
    expect(LEGIT.length).toBeGreaterThanOrEqual(80);
  });

  it.each(LEGIT)("%j for gold %j (%s)", (pred, gold, domain) => {
    expect(detectHacking(pred, gold, domain)).toBeNull();
  });

  it("never flags an answer identical to its gold, in any domain", () => {
    for (const [pred, gold] of [...HACKS, ...LEGIT]) {
      for (const domain of DOMAINS) {
        expect(detectHacking(gold, gold, domain), `${gold} (${domain})`).toBeNull();
        expect(detectHacking(pred, pred, domain), `${pred} (${domain})`).toBeNull();
      }
    }
  });

  it("never flags OCR, grounding, or GUI answers", () => {
    for (const [pred, gold] of HACKS) {
      for (const domain of ["ocr", "grounding", "gui"] as const)
        expect(detectHacking(pred, gold, domain)).toBeNull();
    }
  });

  it("never throws on random input", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.constantFrom(...DOMAINS), (pred, gold, domain) => {
        const r = detectHacking(pred, gold, domain);
        expect(r === null || typeof r === "string").toBe(true);
      }),
    );
  });
});

describe("detectHacking: properties", () => {
  const int = fc.integer({ min: -100_000, max: 100_000 });
  const valueDomain = fc.constantFrom<Domain>("math", "physics", "chemistry", "chart", "counting");

  it("flags two different values offered for one", () => {
    fc.assert(
      fc.property(int, int, valueDomain, (a, b, domain) => {
        fc.pre(a !== b);
        expect(detectHacking(`${a} or ${b}`, `${a}`, domain)).toBe("hedged_alternatives");
        expect(detectHacking(`between ${Math.min(a, b)} and ${Math.max(a, b)}`, `${a}`, domain)).toBe(
          "hedged_range",
        );
        expect(detectHacking(`${a} \\pm ${Math.abs(b) + 1}`, `${a}`, domain)).toBe("plus_minus");
        expect(detectHacking(`${a}, ${b}`, `${a}`, domain)).toBe("multiple_values");
      }),
    );
  });

  it("never flags a plain value, a restated value, or an assignment", () => {
    fc.assert(
      fc.property(int, fc.double({ min: -1e6, max: 1e6, noNaN: true }), valueDomain, (a, x, domain) => {
        expect(detectHacking(`${a}`, `${a}`, domain)).toBeNull();
        expect(detectHacking(`${a}.0`, `${a}`, domain)).toBeNull();
        expect(detectHacking(`x = ${a}`, `${a}`, domain)).toBeNull();
        expect(detectHacking(`${x}`, `${a}`, domain)).toBeNull();
        expect(detectHacking(`${a} or ${a}.0`, `${a}`, domain)).toBeNull();
      }),
    );
  });
});

describe("hedged: building blocks", () => {
  it("numericValue reads units, assignments, hedge words and LaTeX fractions", () => {
    expect(numericValue("7 cm")).toBe(7);
    expect(numericValue("x = -2.5")).toBe(-2.5);
    expect(numericValue("about 1,200 people")).toBe(1200);
    expect(numericValue("\\frac{3}{4}")).toBe(0.75);
    expect(numericValue("7/8")).toBe(0.875);
    expect(numericValue("seven")).toBe(7);
    expect(numericValue("9.8 m/s^2")).toBe(9.8);
    expect(numericValue("50%")).toBe(0.5);
    expect(numericValue("x + 1")).toBeNull();
  });

  it("isSingleValue rejects lists, ranges, ratios, intervals, bounds and ±", () => {
    for (const g of ["5", "5 cm", "\\frac{1}{2}", "1,234", "3 \\times 10^5", "x = 7"])
      expect(isSingleValue(g)).toBe(true);
    for (const g of ["1, 2", "3:4", "(6, 8)", "x > 3", "3-5", "\\pm 2", "A", "at least 5", "1 or 2", "red"]) {
      expect(isSingleValue(g), g).toBe(false);
    }
  });

  it("a hyphen between numbers is a range only if it contains the gold and is not the difference", () => {
    expect(isHedgedRange("3-5", "4")).toBe(true);
    expect(isHedgedRange("3-5", "-2")).toBe(false);
    expect(isHedgedRange("5-3", "4")).toBe(false);
    expect(isHedgedRange("3-5", "9")).toBe(false);
  });

  it("option letters parse letter lists and reject option text", () => {
    expect(optionLetters("A, B and C", false)).toEqual(["A", "B", "C"]);
    expect(optionLetters("BD", false)).toEqual(["B", "D"]);
    expect(optionLetters("a or b", false)).toBeNull();
    expect(optionLetters("A. Both B and C", false)).toBeNull();
  });

  it("thousands and decimal commas are one value", () => {
    expect(isMultipleValues("12,000", "12000")).toBe(false);
    expect(isMultipleValues("2,5", "2.5")).toBe(false);
    expect(isMultipleValues("2, 5", "2")).toBe(true);
  });
});
