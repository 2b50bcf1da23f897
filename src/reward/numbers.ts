/**
 * Plain-number parsing shared by the numeric verifiers (math, chart, counting, …).
 * Extraction never compares and comparison never searches text: these take one short answer string.
 */

const FULL_WIDTH = /[\uFF10-\uFF19\uFF0E\uFF0C\uFF05\uFF0D\uFF0B]/g;

/** Map full-width digits and signs (`４`, `．`, `％`) to ASCII and unicode minus signs to `-`. */
export function toAsciiDigits(s: string): string {
  return s
    .replace(FULL_WIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[\u2212\u2012\u2013\u2014\uFE63]/g, "-");
}

/** A parsed plain number; `percent` is set when the text carried a `%` (value already divided by 100). */
export type PlainNumber = { value: number; percent: boolean; integer: boolean };

// A thousands number opens with 1–3 digits, not a lone 0 (`0,111` is a decimal comma, not 111).
const THOUSANDS = /^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FRACTION = /^([+-]?\d+)\s*\/\s*(\d+)$/;
const TIMES_TEN = /^([+-]?(?:\d+\.?\d*|\.\d+))\s*(?:\*|×|\\times|\\cdot)\s*10\s*\^\s*\{?\s*([+-]?\d+)\s*\}?$/;

/**
 * Parse a plain number: `42`, `-3.5`, `1,234,567`, `1.2e-3`, `3/4`, `45%`, `2.5 \%`, `3 × 10^5`, full-width digits.
 * Returns null for anything else (expressions, words, several numbers): the caller decides what that means.
 * @example parsePlainNumber("1,234.5") // { value: 1234.5, percent: false, integer: false }
 */
export function parsePlainNumber(text: string): PlainNumber | null {
  let s = toAsciiDigits(text).trim();
  if (s.length === 0 || s.length > 64) return null;
  let percent = false;
  const pct = /^(.*?)\s*(\\%|%|\\percent|percent)$/.exec(s);
  if (pct) {
    percent = true;
    s = pct[1]!.trim();
  }
  s = s.replace(/^\$(.*)\$$/, "$1").trim();
  if (s.startsWith("+")) s = s.slice(1);
  let value: number | undefined;
  let integer = false;
  if (THOUSANDS.test(s)) {
    const plain = s.replace(/,/g, "");
    value = Number(plain);
    integer = !plain.includes(".");
  } else if (DECIMAL.test(s)) {
    value = Number(s);
    integer = /^[+-]?\d+$/.test(s);
  } else {
    const frac = FRACTION.exec(s);
    const tens = TIMES_TEN.exec(s);
    if (frac) {
      const den = Number(frac[2]);
      if (den === 0) return null;
      value = Number(frac[1]) / den;
    } else if (tens) {
      value = Number(tens[1]) * 10 ** Number(tens[2]);
    }
  }
  if (value === undefined || !Number.isFinite(value)) return null;
  if (percent) value /= 100;
  integer = integer && !percent;
  return { value, percent, integer };
}

/**
 * Relative closeness as in the intended official rule: |pred − gold| / (|gold| + 1e-6) < tol, gold second.
 * Asymmetric on purpose: the ground truth sets the scale.
 */
export function relClose(pred: number, gold: number, tol: number): boolean {
  return Math.abs(pred - gold) / (Math.abs(gold) + 1e-6) < tol;
}

const EN_UNITS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
/** Words that are a whole count on their own ("none", "a", "twice"); they do not combine with other words. */
const EN_ALONE: Record<string, number> = { none: 0, no: 0, a: 1, an: 1, single: 1, once: 1, twice: 2 };
/** Multipliers that may follow a count or "a" ("a dozen" = 12, "two dozen" = 24, "a couple" = 2). */
const EN_GROUPS: Record<string, number> = { dozen: 12, couple: 2, pair: 2 };
const EN_TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const ZH_DIGITS: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

/**
 * English number words up to 9,999 ("twenty-one", "one hundred and five", "a dozen").
 * Words must form one number: "five six" or "five and six" is not 11 but null.
 */
