import { describe, expect, it } from "vitest";
import { parseCount, parseNumberWords, parsePlainNumber, relClose, toAsciiDigits } from "./numbers.ts";

describe("toAsciiDigits", () => {
  it("maps full-width digits and signs and unicode minus", () => {
    expect(toAsciiDigits("４２．５％")).toBe("42.5%");
    expect(toAsciiDigits("−3")).toBe("-3");
  });
});

describe("parsePlainNumber", () => {
  it.each([
    ["42", 42, false, true],
    ["-3.5", -3.5, false, false],
    ["1,234,567", 1234567, false, true],
    ["1.2e-3", 0.0012, false, false],
    ["3/4", 0.75, false, false],
    ["45%", 0.45, true, false],
    ["2.5 \\%", 0.025, true, false],
    ["3 × 10^5", 300000, false, false],
    ["４２", 42, false, true],
  ])("%s", (text, value, percent, integer) => {
    const n = parsePlainNumber(text);
    expect(n).not.toBeNull();
    expect(n!.value).toBeCloseTo(value, 12);
    expect(n!.percent).toBe(percent);
    expect(n!.integer).toBe(integer);
  });
  it.each([["x+1"], ["five"], ["1 2"], ["1/0"], [""], ["1,23"]])("%j → null", (text) => {
    expect(parsePlainNumber(text)).toBeNull();
  });
});

describe("relClose", () => {
  it("uses the gold side as the scale", () => {
    expect(relClose(102, 100, 2.5e-2)).toBe(true);
    expect(relClose(97.5, 100, 2.5e-2)).toBe(true);
    expect(relClose(102.6, 100, 2.5e-2)).toBe(false);
    expect(relClose(1e-7, 0, 1e-6)).toBe(false);
  });
});

describe("parseCount", () => {
  it.each([
    ["5", 5],
    ["01", 1],
    ["1.0", 1],
    ["3.00", 3],
    ["1,000", 1000],
    ["５", 5],
    ["five", 5],
    ["Twenty-one apples", 21],
    ["one hundred and five", 105],
    ["twenty one", 21],
    ["a dozen eggs", 12],
    ["two dozen", 24],
    ["a couple of birds", 2],
    ["no apples", 0],
    ["十只猫", 10],
    ["二十三", 23],
    ["两千", 2000],
    ["一百零五", 105],
    ["7.", 7],
    ["5个", 5],
    ["12只猫", 12],
  ])("%s → %d", (text, n) => {
    expect(parseCount(text)).toBe(n);
  });
  it.each([
    ["1.5"],
    ["-2"],
    ["2-3"],
    ["2 or 3"],
    ["3 to 4"],
    ["five six"],
    ["five and six"],
    ["5 six"],
    ["5 apples and 3 pears"],
    ["三个或四个"],
    ["三到四个"],
    ["3个或4个"],
    ["about"],
    [""],
  ])("%j → null", (text) => {
    expect(parseCount(text)).toBeNull();
  });
});

describe("parseNumberWords", () => {
  it("reads whole number-word strings only", () => {
    expect(parseNumberWords("forty two")).toBe(42);
    expect(parseNumberWords("十二")).toBe(12);
    expect(parseNumberWords("a")).toBeNull();
    expect(parseNumberWords("seven apples")).toBeNull();
  });
});
