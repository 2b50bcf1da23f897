/**
 * AndroidWorld mobile actions (reward-spec-official.md §1.3 entry 16, §2.4): JSON objects such as
 * `{"action_type": "click", "box_2d": [[x1, y1, x2, y2]]}`, also accepted in Python-literal syntax
 * (`{'override': True}`) and with zero-padded numbers, as the release accepts them.
 *
 * Kept from the release: the key sets must be identical; each key scores 1 when equal, `text` by LCS ratio,
 * `box_2d` by IoU (an invalid predicted box zeroes the whole reward), anything else 0; the reward is the product.
 * Better than the release (each has a test):
 * - a predicted click point (`box_2d: [[x, y]]`, or a bare `(x, y)` / `[x, y]` against a `click` label) is
 *   scored point-in-box: 1 inside the labelled box, else the OSWorld distance score to its nearest edge;
 * - a flat `box_2d: [x1, y1, x2, y2]` is read like `[[…]]`; a prediction listing several boxes is refused;
 * - an unreadable or invalid label scores 0 instead of raising.
 */
import type { VerifyResult } from "../../types.ts";
import { judgedResult, MAX_ACTION_CHARS, zeroResult } from "./action.ts";
import { matchTarget, parseTarget, type Target, targetFromNumbers } from "./point.ts";
import { lcsRatio } from "./similarity.ts";

/** A JSON / Python literal value. */
export type Literal = null | boolean | number | string | Literal[] | { [key: string]: Literal };

/** Nesting deeper than this is refused (real actions nest 2 levels). */
const MAX_DEPTH = 16;
const WORDS: Record<string, Literal> = {
  true: true,
  false: false,
  null: null,
  True: true,
  False: false,
  None: null,
};
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;
const WORD = /^[A-Za-z_]\w*/;
const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" };

/** What a reader returns when the text is not a literal there (never escapes `parseLiteral`). */
const FAIL = Symbol("fail");
type Fail = typeof FAIL;

/** A literal's text and the reading position in it. */
type Reader = { readonly text: string; i: number };

function skipSpace(r: Reader): void {
  while (r.i < r.text.length && /\s/.test(r.text[r.i]!)) r.i++;
}

/** A quoted string (either quote) with JSON and Python escapes; the reader sits on the opening quote. */
function readString(r: Reader): string | Fail {
  const { text } = r;
  const quote = text[r.i++];
  let out = "";
  while (r.i < text.length) {
    const c = text[r.i++]!;
    if (c === quote) return out;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = text[r.i++];
    if (e === undefined) return FAIL;
    if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(r.i, r.i + 4))) {
      out += String.fromCharCode(Number.parseInt(text.slice(r.i, r.i + 4), 16));
      r.i += 4;
    } else out += ESCAPES[e] ?? e;
  }
  return FAIL;
}

/** The items of a list or tuple up to `close` (trailing comma allowed); the reader sits after the opener. */
function readSequence(r: Reader, close: string, depth: number): Literal[] | Fail {
  const items: Literal[] = [];
  for (;;) {
    skipSpace(r);
    if (r.text[r.i] === close) {
      r.i++;
      return items;
    }
    const v = readValue(r, depth + 1);
    if (v === FAIL) return FAIL;
    items.push(v);
    skipSpace(r);
    if (r.text[r.i] === ",") r.i++;
    else if (r.text[r.i] !== close) return FAIL;
  }
}

/** The entries of an object up to `}` (quoted keys, trailing comma allowed); the reader sits after `{`. */
function readObject(r: Reader, depth: number): Literal | Fail {
  const out: { [key: string]: Literal } = {};
  for (;;) {
    skipSpace(r);
    if (r.text[r.i] === "}") {
      r.i++;
      return out;
    }
    if (r.text[r.i] !== '"' && r.text[r.i] !== "'") return FAIL;
    const key = readString(r);
    if (key === FAIL) return FAIL;
    skipSpace(r);
    if (r.text[r.i++] !== ":") return FAIL;
    const v = readValue(r, depth + 1);
    if (v === FAIL) return FAIL;
    // defineProperty: a key such as "__proto__" becomes an own entry, not the object's prototype
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    skipSpace(r);
    if (r.text[r.i] === ",") r.i++;
    else if (r.text[r.i] !== "}") return FAIL;
  }
}

/** A number (zero-padded allowed) or one of the WORDS. */
function readScalar(r: Reader): Literal | Fail {
  const rest = r.text.slice(r.i, r.i + 64);
  const num = NUMBER.exec(rest);
  if (num) {
    r.i += num[0].length;
    return Number(num[0]);
  }
  const word = WORD.exec(rest);
  if (word && word[0] in WORDS) {
    r.i += word[0].length;
    return WORDS[word[0]]!;
  }
  return FAIL;
}