function parseEnglishWords(s: string): number | null {
  const words = s.toLowerCase().replace(/-/g, " ").split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  if (words.length === 1 && words[0]! in EN_ALONE) return EN_ALONE[words[0]!]!;
  let total = 0;
  let current = 0;
  let seen = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const below100 = current % 100;
    if (w === "and") {
      // Only the British "hundred and five" / "thousand and five".
      const prev = words[i - 1];
      if (prev !== "hundred" && prev !== "thousand") return null;
      continue;
    }
    if ((w === "a" || w === "an") && i === 0 && words.length > 1) {
      current = 1;
      continue;
    }
    if (w in EN_UNITS) {
      const unit = EN_UNITS[w]!;
      // A unit may follow a hundred/thousand or a bare tens word ("twenty one"), never another unit.
      if (below100 !== 0 && !(below100 >= 20 && below100 % 10 === 0 && unit < 10)) return null;
      current += unit;
    } else if (w in EN_TENS) {
      if (below100 !== 0) return null;
      current += EN_TENS[w]!;
    } else if (w === "hundred") {
      if (current % 1000 >= 100) return null;
      current = (current || 1) * 100;
    } else if (w === "thousand") {
      if (total > 0) return null;
      total = (current || 1) * 1000;
      current = 0;
    } else if (w in EN_GROUPS) {
      // Only last: "a dozen" or "two dozen"; "a couple of birds" goes through the noun rule in parseCount.
      if (i !== words.length - 1) return null;
      return (total + (current || 1)) * EN_GROUPS[w]!;
    } else return null;
    seen = true;
  }
  return seen ? total + current : null;
}

/** Chinese numerals up to 9,999 (五, 十二, 二十三, 一百零五, 两千). */
function parseChineseNumeral(s: string): number | null {
  if (!/^[零〇一二两三四五六七八九十百千]+$/.test(s)) return null;
  let total = 0;
  let digit = 0;
  for (const ch of s) {
    if (ch in ZH_DIGITS) digit = ZH_DIGITS[ch]!;
    else {
      const mult = ch === "十" ? 10 : ch === "百" ? 100 : 1000;
      total += (digit || 1) * mult;
      digit = 0;
    }
  }
  return total + digit;
}

/** Whether a trailing "noun" is itself a number word ("5 six", "five six" are two numbers, not a count). */
function hasNumberWord(text: string): boolean {
  return text
    .toLowerCase()
    .split(/[\s-]+/)
    .some((w) => w in EN_UNITS || w in EN_TENS || w === "hundred" || w === "thousand");
}

/**
 * A count written as digits or number words in English or Chinese, with an optional trailing noun
 * ("5", "05", "1,000", "five", "twenty-one apples", "a dozen eggs", "5个", "十只猫" → 10).
 * "1.0" and "3.00" are whole counts (glmv's rule; the release sends them to an LLM judge).
 * Returns null when it is not a single whole count: "1.5", "-2", "2-3", "2 or 3", "三到四个", "five six".
 */
export function parseCount(text: string): number | null {
  const s = toAsciiDigits(text)
    .trim()
    .replace(/[.。!！]$/, "")
    .trim();
  if (s.length === 0 || s.length > 80) return null;
  const digits = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?(?:\s+([a-z][a-z\s-]*))?$/i.exec(s);
  if (digits) {
    // "5 apples" is a count; "5 or six" and "5 and 6" are not.
    if (digits[2] && (/\b(or|and|to|plus|minus)\b/i.test(digits[2]) || hasNumberWord(digits[2]))) return null;
    return Number(digits[1]!.replace(/,/g, ""));
  }
  // "5个", "5只猫": digits with a Chinese measure word.
  const digitsZh =
    /^(\d+)\s*[个只位条张件本头辆座棵朵颗把块名人]([^\d零〇一二两三四五六七八九十百千或到至~、,，和及与-]{0,4})$/u.exec(
      s,
    );
  if (digitsZh) return Number(digitsZh[1]);
  const zh =
    /^([零〇一二两三四五六七八九十百千]+)[个只位条张件本头辆座棵朵颗把块名人]?([^\d零〇一二两三四五六七八九十百千或到至~、,，和及与-]{0,4})$/u.exec(
      s,
    );
  if (zh) return parseChineseNumeral(zh[1]!);
  const whole = parseEnglishWords(s);
  if (whole !== null) return whole;
  // "seven apples", "a dozen eggs": number words followed by one noun (optionally "of").
  const m = /^([a-z\s-]+?)(?:\s+of)?\s+([a-z]+)$/i.exec(s);
  if (!m || /\b(or|to|plus|minus)\b/i.test(s) || hasNumberWord(m[2]!)) return null;
  return parseEnglishWords(m[1]!);
}

/**
 * A whole string of number words, English or Chinese ("twenty-one", "one hundred and five", "十二"); null otherwise.
 * Unlike parseCount it takes no trailing noun and ignores "a"/"no" alone (those are words in prose).
 * @example parseNumberWords("forty two") // 42
 */
export function parseNumberWords(text: string): number | null {
  const s = text.trim();
  if (s.length === 0 || s.length > 80) return null;
  if (/^[零〇一二两三四五六七八九十百千]+$/.test(s)) return parseChineseNumeral(s);
  if (/^(a|an|no|none|single|once)$/i.test(s)) return null;
  return parseEnglishWords(s);
}
