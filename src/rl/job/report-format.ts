/** Text for `report.html`: HTML escaping (util/html.ts) and numbers as a person reads them (integers whole, fractions short). */

export { escapeHtml } from "../../util/html.ts";

const grouped = (x: number): string => Math.round(x).toLocaleString("en-US");

/**
 * A number for a table or an axis: integers as integers (with thousands separators), from 100 up rounded to
 * whole numbers, below 100 three significant digits without trailing zeros.
 * @example formatNumber(30) // "30"; formatNumber(4416) // "4,416"; formatNumber(9.87654) // "9.88"
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "n/a" : x > 0 ? "∞" : "−∞";
  if (Number.isInteger(x) || Math.abs(x) >= 100) return grouped(x);
  return String(Number(x.toPrecision(3)));
}

/**
 * A share in [0, 1] as a percentage with one decimal (one decimal everywhere, so a column lines up).
 * @example formatShare(0.625) // "62.5%"
 */
export const formatShare = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "n/a");

/**
 * Words for a camelCase key no label covers, so a new figure still reads as text.
 * @example humanizeKey("rlSampledAccuracy") // "Rl sampled accuracy"
 */
export function humanizeKey(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
