/**
 * Number formatting that changes notation, not value: currency signs (`\$5`, `€20`, `5£`), thousands grouped
 * by (thin) spaces (`10\,000`, `1 000 000`), and the decimal comma (`3,5`). MATH's `10,\!000` needs no rule of
 * its own here: `normalize.ts` drops the negative thin space `\!`, leaving a plain thousands separator.
 */
import { detectStructure } from "../structures.ts";
import type { FormComparer } from "./form.ts";

/** Currency signs carry no mathematical meaning in an answer; `\$` is MATH's escaped dollar. */
const CURRENCY = /\\\$|[$€£¥₹]/g;
/** Three-digit groups split by single spaces (`10 000`, `1 000 000.5`), not touching other digits or words. */
const SPACED_THOUSANDS = /(?<![\w.,])(\d{1,3})((?: \d{3})+)(?!\d| \d)/g;

/**
 * Drop currency signs and join space-grouped thousands. Runs at the end of `normalizeLatex`.
 * @example normalizeNumberFormat("\\$10 000") // "10000"
 */
export function normalizeNumberFormat(s: string): string {
  let out = s;
  if (/[$€£¥₹]/.test(out)) out = out.replace(CURRENCY, " ").replace(/\s+/g, " ").trim();
  if (/\d \d{3}/.test(out))
    out = out.replace(SPACED_THOUSANDS, (_m, head: string, rest: string) => head + rest.replace(/ /g, ""));
  return out;
}

const DECIMAL_COMMA = /^([+-]?)(\d+),(\d+)$/;

/**
 * `3,5` read as 3.5: one comma between digits, no space. The convention, chosen so that no thousands number
 * changes value: a comma followed by exactly three digits is a thousands separator (`3,500` = 3500, as
 * `parsePlainNumber` reads it) unless the part before it cannot open a thousands number (`0,111`, `1234,567`).
 * The caller applies it to a prediction against a single-valued gold, so `1,2` against the list `1, 2` stays a list.
 * @example decimalCommaText("2,75") // "2.75"; decimalCommaText("3,500") // null
 */
export function decimalCommaText(s: string): string | null {
  const m = DECIMAL_COMMA.exec(s.trim());
  if (!m) return null;
  const [, sign, whole, frac] = m as unknown as [string, string, string, string];
  const thousandsShaped = frac.length === 3 && /^[1-9]\d{0,2}$/.test(whole);
  return thousandsShaped ? null : `${sign}${whole}.${frac}`;
}

/** A single value (no list, tuple, set or relation), which is what a decimal comma may stand against. */
const isSingleValued = (s: string): boolean =>
  !/[=<>]|\\[lg]e(?![a-z])/.test(s) && detectStructure(s) === null;

/**
 * The decimal-comma form: a prediction `3,5` against a single-valued gold `3.5`. Only the prediction is read so:
 * a gold `-2,1` is MATH's list of two roots, and reading it as -2.1 would call a wrong `-2.1` equal.
 */
export const compareDecimalComma: FormComparer = (p, g, ctx) => {
  const dp = decimalCommaText(p);
  return dp !== null && isSingleValued(g) ? ctx.compare(dp, g) : null;
};
