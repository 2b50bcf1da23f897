/**
 * OCR verifier: continuous `1 − Levenshtein / max length` after removing all whitespace, on Unicode code points
 * (as the release's `OCRVerifier` with its shipped config: no LLM fallback, so the reward is pure similarity).
 * Case-sensitive by default; `verifyOcrIgnoreCase` (the release's `ocr_ignore_case` datasource) lower-cases first.
 */
import { distance } from "fastest-levenshtein";
import type { Verifier } from "../types.ts";

/** Options of an OCR verifier. */
export type OcrOptions = {
  /** Lower-case both sides before comparing (the `ocr_ignore_case` config). */
  ignoreCase: boolean;
};

/** A similarity at or above this counts as correct: float noise only, the texts are effectively identical. */
const CORRECT_AT = 0.999;

/**
 * Re-encode two strings so each Unicode code point is one UTF-16 unit: `fastest-levenshtein` counts UTF-16 units,
 * which would make one emoji or rare CJK character (a surrogate pair) cost 2 edits. Only the equality of
 * characters matters to the distance, so any one-to-one code point → unit map works.
 */
function toCodePointUnits(a: string, b: string): [string, string] {
  const units = new Map<number, string>();
  const encode = (s: string): string => {
    let out = "";
    for (const ch of s) {
      const cp = ch.codePointAt(0)!;
      let unit = units.get(cp);
      if (unit === undefined) {
        // Skip the surrogate block so the output stays well-formed.
        const n = units.size < 0xd800 ? units.size : units.size + 0x800;
        unit = String.fromCharCode(n);
        units.set(cp, unit);
      }
      out += unit;
    }
    return out;
  };
  return [encode(a), encode(b)];
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Edit similarity `1 − d / max(len)` on code points, after NFC and removing all whitespace; null when both sides
 * are empty (the release divides by zero there).
 * @example ocrSimilarity("社区服务", "社区服", { ignoreCase: false }) // 0.75
 */
export function ocrSimilarity(pred: string, gold: string, opts: OcrOptions): number | null {
  let a = pred.normalize("NFC").replace(/\s+/g, "");
  let b = gold.normalize("NFC").replace(/\s+/g, "");
  if (opts.ignoreCase) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  if (SURROGATE.test(a) || SURROGATE.test(b)) [a, b] = toCodePointUnits(a, b);
  const longest = Math.max(a.length, b.length);
  if (longest === 0) return null;
  if (a === b) return 1;
  return 1 - distance(a, b) / longest;
}

/**
 * Build an OCR verifier. The score is the continuous similarity; `correct` when it is ≥ 0.999.
 * @example makeOcrVerifier({ ignoreCase: true })("AFSDF", "afsdf", {}).score // 1
 */
export function makeOcrVerifier(opts: OcrOptions): Verifier {
  return (pred, gold) => {
    const sim = ocrSimilarity(pred, gold, opts);
    if (sim === null)
      return { score: 0, correct: false, reason: "both texts are empty after removing whitespace" };
    if (normalizedEmpty(gold)) return { score: 0, correct: false, reason: "gold text is empty" };
    const score = Math.max(0, Math.min(1, sim));
    const correct = score >= CORRECT_AT;
    return { score, correct, reason: correct ? "text matches" : `edit similarity ${score.toFixed(4)}` };
  };
}

function normalizedEmpty(s: string): boolean {
  return s.replace(/\s+/g, "").length === 0;
}

/** Case-sensitive OCR verifier (the release's `ocr` datasource). */
export const verifyOcr: Verifier = makeOcrVerifier({ ignoreCase: false });

/** Case-insensitive OCR verifier (the release's `ocr_ignore_case` datasource). */
export const verifyOcrIgnoreCase: Verifier = makeOcrVerifier({ ignoreCase: true });
