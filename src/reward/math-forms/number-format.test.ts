import { describe, expect, it } from "vitest";
import { detectHacking } from "../antihack.ts";
import { answersEquivalent } from "../equivalence.ts";
import { normalizeLatex } from "../normalize.ts";
import { verifyMath } from "../verifiers/math.ts";
import { decimalCommaText, normalizeNumberFormat } from "./number-format.ts";

const equal = (p: string, g: string): boolean => answersEquivalent(p, g, { tol: 1e-6 }).equal;

describe("MATH thousands 10,\\!000 (the bug: both normalisers made \\! a space)", () => {
  it.each([
    ["10,\\!000", "10000"],
    ["10000", "10,\\!000"],
    ["\\$1,\\!000.50", "1000.5"],
  ])("%s vs %s: no hedge, and the verifier scores 1", (pred, gold) => {
    expect(detectHacking(pred, gold, "math")).toBeNull();
    expect(verifyMath(pred, gold, {}).score).toBe(1);
  });

  it("is still a different number when the digits differ", () => {
    expect(verifyMath("10,\\!000", "1000", {}).score).toBe(0);
    expect(verifyMath("1,\\!000", "1.000", {}).score).toBe(0);
  });

  it("normalizeLatex drops \\! and keeps the thousands comma", () => {
    expect(normalizeLatex("$12,\\!000,\\!003$")).toBe("12,000,003");
  });
});

describe("currency and grouped thousands", () => {
  it("drops currency signs and joins space-grouped thousands", () => {
    expect(normalizeNumberFormat("\\$10 000")).toBe("10000");
    expect(normalizeNumberFormat("€ 20")).toBe("20");
    expect(normalizeNumberFormat("1 000 000.5")).toBe("1000000.5");
    // Not three-digit groups: left alone.
    expect(normalizeNumberFormat("12 34")).toBe("12 34");
  });

  it.each([
    ["\\$5", "5", true],
    ["5\\text{ dollars}", "\\$5", true],
    ["20€", "20", true],
    ["125\\textnormal{ miles}", "125", true],
    ["15\\mbox{ cm}^2", "15", true],
    ["10\\,000", "10000", true],
    ["\\$5.05", "5.5", false],
    ["15\\text{ cm}", "15 \\text{ m}", false],
  ])("%s vs %s → %s", (p, g, want) => {
    expect(equal(p, g)).toBe(want);
  });
});

describe("decimal comma", () => {
  it("reads one comma between digits as a decimal point unless it is thousands-shaped", () => {
    expect(decimalCommaText("3,5")).toBe("3.5");
    expect(decimalCommaText("-1,25")).toBe("-1.25");
    expect(decimalCommaText("0,111")).toBe("0.111");
    expect(decimalCommaText("1234,567")).toBe("1234.567");
    expect(decimalCommaText("3,500")).toBeNull();
    expect(decimalCommaText("1, 5")).toBeNull();
  });

  it.each([
    ["3,5", "3.5", true],
    ["0,111", "0.111", true],
    ["0,111", "111", false],
    ["3,500", "3.5", false],
    ["1,2", "1, 2", true],
    ["1,2", "12", false],
    // A gold comma pair is MATH's list of two values, never a decimal.
    ["-2.1", "-2,1", false],
  ])("pred %s vs gold %s → %s", (p, g, want) => {
    expect(equal(p, g)).toBe(want);
  });
});
