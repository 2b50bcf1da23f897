import { describe, expect, it } from "vitest";
import { pyFloatRepr, pyFloatToInt, pyParseFloat, pyParseInt, pyRound } from "./numbers.ts";

// Every expected value below was printed by CPython 3.11 (/usr/bin/python3): repr(float(s)), str(int(s)),
// repr(round(x, n)), repr(x). null = Python raised ValueError.
const PARSE_CASES: [string, string | null, string | null][] = [
  ["1", "1.0", "1"],
  [" 12 ", "12.0", "12"],
  ["1_000", "1000.0", "1000"],
  ["1__0", null, null],
  ["_1", null, null],
  ["1_", null, null],
  ["1_.5", null, null],
  ["1._5", null, null],
  ["1.5_5", "1.55", null],
  [".5", "0.5", null],
  ["5.", "5.0", null],
  [".", null, null],
  ["-.5e-3", "-0.0005", null],
  ["+1E5", "100000.0", null],
  ["1e1_0", "10000000000.0", null],
  ["inf", "inf", null],
  ["-Infinity", "-inf", null],
  ["nan", "nan", null],
  ["NaN", "nan", null],
  [" -nan ", "nan", null],
  ["infinit", null, null],
  ["0x10", null, null],
  ["1,000", null, null],
  ["1 000", null, null],
  ["١٢٣", "123.0", "123"],
  ["１２.５", "12.5", null],
  ["\u00a012\u2003", "12.0", "12"],
  ["\ufeff12", null, null],
  ["12\x1c", null, null],
  ["1e400", "inf", null],
  ["-1e-400", "-0.0", null],
  ["3.0", "3.0", null],
  ["", null, null],
  [" ", null, null],
  ["1.2.3", null, null],
  ["e5", null, null],
  ["1e", null, null],
  ["+-1", null, null],
  ["0.9999999999999999999999999999999999", "1.0", null],
  ["12abc", null, null],
  ["٣.٥", "3.5", null],
  ["1_000.000_1", "1000.0001", null],
];

describe("pyParseFloat / pyParseInt accept what float() / int() accept", () => {
  it.each(PARSE_CASES)("%j → float %s, int %s", (text, asFloat, asInt) => {
    const f = pyParseFloat(text);
    expect(f === null ? null : pyFloatRepr(f)).toBe(asFloat);
    const i = pyParseInt(text);
    expect(i === null ? null : i.toString()).toBe(asInt);
  });
});

describe("pyFloatRepr prints as repr(float)", () => {
  const cases: [number, string][] = [
    [0.1, "0.1"],
    [1.0, "1.0"],
    [-0, "-0.0"],
    [1e16, "1e+16"],
    [1e15, "1000000000000000.0"],
    [1.2345678901234568e17, "1.2345678901234568e+17"],
    [1e-5, "1e-05"],
    [0.0001, "0.0001"],
    [1.5e-7, "1.5e-07"],
    [1 / 3, "0.3333333333333333"],
    [1e100, "1e+100"],
    [-1e-100, "-1e-100"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [100, "100.0"],
    [0.000123, "0.000123"],
    [12345.678, "12345.678"],
    [Number.POSITIVE_INFINITY, "inf"],
    [Number.NEGATIVE_INFINITY, "-inf"],
    [Number.NaN, "nan"],
    [2 ** 53 + 1, "9007199254740992.0"],
    [1e22, "1e+22"],
    [0.1 + 0.2, "0.30000000000000004"],
  ];
  it.each(cases)("%s → %s", (x, want) => expect(pyFloatRepr(x)).toBe(want));
});

describe("pyRound rounds half-even on the exact binary value", () => {
  const cases: [number, number, string][] = [
    [2.675, 2, "2.67"],
    [0.125, 2, "0.12"],
    [0.375, 2, "0.38"],
    [2.5, 0, "2.0"],
    [3.5, 0, "4.0"],
    [-2.5, 0, "-2.0"],
    [1.005, 2, "1.0"],
    [0.015, 1, "0.0"],
    [0.045, 2, "0.04"],
    [-0.001, 2, "-0.0"],
    [1234.5678, 1, "1234.6"],
    [1e300, 2, "1e+300"],
    [0.5, 0, "0.0"],
    [1.45, 1, "1.4"],
    [-1.45, 1, "-1.4"],
    [0.285, 2, "0.28"],
    [1e-20, 2, "0.0"],
    [123.456, -1, "120.0"],
    [155.0, -1, "160.0"],
    [5e-324, 2, "0.0"],
    [8.345, 2, "8.35"],
  ];
  it.each(cases)("round(%s, %s) → %s", (x, n, want) => expect(pyFloatRepr(pyRound(x, n))).toBe(want));
});

describe("pyFloatToInt is int(float)", () => {
  it("truncates toward zero and refuses inf/nan", () => {
    expect(pyFloatToInt(-0.5)).toBe(0n);
    expect(pyFloatToInt(96.8)).toBe(96n);
    expect(pyFloatToInt(-6.25)).toBe(-6n);
    expect(pyFloatToInt(1e20)).toBe(100000000000000000000n);
    expect(pyFloatToInt(Number.POSITIVE_INFINITY)).toBeNull();
    expect(pyFloatToInt(Number.NaN)).toBeNull();
  });
});
