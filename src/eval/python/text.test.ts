import { describe, expect, it } from "vitest";
import { pyLevenshtein } from "./levenshtein.ts";
import { parsePyLiteral, parsePyStringList } from "./literal.ts";
import { pyReprStr, pySplitWhitespace, pyStr, pyStrip } from "./text.ts";

// Expected values printed by CPython 3.11: ast.literal_eval, repr, str, str.split, str.strip.
describe("parsePyLiteral reads what ast.literal_eval reads", () => {
  const cases: [string, unknown][] = [
    ["['a', 'b']", ["a", "b"]],
    ["[\"Don't know\", 'x']", ["Don't know", "x"]],
    ["['a\\'b', 'c\\\\d', 'e\\nf', '\\x41\\u00e9']", ["a'b", "c\\d", "e\nf", "Aé"]],
    ["('t1', 't2',)", ["t1", "t2"]],
    ["['ab' 'cd', r'\\d+']", ["abcd", "\\d+"]],
    ["[]", []],
    ["['<image 1>', '$6']", ["<image 1>", "$6"]],
    ["['1', 2, 3.5, None, True]", ["1", 2, 3.5, null, true]],
  ];
  it.each(cases)("%s", (text, want) => expect(parsePyLiteral(text, "t")).toEqual(want));

  it("rejects what is not a literal, naming where", () => {
    expect(() => parsePyStringList("['a', b]", "options")).toThrow(/options/);
    expect(() => parsePyStringList("['a'", "options")).toThrow(/not a Python literal/);
    expect(() => parsePyStringList("[1]", "options")).toThrow(/list of strings/);
  });
});

describe("Python str behaviour", () => {
  it("repr picks quotes and escapes as Python does", () => {
    expect(
      ["it's", 'say "hi"', "both ' and \"", "tab\there", "é\x00\u200b", "\u{1F600}"].map(pyReprStr),
    ).toEqual([
      '"it\'s"',
      "'say \"hi\"'",
      "'both \\' and \"'",
      "'tab\\there'",
      "'é\\x00\\u200b'",
      "'\u{1F600}'",
    ]);
  });

  it("str of a JSON list prints as Python's str(list)", () => {
    expect(pyStr([1, "a", null, true, 2.5, ["x's"]])).toBe("[1, 'a', None, True, 2.5, [\"x's\"]]");
  });

  it("strip and split use Python whitespace (U+001C yes, U+FEFF no)", () => {
    expect(pyStrip("\x1c a \u3000")).toBe("a");
    expect(pyStrip("\ufeffa")).toBe("\ufeffa");
    expect(pyStrip(".,A.", ".,")).toBe("A");
    expect(pySplitWhitespace(" a\u00a0b\x85c \ufeffd ")).toEqual(["a", "b", "c", "\ufeffd"]);
  });

  it("Levenshtein counts code points, as python-Levenshtein does", () => {
    expect(pyLevenshtein("kitten", "sitting")).toBe(3);
    expect(pyLevenshtein("\u{1D465}+1", "x+1")).toBe(1);
    expect(pyLevenshtein("", "abc")).toBe(3);
  });
});
