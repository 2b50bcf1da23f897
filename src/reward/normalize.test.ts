import { describe, expect, it } from "vitest";
import {
  normalizeLatex,
  plainToLatex,
  splitDecorations,
  stripTrailingWords,
  stripVariablePrefix,
} from "./normalize.ts";

describe("normalizeLatex", () => {
  it.each([
    ["$\\left( \\dfrac{1}{2} \\right)$", "( \\frac{1}{2} )"],
    ["\\tfrac{3}{4}", "\\frac{3}{4}"],
    ["5\\text{ cm}", "5 cm"],
    ["\\mathrm{H_2O}", "H_2O"],
    ["50\\%", "50%"],
    ["30^\\circ", "30°"],
    ["30^{\\circ}", "30°"],
    ["1{,}000", "1000"],
    ["x^²", "x^{2}"],
    ["４２", "42"],
    ["√2", "\\sqrt{2}"],
    ["2π", "2\\pi"],
    ["x ≤ 3", "x \\le 3"],
    ["5.", "5."],
    ["the end.", "the end"],
  ])("%s → %s", (raw, want) => {
    expect(normalizeLatex(raw)).toBe(want);
  });
  it("keeps matrix row breaks", () => {
    expect(normalizeLatex("a & b \\\\ c & d")).toBe("a & b \\\\ c & d");
  });
});

describe("plainToLatex", () => {
  it("rewrites calculator syntax", () => {
    expect(plainToLatex("sqrt(4)")).toBe("\\sqrt(4)");
    expect(plainToLatex("x**2")).toBe("x^2");
    expect(plainToLatex("log(x)")).toBe("\\ln(x)");
    expect(plainToLatex("E")).toBe("e");
    expect(plainToLatex("1E5")).toBe("1E5");
    expect(plainToLatex("\\sin x")).toBe("\\sin x");
  });
});

describe("prefixes, decorations, words", () => {
  it("strips a variable prefix unless the variable recurs", () => {
    expect(stripVariablePrefix("x = 5")).toBe("5");
    expect(stripVariablePrefix("y=2x+1")).toBe("2x+1");
    expect(stripVariablePrefix("f(x) = 2x")).toBe("2x");
    expect(stripVariablePrefix("x = 2x - 3")).toBe("x = 2x - 3");
    expect(stripVariablePrefix("x = 1 < 2")).toBe("x = 1 < 2");
  });
  it("splits percent and degree marks", () => {
    expect(splitDecorations("50 %")).toEqual({ body: "50", percent: true, degrees: false });
    expect(splitDecorations("30°")).toEqual({ body: "30", percent: false, degrees: true });
    expect(splitDecorations("25°C").degrees).toBe(false);
  });
  it("drops trailing words but not one-letter units or variables", () => {
    expect(stripTrailingWords("5 apples")).toBe("5");
    expect(stripTrailingWords("12 个苹果")).toBe("12");
    expect(stripTrailingWords("5 m")).toBeNull();
    expect(stripTrailingWords("x + 1")).toBeNull();
  });
});
