import { describe, expect, it } from "vitest";
import { pyParseFloat as pyFloat } from "./numbers.ts";
import { pyCapitalize, pyLen, pySplitWhitespace as pySplit, pyStrip } from "./text.ts";

// Expected values are what python3 prints for the same calls.
describe("Python string semantics", () => {
  it("strip/split use Python's whitespace (\\x1c-\\x1f and \\x85 yes, \\ufeff no)", () => {
    expect(pyStrip(" \x1cabc\x85 ")).toBe("abc");
    expect(pyStrip("\ufeffabc")).toBe("\ufeffabc");
    expect(pySplit("a\x1fb  c")).toEqual(["a", "b", "c"]);
    expect(pySplit("   ")).toEqual([]);
  });

  it("len counts code points", () => {
    expect(pyLen("😀x")).toBe(2);
  });

  it("capitalize title-cases the first letter and lower-cases the rest", () => {
    expect(pyCapitalize("ǆemal Ü")).toBe("ǅemal ü");
    expect(pyCapitalize("what is NASA?")).toBe("What is nasa?");
  });

  it("float() accepts what Python accepts and nothing else", () => {
    const cases: [string, number | null][] = [
      ["1__0", null],
      ["_1", null],
      ["1_", null],
      ["1e5", 100000],
      [".5", 0.5],
      ["5.", 5],
      ["infinity", Number.POSITIVE_INFINITY],
      ["-iNF", Number.NEGATIVE_INFINITY],
      ["0x10", null],
      ["1 000", null],
      ["\u0665\u0660", 50],
      ["1_0.0_1", 10.01],
      ["1e1_0", 1e10],
      ["+.5e-1", 0.05],
      ["\u00a012\u2003", 12],
      ["\ufeff12", null],
      ["1.2.3", null],
      ["", null],
    ];
    expect(cases.map(([s]) => [s, pyFloat(s)])).toEqual(cases);
    expect(pyFloat("nan")).toBeNaN();
  });
});
