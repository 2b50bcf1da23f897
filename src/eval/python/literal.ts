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
    const word = /^(None|True|False)\b/.exec(this.text.slice(this.pos));
    if (word) {
      this.pos += word[0].length;
      return word[0] === "None" ? null : word[0] === "True";
    }
    const num = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?/.exec(
      this.text.slice(this.pos),
    );
    if (num && num[0] !== "" && num[0] !== "+" && num[0] !== "-") {
      this.pos += num[0].length;
      return Number(num[0].replaceAll("_", ""));
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
    const m = /^[rRuUbB]{0,2}['"]/.exec(this.text.slice(this.pos));
    return m !== null;
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
    const prefix = (/^[rRuUbB]{0,2}/.exec(this.text.slice(this.pos)) as RegExpExecArray)[0];
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
      const octal = (/^[0-7]{0,2}/.exec(this.text.slice(this.pos)) as RegExpExecArray)[0];
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
