/**
 * Reading the shape of a math answer from its text: sets `\{…\}`, tuples and intervals `(…]`, bare lists
 * `1, 2`, `±` pairs, unions `A \cup B`, matrices `\begin{pmatrix}…\end{pmatrix}`, and relation chains
 * `a < x \le b`. Only shape: the items stay strings for the caller to compare.
 */

/** A compound answer. `seq` keeps its brackets (an interval's ends matter); `set` and `bare` are unordered. */
export type Structure =
  | { kind: "set" | "bare"; items: string[] }
  | { kind: "seq"; open: string; close: string; items: string[] }
  | { kind: "union"; items: string[] }
  | { kind: "matrix"; env: string; rows: string[][] };

const OPENERS = new Set(["(", "[", "{"]);
const CLOSERS = new Set([")", "]", "}"]);

/** Split at a separator that sits outside every bracket (`\{`/`\}` count as brackets too). */
export function splitTopLevel(s: string, separator: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const sticky = new RegExp(separator.source, "y");
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && (s[i + 1] === "{" || s[i + 1] === "}")) {
      depth += s[i + 1] === "{" ? 1 : -1;
      i++;
      continue;
    }
    if (OPENERS.has(c)) depth++;
    else if (CLOSERS.has(c)) depth--;
    else if (depth === 0) {
      sticky.lastIndex = i;
      const m = sticky.exec(s);
      if (m && m[0].length > 0) {
        parts.push(s.slice(start, i).trim());
        start = i + m[0].length;
        i = start - 1;
      }
    }
  }
  parts.push(s.slice(start).trim());
  return parts;
}

/** Index of the bracket closing the one at `open` (any of `( [` closed by any of `) ]`), or -1. */
function closingIndex(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && (s[i + 1] === "{" || s[i + 1] === "}")) {
      i++;
      continue;
    }
    if (OPENERS.has(c)) depth++;
    else if (CLOSERS.has(c) && --depth === 0) return i;
  }
  return -1;
}

const MATRIX = /^\\begin\{([pbBvV]?matrix|array|smallmatrix)\}(?:\{[^{}]*\})?([\s\S]*)\\end\{\1\}$/;

/**
 * The structure of an answer, or null for a plain scalar / expression / relation.
 * @example detectStructure("[1, 2)") // { kind: "seq", open: "[", close: ")", items: ["1", "2"] }
 */
export function detectStructure(s: string): Structure | null {
  const text = s.trim();
  const matrix = MATRIX.exec(text);
  if (matrix) {
    const rows = matrix[2]!
      .split(/\\\\/)
      .map((row) => row.trim())
      .filter((row) => row.length > 0)
      .map((row) => row.split("&").map((cell) => cell.trim()));
    return {
      kind: "matrix",
      env: matrix[1] === "vmatrix" || matrix[1] === "Vmatrix" ? matrix[1] : "matrix",
      rows,
    };
  }
  const union = splitTopLevel(text, /\\cup/);
  if (union.length > 1) return { kind: "union", items: union };
  if (text.startsWith("\\{") && text.endsWith("\\}")) {
    const inner = text.slice(2, -2).trim();
    return { kind: "set", items: inner.length === 0 ? [] : splitTopLevel(inner, /,|;/) };
  }
  if (text.startsWith("\\langle") && text.endsWith("\\rangle")) {
    return { kind: "seq", open: "<", close: ">", items: splitTopLevel(text.slice(7, -7), /,/) };
  }
  const first = text[0];
  if ((first === "(" || first === "[") && closingIndex(text, 0) === text.length - 1) {
    const items = splitTopLevel(text.slice(1, -1), /,/);
    if (items.length > 1) return { kind: "seq", open: first, close: text[text.length - 1]!, items };
  }
  const bare = splitTopLevel(text, /,|;|\s+(?:or|and)\s+|或|和/);
  if (bare.length > 1 && bare.every((item) => item.length > 0)) return { kind: "bare", items: bare };
  const pm = splitTopLevel(text, /\\pm|\\mp/);
  if (pm.length === 2) {
    const [a, b] = [pm[0]!, pm[1]!];
    return { kind: "bare", items: [`${a}+${b}`, `${a}-${b}`] };
  }
  return null;
}

