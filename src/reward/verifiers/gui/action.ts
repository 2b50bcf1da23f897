/**
 * Shared pieces of the GUI-action scorers: the function-call parser (`left_click(start_box='[1, 2]')`,
 * `CLICK(point=(1, 2), element_info='OK')`), the input-size cap and the result constructors.
 */
import { SPECIAL_TOKENS } from "../../../model/special-tokens.ts";
import type { VerifyResult } from "../../types.ts";

/**
 * Actions longer than this are scored 0 without parsing: real actions are a few hundred characters, and the
 * quadratic text similarities must stay fast on hostile input.
 */
export const MAX_ACTION_CHARS = 2048;

/** A parsed argument: the text of its value, and whether it was a quoted string (quotes removed, escapes read). */
export type CallArg = { text: string; quoted: boolean };

/** A parsed `name(key=value, …)` call. Positional arguments keep their order. */
export type ActionCall = { name: string; named: Map<string, CallArg>; positional: CallArg[] };

const NAME = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(/;
const KEY = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)/;

/** Read a quoted string starting at `start` (the quote); returns the unescaped text and the index after it. */
function readQuoted(s: string, start: number): { text: string; end: number } | null {
  const quote = s[start];
  let text = "";
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && i + 1 < s.length) {
      const next = s[i + 1]!;
      // Only quotes and backslashes are escapes; `C:\dir` keeps its backslash.
      text += next === quote || next === "\\" ? next : c + next;
      i++;
    } else if (c === quote) {
      return { text, end: i + 1 };
    } else {
      text += c;
    }
  }
  return null; // unclosed quote
}

/** Read a bracketed value (`[…]` or `(…)`, nested, quotes respected) and return its raw text. */
function readBracketed(s: string, start: number): { text: string; end: number } | null {
  const stack: string[] = [];
  for (let i = start; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'" || c === '"') {
      const q = readQuoted(s, i);
      if (!q) return null;
      i = q.end - 1;
    } else if (c === "[" || c === "(") {
      stack.push(c === "[" ? "]" : ")");
    } else if (c === "]" || c === ")") {
      if (stack.pop() !== c) return null;
      if (stack.length === 0) return { text: s.slice(start, i + 1), end: i + 1 };
    }
  }
  return null; // unbalanced
}

/** Read a bare value up to the next top-level `,` or the closing `)`. */
function readBare(s: string, start: number): { text: string; end: number } | null {
  let i = start;
  while (i < s.length && s[i] !== "," && s[i] !== ")") {
    if ("'\"[(]".includes(s[i]!)) return null;
    i++;
  }
  const text = s.slice(start, i).trim();
  // A bare value is one token (`5`, `0.75`, `down`): `1 b=2` means a missing comma.
  return /[\s=]/.test(text) ? null : { text, end: i };
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  return i;
}

/**
 * Parse one action call. The whole text must be the call: trailing text, unclosed quotes, unbalanced brackets
 * or a repeated argument name give null. Quotes may be `'` or `"`, with `\'`/`\"`/`\\` escapes; the released
 * OSWorld parser instead cut a string at its first quote, so `type(content='don\'t')` typed `don\`.
 * @example parseCall("key(keys='ctrl+c')")?.named.get("keys")?.text // "ctrl+c"
 */
export function parseCall(text: string): ActionCall | null {
  if (text.length > MAX_ACTION_CHARS) return null;
  const head = NAME.exec(text);
  if (!head) return null;
  const call: ActionCall = { name: head[1]!, named: new Map(), positional: [] };
  let i = skipSpace(text, head[0].length);
  if (text[i] === ")") return skipSpace(text, i + 1) === text.length ? call : null;
  while (i < text.length) {
    let key: string | undefined;
    const keyMatch = KEY.exec(text.slice(i, i + 128));
    if (keyMatch) {
      key = keyMatch[1]!;
      i = skipSpace(text, i + keyMatch[0].length);
    }
    const c = text[i];
    const read =
      c === "'" || c === '"'
        ? readQuoted(text, i)
        : c === "[" || c === "("
          ? readBracketed(text, i)
          : readBare(text, i);
    if (!read) return null;
    const arg: CallArg = { text: read.text, quoted: c === "'" || c === '"' };
    if (key === undefined) call.positional.push(arg);
    else if (call.named.has(key)) return null;
    else call.named.set(key, arg);
    i = skipSpace(text, read.end);
    if (text[i] === ",") {
      i = skipSpace(text, i + 1);
      if (text[i] === ")") return skipSpace(text, i + 1) === text.length ? call : null; // trailing comma
      continue;
    }
    if (text[i] === ")") return skipSpace(text, i + 1) === text.length ? call : null;
    return null;
  }
  return null;
}

const { beginBox: BEGIN_BOX, endBox: END_BOX } = SPECIAL_TOKENS;

/**
 * If the text still carries box tokens, keep the content of the first complete box (the GUI scripts use the
 * first box); otherwise return the text trimmed.
 */
export function unwrapBox(text: string): string {
  const begin = text.indexOf(BEGIN_BOX);
  if (begin < 0) return text.trim();
  const end = text.indexOf(END_BOX, begin + BEGIN_BOX.length);
  if (end < 0) return text.trim();
  return text.slice(begin + BEGIN_BOX.length, end).trim();
}

function clampScore(score: number): number {
  return Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0;
}

/** A continuous score (distance, IoU, text similarity): correct when it is at least 0.5. */
export function continuousResult(score: number, reason: string): VerifyResult {
  const s = clampScore(score);
  return { score: s, correct: s >= 0.5, reason };
}

/** A discrete score (key, WAIT, exact index, 0.05 consolation): correct only when it is exactly 1. */
export function discreteResult(score: number, reason: string): VerifyResult {
  const s = clampScore(score);
  return { score: s, correct: s === 1, reason };
}

/** A result with an explicit verdict (point-in-box: a near miss earns a shaped score but is not correct). */
export function judgedResult(score: number, correct: boolean, reason: string): VerifyResult {
  return { score: clampScore(score), correct, reason };
}

/** Score 0, not correct. */
export function zeroResult(reason: string): VerifyResult {
  return { score: 0, correct: false, reason };
}
