import { describe, expect, it } from "vitest";
import { matchText, normalizeText, splitList } from "./text-normalize.ts";

describe("normalizeText", () => {
  it.each([
    ["The  Red Car!", "red car"],
    ["an apple", "apple"],
    ["１２３", "123"],
    ["Twenty-one apples", "21 apples"],
    ["one hundred and five", "105"],
    ["-5.5", "-5.5"],
    ["1,000,000", "1000000"],
    ["U.S.A.", "usa"],
    ["Yes.", "yes"],
    ["T", "yes"],
    ["True", "yes"],
    ["是", "yes"],
    ["False", "no"],
    ["上海 市", "上海市"],
    ["三", "3"],
    ["50 %", "50%"],
    ["72°", "72"],
    ["Rock & roll", "rock and roll"],
  ])("%j → %j", (text, norm) => {
    expect(normalizeText(text)).toBe(norm);
  });
  it("keeps what carries meaning: symbols, inner spaces of Latin text, percent", () => {
    expect(normalizeText("x+1")).toBe("x+1");
    expect(normalizeText("I phone")).not.toBe(normalizeText("iPhone"));
    expect(normalizeText("50%")).not.toBe(normalizeText("50"));
  });
  it("is idempotent on its output", () => {
    for (const s of ["The Red Car!", "U.S.A.", "Twenty-one", "上海 市", "-3.5 kg"]) {
      const once = normalizeText(s);
      expect(normalizeText(once)).toBe(once);
    }
  });
});

describe("splitList", () => {
  it("splits on commas, 'and', '&', semicolons and 、", () => {
    expect(splitList("Red, blue, and green")).toEqual(["red", "blue", "green"]);
    expect(splitList("长江、黄河")).toEqual(["长江", "黄河"]);
    expect(splitList("cats & dogs")).toEqual(["cats", "dogs"]);
  });
  it("does not split thousands separators and needs two items", () => {
    expect(splitList("1,000")).toBeNull();
    expect(splitList("red")).toBeNull();
  });
});

describe("matchText", () => {
  it("matches exact, normalised and order-free lists", () => {
    expect(matchText("Paris", "Paris")).toBe("exact");
    expect(matchText("Paris", "paris")).toBe("normalized");
    expect(matchText("five", "5")).toBe("normalized");
    expect(matchText("blue and red", "Red, Blue")).toBe("list");
    expect(matchText("长江, 黄河", "黄河、长江")).toBe("list");
  });
  it("rejects different words, missing or extra list items, and empty answers", () => {
    expect(matchText("red", "blue")).toBeNull();
    expect(matchText("red, blue", "red")).toBeNull();
    expect(matchText("red, blue, green", "red, blue")).toBeNull();
    expect(matchText("red, red", "red, blue")).toBeNull();
    expect(matchText("", "")).toBeNull();
    expect(matchText("!!", "??")).toBeNull();
  });
});