/** Relation operators in canonical spelling. */
export type RelOp = "=" | "<" | "<=" | ">" | ">=" | "!=";

const REL_TOKENS: [RegExp, RelOp][] = [
  [/\\le(?![a-zA-Z])|<=/y, "<="],
  [/\\ge(?![a-zA-Z])|>=/y, ">="],
  [/\\ne(?![a-zA-Z])|!=/y, "!="],
  [/\\lt(?![a-zA-Z])|</y, "<"],
  [/\\gt(?![a-zA-Z])|>/y, ">"],
  [/=/y, "="],
];

/** A relation chain: `terms[0] ops[0] terms[1] ops[1] terms[2]…`. */
export type Relation = { terms: string[]; ops: RelOp[] };

/**
 * Read `a = b`, `x > 1`, `1 < x \le 3` into a chain, or null when the text has no top-level relation.
 * @example parseRelation("1 < x \\le 3") // { terms: ["1", "x", "3"], ops: ["<", "<="] }
 */
export function parseRelation(s: string): Relation | null {
  const terms: string[] = [];
  const ops: RelOp[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (OPENERS.has(c)) depth++;
    else if (CLOSERS.has(c)) depth--;
    if (depth !== 0) continue;
    for (const [re, op] of REL_TOKENS) {
      re.lastIndex = i;
      const m = re.exec(s);
      if (!m) continue;
      terms.push(s.slice(start, i).trim());
      ops.push(op);
      start = i + m[0].length;
      i = start - 1;
      break;
    }
  }
  if (ops.length === 0) return null;
  terms.push(s.slice(start).trim());
  if (terms.some((t) => t.length === 0)) return null;
  return { terms, ops };
}

/** `a > b > c` → `c < b < a`, so that every chain points one way; mixed chains are returned as they are. */
export function orientRelation(rel: Relation): Relation {
  if (rel.ops.every((op) => op === ">" || op === ">=")) {
    return {
      terms: [...rel.terms].reverse(),
      ops: [...rel.ops].reverse().map((op) => (op === ">" ? "<" : "<=")),
    };
  }
  return rel;
}

const IS_VARIABLE = /^[a-zA-Z](?:_\{?\w+\}?)?$/;

/**
 * A single-variable inequality with constant bounds as an interval: `x > 1` → `(1,\infty)`, `1 < x \le 3` →
 * `(1,3]`, `x \le -2` → `(-\infty,-2]`. Null for anything else (the caller decides constancy of bounds).
 */
export function inequalityToInterval(rel: Relation): { variable: string; interval: string } | null {
  const r = orientRelation(rel);
  if (r.ops.some((op) => op !== "<" && op !== "<=")) return null;
  const open = (op: RelOp): string => (op === "<" ? "(" : "[");
  const close = (op: RelOp): string => (op === "<" ? ")" : "]");
  if (r.terms.length === 3 && IS_VARIABLE.test(r.terms[1]!)) {
    return {
      variable: r.terms[1]!,
      interval: `${open(r.ops[0]!)}${r.terms[0]},${r.terms[2]}${close(r.ops[1]!)}`,
    };
  }
  if (r.terms.length !== 2) return null;
  if (IS_VARIABLE.test(r.terms[0]!))
    return { variable: r.terms[0]!, interval: `(-\\infty,${r.terms[1]}${close(r.ops[0]!)}` };
  if (IS_VARIABLE.test(r.terms[1]!))
    return { variable: r.terms[1]!, interval: `${open(r.ops[0]!)}${r.terms[0]},\\infty)` };
  return null;
}
