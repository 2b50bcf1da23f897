/**
 * Python's number ↔ text rules as the official scorers use them: `float(str)` and `int(str)` parsing (whitespace,
 * underscores, Unicode digits, inf/nan), `round(x, n)` (half-even on the exact binary value), `str(float)` (repr:
 * shortest digits, `1e-05`, `1e+16`, `1.0`) and `int(x)` of a float. Parsers return null where Python raises.
 */

/** Python's `Py_ISSPACE`: the ASCII whitespace `float()`/`int()` strip after mapping Unicode spaces to ' '. */
const ASCII_SPACE = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;
/** Unicode whitespace as Python's `str.isspace()` sees it (JS `\s` differs: it has U+FEFF, lacks U+001C–U+001F, U+0085). */
export const PY_SPACE_CLASS =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_SPACE_CHAR = new RegExp(`^[${PY_SPACE_CLASS}]$`, "u");
const DECIMAL_DIGIT = /^\p{Nd}$/u;

/** The value 0–9 of a Unicode decimal digit (Nd digits come in runs of ten that start at zero). */
function digitValue(ch: string): number {
  let cp = ch.codePointAt(0) as number;
  let steps = 0;
  while (steps < 10 && DECIMAL_DIGIT.test(String.fromCodePoint(cp - 1))) {
    cp--;
    steps++;
  }
  return steps % 10;
}

/**
 * CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`: non-ASCII decimal digits become ASCII digits, non-ASCII
 * whitespace becomes ' ', any other non-ASCII character makes the text unparseable (null).
 */
function toAsciiNumberText(text: string): string | null {
  let out = "";
  for (const ch of text) {
    if (ch.charCodeAt(0) < 128) out += ch;
    else if (DECIMAL_DIGIT.test(ch)) out += String(digitValue(ch));
    else if (PY_SPACE_CHAR.test(ch)) out += " ";
    else return null;
  }
  return out.replace(ASCII_SPACE, "");
}

const DIGITS = "[0-9](?:_?[0-9])*";
const FLOAT_SYNTAX = new RegExp(
  `^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);
const FLOAT_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
const INT_SYNTAX = new RegExp(`^[+-]?${DIGITS}$`);

/**
 * `float(text)` for a str, or null where Python raises ValueError.
 * @example pyParseFloat(" 1_000.5 ") // 1000.5; pyParseFloat("1,000") // null
 */
export function pyParseFloat(text: string): number | null {
  const ascii = toAsciiNumberText(text);
  if (ascii === null) return null;
  const special = FLOAT_SPECIAL.exec(ascii);
  if (special) {
    if (special[2]!.toLowerCase() === "nan") return Number.NaN;
    return special[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!FLOAT_SYNTAX.test(ascii)) return null;
  return Number(ascii.replaceAll("_", "")); // JS decimal parsing is correctly rounded, as Python's is
}

/**
 * `int(text)` (base 10) for a str, or null where Python raises ValueError. CPython ≥ 3.11 also refuses texts of
 * more than 4300 digits; that limit is not applied here.
 * @example pyParseInt(" ١٢ ") // 12n; pyParseInt("3.0") // null
 */
export function pyParseInt(text: string): bigint | null {
  const ascii = toAsciiNumberText(text);
  if (ascii === null || !INT_SYNTAX.test(ascii)) return null;
  return BigInt(ascii.replaceAll("_", ""));
}

/** `int(x)` of a float: truncation toward zero; null where Python raises (inf: OverflowError, nan: ValueError). */
export function pyFloatToInt(x: number): bigint | null {
  if (!Number.isFinite(x)) return null;
  return BigInt(Math.trunc(x));
}

/** Exact `m × 2^e` of a finite non-zero double (m a 53-bit integer), via its IEEE bits. */
function exactBinary(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | 0x10000000000000n, exponent: biased - 1075 };
}

/**
 * `round(x, ndigits)` for a float: the exact binary value rounded half-even at `ndigits` decimals, then read back
 * as the nearest double (CPython's dtoa path), so `round(2.675, 2)` is 2.67 and `round(0.125, 2)` is 0.12.
 * @example pyRound(2.675, 2) // 2.67
 */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isInteger(ndigits)) throw new RangeError(`ndigits must be an integer, got ${ndigits}`);
  if (!Number.isFinite(x) || x === 0) return x;
  if (ndigits > 323) return x; // more digits than any double has
  if (ndigits < -308) return 0 * x; // keeps the sign of zero
  const { mantissa, exponent } = exactBinary(x);
  let numerator = mantissa * (exponent > 0 ? 2n ** BigInt(exponent) : 1n);
  let denominator = exponent < 0 ? 2n ** BigInt(-exponent) : 1n;
  if (ndigits >= 0) numerator *= 10n ** BigInt(ndigits);
  else denominator *= 10n ** BigInt(-ndigits);
  let quotient = numerator / denominator;
  const twiceRest = (numerator % denominator) * 2n;
  if (twiceRest > denominator || (twiceRest === denominator && quotient % 2n === 1n)) quotient += 1n;
  const rounded = Number(`${quotient}e${-ndigits}`);
  return x < 0 ? -rounded : rounded;
}

/**
 * `repr(x)` / `str(x)` of a Python float: the shortest round-trip digits, positional for exponents −4 ≤ e < 16,
 * otherwise `d.ddde±XX`; integral values keep `.0`.
 * @example pyFloatRepr(1e-5) // "1e-05"; pyFloatRepr(3) // "3.0"; pyFloatRepr(1e16) // "1e+16"
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  if (x === 0) return `${sign}0.0`;
  const [mantissa, exp] = Math.abs(x).toExponential().split("e"); // shortest digits that round-trip
  const digits = mantissa!.replace(".", "");
  const decpt = Number(exp) + 1; // value = 0.DIGITS × 10^decpt
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `${sign}0.${"0".repeat(-decpt)}${digits}`;
    if (decpt >= digits.length) return `${sign}${digits}${"0".repeat(decpt - digits.length)}.0`;
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  const e = decpt - 1;
  const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${body}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}
