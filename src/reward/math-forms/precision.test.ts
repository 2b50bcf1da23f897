import { describe, expect, it } from "vitest";
import { box, r41 } from "../hacking-corpus.ts";
import { scoreInputError } from "../item-schema.ts";
import { RewardPool } from "../pool.ts";
import { verifyMath } from "../verifiers/math.ts";
import { verifyPhysics } from "../verifiers/physics.ts";
import {
  describePrecision,
  type ItemPrecision,
  ItemPrecisionSchema,
  numberRule,
  roundToDecimals,
  roundToSigFigs,
} from "./precision.ts";

describe("rounding", () => {
  it("rounds half away from zero on the decimal value as written", () => {
    expect(roundToDecimals(1.005, 2)).toBe(101);
    expect(roundToDecimals(-1.005, 2)).toBe(-101);
    expect(roundToDecimals(2.675, 2)).toBe(268);
    expect(roundToDecimals(1.449, 2)).toBe(145);
    expect(roundToDecimals(12.5, 0)).toBe(13);
  });
  it("rounds to significant figures across magnitudes", () => {
    expect(roundToSigFigs(1.23456, 3)).toBe(1.23);
    expect(roundToSigFigs(0.00012345, 2)).toBe(0.00012);
    expect(roundToSigFigs(98765, 2)).toBe(99000);
    expect(roundToSigFigs(9.996, 3)).toBe(10);
    expect(roundToSigFigs(0, 3)).toBe(0);
  });
});

describe("numberRule", () => {
  it("without a precision is the fixed relative tolerance, gold second", () => {
    const rule = numberRule(undefined, 1e-6);
    expect(rule(1.0000001, 1)).toBe(true);
    expect(rule(1.00001, 1)).toBe(false);
    expect(numberRule(null, 2.5e-2)(102, 100)).toBe(true);
  });
  it.each<[ItemPrecision, number, number, boolean]>([
    [2, 1.449, 1.45, true], // MathVista: 1.449 rounds to 1.45
    [2, 1.4, 1.45, false],
    [2, 1.455, 1.45, false], // rounds to 1.46
    [1, 3.1234, 3.1, true],
    [1, 3.16, 3.1, false],
    [0, 2.4, 2, true],
    [0, 2.5, 2, false],
    [{ decimals: 3 }, 1 / 3, 0.333, true],
    [{ decimals: 4 }, 1 / 3, 0.333, false], // Math-Verify's float_rounding example
    [{ sigFigs: 3 }, 3.1412, 3.14, true],
    [{ sigFigs: 3 }, 3.1459, 3.14, false],
    [{ sigFigs: 2 }, 0.000123, 0.00012, true],
    [{ sigFigs: 2 }, 12345, 12000, true],
    [{ sigFigs: 2 }, 12345, 13000, false],
    [{ relTol: 0.01 }, 1.01, 1, true],
    [{ relTol: 0.01 }, 1.0101, 1, false],
    [{ relTol: 0.01 }, 99, 100, true],
    [{ absTol: 0.5 }, 10.5, 10, true],
    [{ absTol: 0.5 }, 10.51, 10, false],
    [{ relTol: 0.01, absTol: 0.1 }, 0.09, 0, true],
    [{ relTol: 0, absTol: 0 }, 1 + 2 ** -52, 1, false],
  ])("%j: %d vs gold %d → %s", (precision, pred, gold, equal) => {
    expect(numberRule(precision, 1e-6)(pred, gold)).toBe(equal);
  });
  it("never lets NaN or an infinity match a finite number", () => {
    const rule = numberRule({ absTol: 1 }, 1e-6);
    expect(rule(Number.NaN, 0)).toBe(false);
    expect(rule(Number.POSITIVE_INFINITY, 1e300)).toBe(false);
    expect(rule(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)).toBe(true);
  });
  it("describes itself for verdict reasons", () => {
    expect(describePrecision(2)).toBe("2 decimal places");
    expect(describePrecision({ sigFigs: 3 })).toBe("3 significant figures");
    expect(describePrecision({ relTol: 0.01, absTol: 0.5 })).toBe("relTol 0.01, absTol 0.5");
  });
});

describe("the item's precision field", () => {
  const item = { id: 1, domain: "math", response: "r", answer: "1.45" };
  it.each([
    2,
    0,
    { decimals: 2 },
    { sigFigs: 3 },
    { relTol: 0.01 },
    { absTol: 0.5 },
    { relTol: 0, absTol: 1 },
    null,
  ])("accepts %j", (precision) => {
    expect(ItemPrecisionSchema.nullable().safeParse(precision).success).toBe(true);
    expect(scoreInputError({ ...item, precision }, "items.0")).toBeNull();
  });
  it.each([
    2.5,
    -1,
    16,
    "2",
    {},
    { decimals: -1 },
    { sigFigs: 0 },
    { relTol: -0.1 },
    { relTol: 2 },
    { foo: 1 },
    {
      relTol: 0.1,
      decimals: 2,
    },
  ])("rejects %j as bad_input naming the field and every accepted spelling", (precision) => {
    const error = scoreInputError({ ...item, precision }, "items.3");
    expect(error?.code).toBe("bad_input");
    expect(error?.where).toMatch(/^items\.3\.precision/);
    expect(error?.message).toContain("precision must be decimal places");
    expect(error?.message).toContain(`got ${JSON.stringify(precision)}`);
  });
  it("is refused on a domain whose verifier would ignore it", () => {
    const error = scoreInputError({ ...item, domain: "chart", precision: 2 }, "item");
    expect(error?.where).toBe("item.precision");
    expect(error?.message).toContain("math, physics and chemistry");
    expect(scoreInputError({ ...item, domain: "physics", precision: { sigFigs: 2 } }, "item")).toBeNull();
  });
});

describe("an item's precision in the verifiers", () => {
  it("replaces the fixed rule of math and physics when set, and only then", () => {
    expect(verifyMath("1.449", "1.45", {}).correct).toBe(false);
    expect(verifyMath("1.449", "1.45", { precision: 2 }).correct).toBe(true);
    expect(verifyMath("1.449", "1.45", { precision: null }).correct).toBe(false);
    expect(verifyPhysics("9.8 m/s^2", "9.81 m/s^2", { precision: { sigFigs: 2 } }).correct).toBe(true);
    expect(verifyPhysics("9.7 m/s^2", "9.81 m/s^2", { precision: { sigFigs: 2 } }).correct).toBe(false);
  });
  it("reaches the verifier inside the reward pool's workers", async () => {
    const pool = new RewardPool({ workers: 1 });
    try {
      const item = (precision: ItemPrecision | undefined) => ({
        id: 1,
        domain: "math" as const,
        answer: "1.45",
        response: r41("Round to two places.", box("1.449")),
        style: "4.1v" as const,
        precision,
      });
      const results = await pool.score([item(undefined), item(2), item({ decimals: 3 })]);
      expect(results.map((r) => r.reward)).toEqual([0, 1, 0]);
    } finally {
      await pool.close();
    }
  });
});
