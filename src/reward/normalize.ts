/**
 * String normalisation of one short math answer (plain or LaTeX) before comparison: the forms that differ
 * only in notation (`\dfrac` vs `\frac`, `\left(`, `\text{cm}`, `４`, `√`, `x^²`) become one spelling.
 * Pure and cheap: it never parses, never evaluates.
 */
import { normalizeNumberFormat } from "./math-forms/number-format.ts";
import { toAsciiDigits } from "./numbers.ts";

/** Replace every `\cmd{…}` (balanced braces) by what `wrap` makes of its content. */
export function replaceCommand(s: string, cmd: string, wrap: (inner: string) => string): string {
  const needle = `\\${cmd}`;
  let out = "";
  let i = 0;
  for (;;) {
    const at = s.indexOf(needle, i);
    if (at < 0) break;
    let j = at + needle.length;
    while (s[j] === " ") j++;
    // `\textbf` must not be read as `\text` + "bf": the command name has to end here.
    if (/[a-zA-Z]/.test(s[at + needle.length] ?? "") || s[j] !== "{") {
      out += s.slice(i, at + needle.length);
      i = at + needle.length;
      continue;
    }
    let depth = 0;
    let k = j;
    for (; k < s.length; k++) {
      if (s[k] === "{") depth++;
      else if (s[k] === "}" && --depth === 0) break;
    }
    if (k >= s.length) break;
    out += s.slice(i, at) + wrap(s.slice(j + 1, k));
    i = k + 1;
  }
  return out + s.slice(i);
}

const SUPERSCRIPTS: Record<string, string> = {
  "⁰": "0",
  "¹": "1",
  "²": "2",
  "³": "3",
  "⁴": "4",
  "⁵": "5",
  "⁶": "6",
  "⁷": "7",
  "⁸": "8",
  "⁹": "9",
  "⁻": "-",
  "⁺": "+",
};

const UNICODE_MATH: [RegExp, string][] = [
  [/℃/g, "°C"],
  [/π/g, "\\pi "],
  [/∞/g, "\\infty "],
  [/×/g, "\\times "],
  [/[·⋅]/g, "\\cdot "],
  [/÷/g, "\\div "],
  [/≤|⩽/g, "\\le "],
  [/≥|⩾/g, "\\ge "],
  [/≠/g, "\\ne "],
  [/±/g, "\\pm "],
  [/∪/g, "\\cup "],
  [/∩/g, "\\cap "],
  [/∈/g, "\\in "],
];

/** `√2`, `√(x+1)`, `√x` → `\sqrt{…}`. */
function unicodeRoots(s: string): string {
  return s
    .replace(/√\s*\(([^()]*)\)/g, "\\sqrt{$1}")
    .replace(/√\s*\{/g, "\\sqrt{")
    .replace(/√\s*([0-9.]+|[a-zA-Z])/g, "\\sqrt{$1}");
}

/**
 * Normalise notation, keeping meaning: strips `$…$`, `\(…\)`, `\left`/`\right`, sizing and spacing commands;
 * unwraps `\text{}`, `\textnormal{}`, `\mathrm{}`, `\textbf{}`, `\mathbf{}`, `\boldsymbol{}`, `\mbox{}`;
 * `\dfrac`/`\tfrac` → `\frac`; `\%` → `%`; `^\circ`, `\degree` → `°`; full-width digits; unicode math
 * (`π √ × ≤ ²`); `{,}` in numbers; `\!` (so `10,\!000` is 10,000); currency signs and space-grouped thousands
 * (`math-forms/number-format.ts`); a trailing full stop; runs of spaces.
 * @example normalizeLatex("$\\left( \\dfrac{1}{2} \\right)$") // "(\\frac{1}{2})"
 */
export function normalizeLatex(raw: string): string {
  // NFKC would turn ² into a plain 2: superscripts become ^{…} first.
  let s = toAsciiDigits(raw).trim();
  s = s.replace(
    /\^?[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+/g,
    (m) => `^{${[...m.replace("^", "")].map((c) => SUPERSCRIPTS[c] ?? c).join("")}}`,
  );
  s = s.normalize("NFKC");
  for (;;) {
    const before = s;
    s = s
      .replace(/^\$\$([\s\S]*)\$\$$/, "$1")
      .replace(/^\$([\s\S]*)\$$/, "$1")
      .replace(/^\\\(([\s\S]*)\\\)$/, "$1")
      .replace(/^\\\[([\s\S]*)\\\]$/, "$1")
      .trim();
    if (s === before) break;
  }
  for (const cmd of [
    "text",
    "textnormal",
    "textup",
    "textsf",
    "texttt",
    "mathsf",
    "textrm",
    "mathrm",
    "textbf",
    "mathbf",
    "boldsymbol",
    "mbox",
    "textit",
    "mathit",
  ]) {
    s = replaceCommand(s, cmd, (inner) => ` ${inner} `);
  }
  s = s
    .replace(/\\[dt]frac/g, "\\frac")
    .replace(/\\[dt]binom/g, "\\binom")
    .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)\b\s*/g, "")
    .replace(/\\displaystyle|\\limits/g, "")
    .replace(/\\lbrace|\\lbrack/g, (m) => (m === "\\lbrace" ? "\\{" : "["))
    .replace(/\\rbrace|\\rbrack/g, (m) => (m === "\\rbrace" ? "\\}" : "]"))
    // The negative thin space joins (MATH's `10,\!000` is 10,000); other spacing commands are a space
    // (`\ ` too, but not the row break `\\` followed by a space).
    .replace(/(?<!\\)\\!/g, "")
    .replace(/(?<!\\)\\(?:,|;|:|quad|qquad|enspace|thinspace| )|~/g, " ")
    .replace(/(\d)\{,\}(\d)/g, "$1$2")
    .replace(/\\%/g, "%")
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|\^\s*\{\s*°\s*\}|\^\s*°/g, "°")
    .replace(/°\s+([CF])(?![a-zA-Z])/g, "°$1")
    .replace(/\\geq(?![a-zA-Z])/g, "\\ge")
    .replace(/\\leq(?![a-zA-Z])/g, "\\le")
    .replace(/\\neq(?![a-zA-Z])/g, "\\ne");
  for (const [re, to] of UNICODE_MATH) s = s.replace(re, to);
  s = unicodeRoots(s);
  // `15\mbox{ cm}^2` leaves `cm ^2`: an exponent belongs to what precedes it.
  s = s.replace(/\s+/g, " ").replace(/ \^/g, "^").trim();
  // A sentence-final full stop, not a decimal point.
  s = s.replace(/(?<![\d.])[.。]$/, "").trim();
  return normalizeNumberFormat(s);
}

