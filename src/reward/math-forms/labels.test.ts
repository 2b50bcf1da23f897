import { describe, expect, it } from "vitest";
import { answersEquivalent } from "../equivalence.ts";
import { isLabel, readAssignments } from "./labels.ts";

const equal = (p: string, g: string): boolean => answersEquivalent(p, g, { tol: 1e-6 }).equal;

describe("labels", () => {
  it.each([
    "x",
    "(p,q)",
    "(r, \\theta)",
    "A:B",
    "AB:BC",
    "|AB|",
    "\\angle ABC",
    "m\\angle A",
    "f(2)",
    "Area",
    "a_1",
  ])("%s is a label", (lhs) => {
    expect(isLabel(lhs, ["3"])).toBe(true);
  });

  it("is not a label when its name occurs on the right, or when it is a product or a constant", () => {
    expect(isLabel("x", ["2x - 3"])).toBe(false);
    expect(isLabel("xy", ["6"])).toBe(false);
    expect(isLabel("\\pi", ["3.14"])).toBe(false);
    expect(isLabel("2x+1", ["5"])).toBe(false);
  });

  it.each([
    ["(p,q)=(3,2)", "(3,2)", true],
    ["(p,q)=(2,3)", "(3,2)", false],
    ["A:B=2:3", "2:3", true],
    ["|AB|=1", "1", true],
    ["f(2) = 8", "7", false],
    ["6", "xy = 6", false],
  ])("%s vs %s → %s", (p, g, want) => {
    expect(equal(p, g)).toBe(want);
  });
});

describe("assignments", () => {
  it("reads a list of assignments and a labelled tuple", () => {
    expect(readAssignments("x=1, y=2")).toEqual({ names: ["x", "y"], values: ["1", "2"] });
    expect(readAssignments("(p, q) = (3, 2)")).toEqual({ names: ["p", "q"], values: ["3", "2"] });
    expect(readAssignments("x = 2 or y = 3")).toBeNull();
    expect(readAssignments("x = 1")).toBeNull();
  });

  it.each([
    ["x = 1, y = 2", "y = 2, x = 1", true, "a map by name"],
    ["x=1, y=2", "x=2, y=1", false, "a map by name (equal before only as an unordered list)"],
    ["x=1, y=2", "(1,2)", true, "in order against a tuple"],
    ["x=2, y=1", "(1,2)", false, "in order against a tuple"],
    ["q=2, p=3", "(p,q)=(3,2)", true, "against a labelled tuple, by name"],
    ["(q,p)=(3,2)", "(p,q)=(3,2)", false, "labelled tuples as maps"],
    ["x = 1, y = 2", "\\{1, 2\\}", false, "a point is not a set"],
    ["x = 3, x = 2", "2, 3", true, "one variable: a set of solutions"],
  ])("%s vs %s → %s (%s)", (p, g, want) => {
    expect(equal(p, g)).toBe(want);
  });
});