/** One value at the reader's position, nested at most MAX_DEPTH deep. */
function readValue(r: Reader, depth: number): Literal | Fail {
  if (depth > MAX_DEPTH) return FAIL;
  skipSpace(r);
  const c = r.text[r.i];
  if (c === '"' || c === "'") return readString(r);
  if (c === "{" || c === "[" || c === "(") {
    r.i++;
    return c === "{" ? readObject(r, depth) : readSequence(r, c === "[" ? "]" : ")", depth);
  }
  return readScalar(r);
}

/**
 * Parse a JSON value, also accepting Python literal syntax: single-quoted strings, `True`/`False`/`None`,
 * tuples, trailing commas and zero-padded numbers (`0503`). Returns undefined when the text is not exactly one
 * value. Pure and bounded: no eval.
 * @example parseLiteral("{'a': (1, 02), 'b': True}") // { a: [1, 2], b: true }
 */
export function parseLiteral(text: string): Literal | undefined {
  if (text.length > MAX_ACTION_CHARS) return undefined;
  const reader: Reader = { text, i: 0 };
  const v = readValue(reader, 0);
  skipSpace(reader);
  return v === FAIL || reader.i !== text.length ? undefined : v;
}

function isRecord(v: Literal | undefined): v is { [key: string]: Literal } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepEqual(a: Literal, b: Literal): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, k) => deepEqual(x, b[k]!));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k]!, b[k]!))
    );
  }
  return false;
}

/** Read a `box_2d` value: `[[…]]` (one box, or the first of several when `firstOfMany`) or flat `[…]`. */
function readBox2d(v: Literal, firstOfMany: boolean): Target | null {
  if (!Array.isArray(v)) return null;
  let inner: Literal = v;
  if (Array.isArray(v[0])) {
    if (v.length !== 1 && !firstOfMany) return null;
    inner = v[0];
  }
  if (!Array.isArray(inner) || !inner.every((n) => typeof n === "number")) return null;
  return targetFromNumbers(inner as number[]);
}

/** One key's score; `hit` is false when a target missed (so a shaped near miss is not correct). */
type KeyScore = { score: number; continuous: boolean; hit: boolean; note: string };

function scoreKey(key: string, pred: Literal, gold: Literal): KeyScore | string {
  if (deepEqual(pred, gold)) return { score: 1, continuous: false, hit: true, note: `${key} equal` };
  if (key === "text" && typeof pred === "string" && typeof gold === "string") {
    return { score: lcsRatio(pred, gold), continuous: true, hit: true, note: "text LCS" };
  }
  if (key === "box_2d") {
    const g = readBox2d(gold, true);
    if (!g) return "label box_2d unreadable";
    const p = readBox2d(pred, false);
    if (!p) return "box_2d unreadable";
    const m = matchTarget(p, g);
    if (m.how === "invalid") return "box_2d invalid (coordinates must be integers 0–999, x1 ≤ x2, y1 ≤ y2)";
    return { score: m.score, continuous: true, hit: m.hit, note: `box_2d ${m.how} ${m.score}` };
  }
  return { score: 0, continuous: false, hit: false, note: `${key} differs` };
}

/**
 * Score a predicted AndroidWorld action against the labelled one (both as box content). Never throws.
 * Correct when the product is 1, or when a continuous part is involved, the product is ≥ 0.5 and every
 * predicted target landed (inside the labelled box, or IoU ≥ 0.5).
 * @example scoreAndroidWorld("{'action_type': 'click', 'box_2d': [[600, 650]]}",
 *   '{"action_type":"click","box_2d":[[503,580,718,702]]}').score // 1 (point in box)
 */
export function scoreAndroidWorld(pred: string, gold: string): VerifyResult {
  if (pred.length > MAX_ACTION_CHARS || gold.length > MAX_ACTION_CHARS) return zeroResult("action too long");
  const g = parseLiteral(gold.trim());
  if (!isRecord(g)) return zeroResult("unreadable AndroidWorld label");
  let p = parseLiteral(pred.trim());
  const bare = parseTarget(pred);
  if (bare && g.action_type === "click") {
    // Compact form: a bare point or box is a click there.
    p = {
      action_type: "click",
      box_2d: bare.kind === "point" ? [[bare.x, bare.y]] : [[bare.x1, bare.y1, bare.x2, bare.y2]],
    };
  }
  if (!isRecord(p)) return zeroResult("unreadable AndroidWorld action");
  const goldKeys = Object.keys(g).sort();
  const predKeys = Object.keys(p).sort();
  if (goldKeys.join("\u0000") !== predKeys.join("\u0000")) {
    return zeroResult(`keys {${predKeys.join(", ")}} ≠ label keys {${goldKeys.join(", ")}}`);
  }
  let score = 1;
  let continuous = false;
  let allHit = true;
  const notes: string[] = [];
  for (const key of goldKeys) {
    const k = scoreKey(key, p[key]!, g[key]!);
    if (typeof k === "string") return zeroResult(k);
    score *= k.score;
    continuous ||= k.continuous;
    allHit &&= k.hit;
    notes.push(k.note);
  }
  const correct = score === 1 || (continuous && allHit && score >= 0.5);
  return judgedResult(score, correct, notes.join("; "));
}
