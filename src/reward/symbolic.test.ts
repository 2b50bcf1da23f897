import { describe, expect, it } from "vitest";
import { evaluateReal } from "./mathjson-eval.ts";
import {
  compareAtRandomPoints,
  complexityReason,
  expandsToZero,
  freeVariables,
  parseLatex,
} from "./symbolic.ts";

const parse = (latex: string) => {
  const json = parseLatex(latex);
  if (json === null) throw new Error(`unparseable ${latex}`);
  return json;
};
const value = (latex: string): number => evaluateReal(parse(latex), new Map());

describe("parseLatex + evaluateReal", () => {
  it.each([
    ["\\frac{3}{2}", 1.5],
    ["\\sqrt{4}", 2],
    ["\\sin(\\pi/2)", 1],
    ["\\sqrt[3]{-8}", -2],
    ["e^{0}", 1],
    ["\\log_2 8", 3],
    ["\\binom{5}{2}", 10],
    ["5!", 120],
    ["\\sum_{n=1}^{10} n", 55],
    ["\\cos 60^\\circ", 0.5],
  ])("%s = %d", (latex, want) => {
    expect(value(latex)).toBeCloseTo(want, 12);
  });
  it("complex values and unknown functions are NaN", () => {
    expect(value("\\sqrt{-1}")).toBeNaN();
    expect(value("x+1")).toBeNaN();
  });
  it("rejects parse errors", () => {
    expect(parseLatex("2**")).toBeNull();
  });
});

describe("complexityReason", () => {
  it.each([
    ["\\sum_{n=1}^{10^8} n"],
    ["10^{10^{10}}"],
    ["1000000!"],
    ["2^{123456}"],
    ["\\int_0^{\\infty} e^{-x} dx"],
    ["x".repeat(501)],
  ])("%s is too complex", (latex) => {
    expect(complexityReason(latex)).toMatch(/^too_complex/);
  });
  it.each([["2^{10}"], ["e^{-x^2}"], ["\\sum_{n=1}^{100} n^2"], ["100!"]])("%s is fine", (latex) => {
    expect(complexityReason(latex)).toBeNull();
  });
});

describe("symbolic comparison", () => {
  it("finds free variables, not bound ones", () => {
    expect(freeVariables(parse("x^2 + y"))).toEqual(["x", "y"]);
    expect(freeVariables(parse("\\sum_{n=1}^{5} n x"))).toEqual(["x"]);
  });
  it("compares at seeded random points, deterministically", () => {
    expect(compareAtRandomPoints(parse("(x+1)^2"), parse("x^2+2x+1"), 1e-6)).toBe("equal");
    expect(compareAtRandomPoints(parse("x+1"), parse("x+2"), 1e-6)).toBe("different");
    expect(compareAtRandomPoints(parse("2x-4"), parse("x-2"), 1e-6, "ratio")).toBe("equal");
    expect(compareAtRandomPoints(parse("x^2-4"), parse("x-2"), 1e-6, "ratio")).toBe("different");
  });
  it("expands polynomials but refuses sums", () => {
    expect(expandsToZero(parse("(a+b)(a-b)"), parse("a^2-b^2"))).toBe(true);
    expect(expandsToZero(parse("(a+b)^2"), parse("a^2+b^2"))).toBe(false);
    expect(expandsToZero(parse("\\sum_{n=1}^{100} n"), parse("5050"))).toBe(false);
  });
});
