import { describe, expect, it } from "vitest";
import { answersEquivalent } from "../equivalence.ts";
import { rewriteListNotation } from "./sets.ts";

const equal = (p: string, g: string): boolean => answersEquivalent(p, g, { tol: 1e-6 }).equal;

describe("list notation", () => {
  it("rewrites grouping braces, semicolon tuples and an Oxford comma", () => {
    expect(rewriteListNotation("{1, 2, 3}")).toBe("\\{1, 2, 3\\}");
    expect(rewriteListNotation("{5}")).toBe("5");
    expect(rewriteListNotation("(1;2)")).toBe("(1, 2)");
    expect(rewriteListNotation("(1,5; 2,5)")).toBe("(1.5, 2.5)");
    expect(rewriteListNotation("2, 3, and 4")).toBe("2, 3, 4");
    expect(rewriteListNotation("\\frac{1}{2}")).toBe("\\frac{1}{2}");
  });
});

describe("collections", () => {
  it.each([
    ["{1,2,3}", "\\{1,2,3\\}", true, "grouping braces are a set"],
    ["\\{1, 1, 2\\}", "\\{1, 2\\}", true, "sets ignore repeats"],
    ["\\{1,1,2\\}", "\\{1,2,3\\}", false, "repeats do not fill a gap"],
    ["1, 2", "(1,2)", true, "a bare list follows a tuple gold"],
    ["2, 1", "(1,2)", false, "in the tuple's order"],
    ["1, 2", "[1,2]", false, "not a closed interval's"],
    ["\\{1,2\\}", "(1,2)", false, "a set is not a tuple"],
    ["1 or 2", "1, 2", true, "alternatives against a list gold"],
    ["2 or 3", "(2,3)", false, "alternatives are not a point"],
    ["(-\\infty, 1), (2, \\infty)", "(-\\infty,1) \\cup (2,\\infty)", true, "listed intervals are a union"],
    ["(-\\infty,1), (2,\\infty)", "(-\\infty,1)\\cup[2,\\infty)", false, "an endpoint differs"],
  ])("%s vs %s → %s (%s)", (p, g, want) => {
    expect(equal(p, g)).toBe(want);
  });
});
