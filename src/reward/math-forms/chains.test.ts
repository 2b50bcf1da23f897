import { describe, expect, it } from "vitest";
import { answersEquivalent } from "../equivalence.ts";

const verdict = (p: string, g: string) => answersEquivalent(p, g, { tol: 1e-6 });

describe("equation chains and approximations", () => {
  it.each([
    ["x = 2+3 = 5", "5"],
    ["= \\frac{1}{2} = 0.5", "0.5"],
    ["\\approx 3.14", "3.14"],
    ["x = \\frac{1}{3} \\approx 0.333", "\\frac{1}{3}"],
    ["\\frac{2}{3} \\approx 0.66", "\\frac{2}{3}"],
    ["x = 1234 \\approx 1200", "1234"],
    ["d = \\sqrt{3^2+4^2} = \\sqrt{25} = 5", "5"],
    ["x = 5 + 5 + 1 = 11", "x = 11"],
  ])("grades the last right-hand side: %s vs %s", (p, g) => {
    expect(verdict(p, g).equal).toBe(true);
  });

  it.each([
    ["x = 2+3 = 6", "6"],
    ["x = 2+3 = 6", "5"],
    ["x = 5+5+1 = 7 = 11", "11"],
    ["x = \\frac{1}{3} \\approx 0.5", "\\frac{1}{3}"],
    ["x = 7 = 7.1", "7"],
  ])("a chain that contradicts itself is a hedge: %s vs %s", (p, g) => {
    expect(verdict(p, g)).toEqual({ equal: false, reason: "chain_contradiction" });
  });

  it("grades the exact member before an approximation, as Math-Verify does", () => {
    expect(verdict("\\pi \\approx 3.14", "\\pi").equal).toBe(true);
    expect(verdict("\\pi \\approx 3.14", "3.14").equal).toBe(false);
    expect(verdict("\\sqrt{2} \\approx 1", "1").equal).toBe(false);
  });

  it("leaves equations to the relation rules", () => {
    expect(verdict("y = 2x + 1", "2x - y + 1 = 0").equal).toBe(true);
    expect(verdict("x = 2x - 3", "3").equal).toBe(false);
  });
});
