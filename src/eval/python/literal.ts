/**
 * `ast.literal_eval` for the literals benchmark releases store as text: MMMU's `options` column is a Python list
 * of strings (`"['$6', \"Don't know\"]"`), not JSON. Strings (quotes, prefixes r/u/b, escapes, adjacent-literal
 * concatenation), numbers, None/True/False, lists and tuples are read; anything else is an error.
 */
import { GlmvError } from "../../util/errors.ts";

export type PyLiteral = string | number | boolean | null | PyLiteral[];

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

// sticky patterns read at the cursor without slicing the rest of the text
const WORD = /(None|True|False)\b/y;
const NUMBER = /[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?/y;
const STRING_START = /[rRuUbB]{0,2}['"]/y;
const PREFIX = /[rRuUbB]{0,2}/y;
const OCTAL = /[0-7]{0,2}/y;
const PLAIN_RUN = /[^\\'"\n]+/y;

function matchAt(pattern: RegExp, text: string, pos: number): string | null {
  pattern.lastIndex = pos;
  return pattern.exec(text)?.[0] ?? null;
}

class LiteralReader {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly where: string,
  ) {}

  fail(what: string): never {
    throw new GlmvError("bad_input", `not a Python literal: ${what} at offset ${this.pos}`, {
      where: this.where,
    });
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /[ \t\n\r\f\v]/.test(this.text[this.pos]!)) this.pos++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  value(): PyLiteral {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === "[" || ch === "(") return this.sequence(ch === "[" ? "]" : ")");
    if (/[rRuUbB'"]/.test(ch ?? "") && this.stringStart()) return this.strings();
    const word = matchAt(WORD, this.text, this.pos);
    if (word) {
      this.pos += word.length;
      return word === "None" ? null : word === "True";
    }
    const num = matchAt(NUMBER, this.text, this.pos);
    if (num && num !== "+" && num !== "-") {
      this.pos += num.length;
      return Number(num.replaceAll("_", ""));
    }
    return this.fail(ch === undefined ? "unexpected end" : `unexpected '${ch}'`);
  }

  private sequence(close: string): PyLiteral[] {
    this.pos++;
    const items: PyLiteral[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.text[this.pos] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  private stringStart(): boolean {
    return matchAt(STRING_START, this.text, this.pos) !== null;
  }

  /** One or more adjacent string literals, concatenated as Python does. */
  private strings(): string {
    let out = "";
    do {
      out += this.stringLiteral();
      this.skipSpace();
    } while (this.pos < this.text.length && this.stringStart());
    return out;
  }

  private stringLiteral(): string {
    const prefix = matchAt(PREFIX, this.text, this.pos) ?? "";
    const raw = /r/i.test(prefix);
    this.pos += prefix.length;
    const q = this.text[this.pos]!;
    const triple = this.text.startsWith(q.repeat(3), this.pos);
    const close = triple ? q.repeat(3) : q;
    this.pos += close.length;
    let out = "";
    for (;;) {
      if (this.pos >= this.text.length) this.fail("unterminated string");
      if (this.text.startsWith(close, this.pos)) {
        this.pos += close.length;
        return out;
      }
      const run = matchAt(PLAIN_RUN, this.text, this.pos);
      if (run) {
        out += run;
        this.pos += run.length;
        continue;
      }
      const ch = this.text[this.pos];
      if (ch === "\n" && !triple) this.fail("newline in string");
      if (ch !== "\\") {
        out += ch;
        this.pos++;
        continue;
      }
      const next = this.text[this.pos + 1];
      if (next === undefined) this.fail("unterminated string");
      if (raw) {
        out += ch + next; // a raw string keeps the backslash (and it still hides a quote)
        this.pos += 2;
        continue;
      }
      out += this.escape(next);
    }
  }

  private escape(next: string): string {
    this.pos += 2;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) return simple;
    if (next === "\n") return "";
    const hexLength = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
    if (hexLength > 0) {
      const hex = this.text.slice(this.pos, this.pos + hexLength);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) this.fail(`bad \\${next} escape`);
      this.pos += hexLength;
      return String.fromCodePoint(Number.parseInt(hex, 16));
    }
    if (/[0-7]/.test(next)) {
      const octal = matchAt(OCTAL, this.text, this.pos) ?? "";
      this.pos += octal.length;
      return String.fromCodePoint(Number.parseInt(next + octal, 8));
    }
    return `\\${next}`; // unknown escapes keep the backslash
  }
}

/**
 * The value of a Python literal text, as `ast.literal_eval` reads it.
 * @example parsePyLiteral("['a', \"b's\"]", "options") // ["a", "b's"]
 */
export function parsePyLiteral(text: string, where: string): PyLiteral {
  const reader = new LiteralReader(text, where);
  const value = reader.value();
  if (!reader.atEnd()) reader.fail("trailing text");
  return value;
}

/** A Python list-of-strings literal (MMMU `options`); anything else is a `bad_input` error naming `where`. */
export function parsePyStringList(text: string, where: string): string[] {
  const value = parsePyLiteral(text, where);
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new GlmvError("bad_input", "expected a Python list of strings", { where });
  }
  return value as string[];
}
