/**
 * Caller-set numeric precision: an item may carry its own rule for when two numbers are the same answer, instead of
 * the verifier's fixed relative tolerance. Four spellings, one family each:
 *   - `precision: 2` or `{ decimals: 2 }`: both sides rounded to 2 decimal places agree (MathVista's `precision`
 *     field, Math-Verify's `float_rounding`);
 *   - `{ sigFigs: 3 }`: both sides rounded to 3 significant figures agree;
 *   - `{ relTol, absTol }` (either or both): |pred − gold| ≤ absTol + relTol·|gold| (gold second: it sets the scale,
 *     as in the fixed rule).
 * Rounding is half away from zero on the decimal value as written (`1.005` to 2 places is `1.01`), not Python's
 * `round` on the binary double (`1.0`): a reward should not depend on how 1.005 is stored.
 */
import { z } from "zod";

const DECIMALS = z.number().int().min(0).max(15);
const REL_TOL = z.number().min(0).max(1);
const ABS_TOL = z.number().min(0).finite();

/** The item's `precision` field (`null`, MathVista's value for non-float items, is allowed by the item schema). */
export const ItemPrecisionSchema = z.union([
  DECIMALS,
  z.strictObject({ decimals: DECIMALS }),
  z.strictObject({ sigFigs: z.number().int().min(1).max(15) }),
  z.strictObject({ relTol: REL_TOL, absTol: ABS_TOL.optional() }),
  z.strictObject({ absTol: ABS_TOL }),
]);
export type ItemPrecision = z.infer<typeof ItemPrecisionSchema>;

/** What a valid `precision` looks like, for the error that names a bad one. */
export const PRECISION_EXPECTED =
  "decimal places (an integer 0–15), { decimals: 0–15 }, { sigFigs: 1–15 } or { relTol: 0–1, absTol: ≥ 0 } (either or both)";

/** Whether a predicted number counts as the gold number. */
export type NumberRule = (pred: number, gold: number) => boolean;

/** Scale, then round half away from zero; the 15-digit step drops binary noise (1.005 × 100 = 100.49999…). */
function roundScaled(x: number, scale: number): number {
  const scaled = Number((x * scale).toPrecision(15));
  return Math.sign(scaled) * Math.round(Math.abs(scaled));
}

/**
 * `x` rounded to `places` decimal places, as an integer count of 10^-places (exact to compare).
 * @example roundToDecimals(1.005, 2) // 101
 */
export function roundToDecimals(x: number, places: number): number {
  return roundScaled(x, 10 ** places);
}

/**
 * `x` rounded to `digits` significant figures.
 * @example roundToSigFigs(3.14159, 3) // 3.14
 */
export function roundToSigFigs(x: number, digits: number): number {
  if (x === 0) return 0;
  const exponent = Math.floor(Math.log10(Math.abs(x)));
  const scale = 10 ** (digits - 1 - exponent);
  return Number((roundScaled(x, scale) / scale).toPrecision(digits));
}

/**
 * The number rule of an item: its own `precision` when it has one, else the fixed relative tolerance `tol`
 * (|pred − gold| / (|gold| + 1e-6) < tol). Equal values always match; NaN and infinities only match themselves.
 * @example numberRule(2, 1e-6)(1.449, 1.45) // true
 * @example numberRule({ sigFigs: 3 }, 1e-6)(3.1459, 3.14) // false (3.15)
 */
export function numberRule(precision: ItemPrecision | null | undefined, tol: number): NumberRule {
  const finite =
    (rule: NumberRule): NumberRule =>
    (p, g) =>
      p === g || (Number.isFinite(p) && Number.isFinite(g) && rule(p, g));
  if (precision === null || precision === undefined) {
    return finite((p, g) => Math.abs(p - g) / (Math.abs(g) + 1e-6) < tol);
  }
  if (typeof precision === "number" || "decimals" in precision) {
    const places = typeof precision === "number" ? precision : precision.decimals;
    return finite((p, g) => roundToDecimals(p, places) === roundToDecimals(g, places));
  }
  if ("sigFigs" in precision) {
    const digits = precision.sigFigs;
    return finite((p, g) => roundToSigFigs(p, digits) === roundToSigFigs(g, digits));
  }
  const rel = "relTol" in precision ? precision.relTol : 0;
  const abs = precision.absTol ?? 0;
  // A hair of slack so that a tolerance written as 0.01 accepts 1.01 vs 1 (1.01 − 1 is 0.010000000000000009).
  return finite((p, g) => Math.abs(p - g) <= (abs + rel * Math.abs(g)) * (1 + 1e-12));
}

/**
 * The rule in words, for verdict reasons ("2 decimal places").
 * @example describePrecision({ relTol: 0.01 }) // "relTol 0.01"
 */
export function describePrecision(precision: ItemPrecision): string {
  if (typeof precision === "number") return `${precision} decimal places`;
  if ("decimals" in precision) return `${precision.decimals} decimal places`;
  if ("sigFigs" in precision) return `${precision.sigFigs} significant figures`;
  return [
    "relTol" in precision ? `relTol ${precision.relTol}` : "",
    precision.absTol !== undefined ? `absTol ${precision.absTol}` : "",
  ]
    .filter(Boolean)
    .join(", ");
}