/** Functions written bare in plain-text answers (`sqrt(4)`, `sin(pi/2)`) and their LaTeX commands. */
const BARE_FUNCTIONS =
  /(?<![\\a-zA-Z])(arcsin|arccos|arctan|sinh|cosh|tanh|sin|cos|tan|cot|sec|csc|sqrt|exp|ln|log)\s*(?=\()/g;

/**
 * Rewrite plain-text math (as a Python or calculator user writes it) into LaTeX the engine reads the same way:
 * `**` → `^`, `sqrt(x)` → `\sqrt(x)`, `sin(` → `\sin(`, `log(` → `\ln(` (natural log, as sympy and
 * calculators mean it), `pi` → `\pi`, `inf`/`infinity` → `\infty`, and a lone `E` → `e` (Euler's number, as
 * sympy reads it). Strings that already contain LaTeX commands are returned unchanged.
 * @example plainToLatex("sqrt(4) + pi") // "\\sqrt(4) + \\pi "
 */
export function plainToLatex(s: string): string {
  if (s.includes("\\")) return s;
  return s
    .replace(/\*\*/g, "^")
    .replace(BARE_FUNCTIONS, (_m, name: string) => `\\${name === "log" ? "ln" : name}`)
    .replace(/(?<![\\a-zA-Z])pi(?![a-zA-Z])/g, "\\pi ")
    .replace(/(?<![\\a-zA-Z])(?:infinity|inf)(?![a-zA-Z])/gi, "\\infty ")
    .replace(/(?<![\w.])E(?![\w.])/g, "e");
}

/** A single-letter variable prefix: `x = `, `y=`, `f(x) =` (the rest is the answer). */
const VARIABLE_PREFIX = /^(?:[a-zA-Z](?:_\{?\w+\}?)?|[a-zA-Z]\s*\(\s*[a-zA-Z]\s*\))\s*=\s*(?!=)/;

/**
 * Drop a `x =` / `y=` / `f(x) =` prefix when the left side does not occur on the right (`x = 5` → `5`,
 * `y = 2x + 1` → `2x + 1`), so that answers given as an assignment compare with bare values. Equations whose
 * variable also appears on the right (`x = 2x - 3`) are left whole.
 * @example stripVariablePrefix("x = \\frac{1}{2}") // "\\frac{1}{2}"
 */
export function stripVariablePrefix(s: string): string {
  const m = VARIABLE_PREFIX.exec(s);
  if (!m) return s;
  const rest = s.slice(m[0].length).trim();
  const name = m[0].replace(/\s*=\s*$/, "").trim();
  if (rest.length === 0 || /[=<>]|\\le|\\ge|\\ne/.test(rest)) return s;
  // f(x) = 2x: the argument may appear on the right; only a bare name must not.
  if (!name.includes("(")) {
    const escaped = name.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
    if (new RegExp(`(?<![a-zA-Z\\\\])${escaped}(?![a-zA-Z])`).test(rest)) return s;
  }
  return rest;
}

/** The answer split into its value and its decorations, for numeric comparison. */
export type Decorated = { body: string; percent: boolean; degrees: boolean };

/**
 * Take a trailing `%` or `°` off an answer (`50%` → 50 with percent, `30°` → 30 with degrees). `°C`/`°F` are
 * temperatures, not angles, and stay for the unit parser.
 */
export function splitDecorations(s: string): Decorated {
  let body = s.trim();
  let percent = false;
  let degrees = false;
  if (/%$/.test(body) || /\\?percent$/.test(body)) {
    percent = true;
    body = body.replace(/\s*(?:%|\\?percent)$/, "");
  }
  if (/°$/.test(body)) {
    degrees = true;
    body = body.replace(/\s*°$/, "");
  }
  return { body: body.trim(), percent, degrees };
}

/** Trailing words after a number ("5 apples", "12 个", "3 dollars"): the number alone, or null if none. */
export function stripTrailingWords(s: string): string | null {
  const m =
    /^([+-]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z\u4e00-\u9fff][a-zA-Z\u4e00-\u9fff\s.'-]*)$/u.exec(
      s,
    );
  if (!m) return null;
  const words = m[2]!.trim();
  // One ASCII letter is a variable or a unit ("5 m"), which the unit parser decides, not a word.
  if (/^[a-zA-Z]$/.test(words)) return null;
  return m[1]!;
}
