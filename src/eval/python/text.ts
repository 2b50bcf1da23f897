/**
 * Python's str methods where they differ from JavaScript's: `strip()` and `split()` use Python's whitespace
 * (`str.isspace`), `strip(chars)` strips any of the given characters, `len()` counts code points, `capitalize()`
 * title-cases the first character, and `str()`/`repr()` of JSON-shaped values
 * print as Python prints them (`None`, `True`, `['a', 'b']`).
 */
import { PY_SPACE_CLASS, pyFloatRepr } from "./numbers.ts";

/** A regex character class of Python whitespace, for patterns that mean Python's `\s` on `str`. */
export const PY_WS_CLASS = `[${PY_SPACE_CLASS}]`;

const LEADING_SPACE = new RegExp(`^[${PY_SPACE_CLASS}]+`, "u");
const TRAILING_SPACE = new RegExp(`[${PY_SPACE_CLASS}]+$`, "u");
const SPACE_RUN = new RegExp(`[${PY_SPACE_CLASS}]+`, "u");

/**
 * `s.strip()` (Python whitespace) or `s.strip(chars)` (any of those characters, from both ends).
 * @example pyStrip("..B.", ".") // "B"
 */
export function pyStrip(s: string, chars?: string): string {
  if (chars === undefined) return s.replace(LEADING_SPACE, "").replace(TRAILING_SPACE, "");
  const set = new Set(chars);
  const points = Array.from(s);
  let start = 0;
  let end = points.length;
  while (start < end && set.has(points[start]!)) start++;
  while (end > start && set.has(points[end - 1]!)) end--;
  return points.slice(start, end).join("");
}

/** `s.split()`: runs of Python whitespace separate words; no empty words. */
export function pySplitWhitespace(s: string): string[] {
  return pyStrip(s)
    .split(SPACE_RUN)
    .filter((w) => w !== "");
}

/** Characters `repr` escapes: Python's non-printable set (control, format, surrogate, unassigned, separators but ' '). */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

/** `repr(s)` of a str: single quotes unless the text has ' and no ", escapes as Python writes them. */
export function pyReprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (NON_PRINTABLE.test(ch)) {
      const cp = ch.codePointAt(0) as number;
      if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, "0")}`;
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
      else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    } else out += ch;
  }
  return out + quote;
}

/**
 * `repr()` of a JSON value as Python holds it after `json.load`. JSON numbers lose int/float: an integral
 * number prints as an int (`3`), others as a float (`2.5`).
 */
export function pyRepr(value: unknown): string {
  if (typeof value === "string") return pyReprStr(value);
  return pyStr(value);
}

/**
 * `str()` of a JSON value as Python holds it: strings as-is, `None`, `True`/`False`, lists and dicts in repr form.
 * @example pyStr([1, "a", null]) // "[1, 'a', None]"
 */
export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number")
    return Number.isInteger(value) ? BigInt(value).toString() : pyFloatRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${pyReprStr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  }
  return String(value);
}

/** Python's `len(s)`: code points, not UTF-16 units. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Letters whose title case differs from their upper case (Latin digraphs): Python 3.8+ capitalises to title case. */
const TITLE_CASE: Record<string, string> = {
  Ǆ: "ǅ",
  ǅ: "ǅ",
  ǆ: "ǅ",
  Ǉ: "ǈ",
  ǈ: "ǈ",
  ǉ: "ǈ",
  Ǌ: "ǋ",
  ǋ: "ǋ",
  ǌ: "ǋ",
  Ǳ: "ǲ",
  ǲ: "ǲ",
  ǳ: "ǲ",
};

/** Python's `s.capitalize()`: first character to title case, the rest lower-cased (TextVQA's prompt relies on it). */
export function pyCapitalize(s: string): string {
  const [first, ...rest] = s;
  if (first === undefined) return "";
  return (TITLE_CASE[first] ?? first.toUpperCase()) + rest.join("").toLowerCase();
}
