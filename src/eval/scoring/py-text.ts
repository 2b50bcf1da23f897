/**
 * Python's string semantics where official scorers rely on them: `str.strip()`/`str.split()` whitespace (which
 * differs from JavaScript's `\s`), `len()` in code points, `str.capitalize()`, and `float(str)`.
 */

/** The characters Python's `str.isspace()` accepts (what `strip()` and `split()` remove). */
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/** A regex character class of Python whitespace, for building patterns that mean Python's `\s` on `str`. */
export const PY_WS_CLASS = `[${PY_SPACE}]`;

const LEADING = new RegExp(`^${PY_WS_CLASS}+`);
const TRAILING = new RegExp(`${PY_WS_CLASS}+$`);
const RUNS = new RegExp(`${PY_WS_CLASS}+`);

/** Python's `s.strip()` with no argument. */
export function pyStrip(s: string): string {
  return s.replace(LEADING, "").replace(TRAILING, "");
}

/** Python's `s.split()` with no argument: runs of whitespace separate, no empty pieces. */
export function pySplit(s: string): string[] {
  const stripped = pyStrip(s);
  return stripped === "" ? [] : stripped.split(RUNS);
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

const ND = /\p{Nd}/u;

/** The value of a Unicode decimal digit (Python's float() accepts them all): its offset in its block of ten. */
function digitValue(ch: string): number {
  let cp = ch.codePointAt(0) as number;
  let offset = 0;
  while (offset < 9 && ND.test(String.fromCodePoint(cp - 1))) {
    cp--;
    offset++;
  }
  // Blocks of decimal digits are runs of ten; a run of several blocks (math digits) is still aligned to ten.
  return offset % 10;
}

const FLOAT_LITERAL = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/**
 * Python's `float(text)`, or null where it raises ValueError: surrounding whitespace, any Unicode decimal digits,
 * underscores between digits, `inf`/`infinity`/`nan` in any case, and no thousands separators or trailing `%`.
 */
export function pyFloat(text: string): number | null {
  let ascii = "";
  for (const ch of pyStrip(text))
    ascii += ch >= "0" && ch <= "9" ? ch : ND.test(ch) ? String(digitValue(ch)) : ch;
  const special = SPECIAL.exec(ascii);
  if (special) {
    if (special[2]?.toLowerCase() === "nan") return Number.NaN;
    return special[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!FLOAT_LITERAL.test(ascii)) return null;
  return Number(ascii.replaceAll("_", ""));
}
