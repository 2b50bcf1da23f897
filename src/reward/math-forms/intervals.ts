/**
 * Subsets of the real line, however written: intervals `[1,2)`, unions `(-\infty,1) \cup (2,\infty)`, points
 * `\{-1\} \cup [0,7)`, `\mathbb{R}`, `\emptyset`, differences `\mathbb{R} \setminus \{1\}`, membership
 * `x \in [1,2)`, set-builder `\{x \mid x > 2\}`, and single-variable inequalities `0 < f(x) < 1`, `x \le 3`,
 * `x \ne 1`, joined by "or" (union) and "and" (intersection).
 * Two such sets are equal when they are the same set: numeric pieces are sorted and merged first (so
 * `(-\infty,1] \cup (1,2)` is `(-\infty,2)`), then each end must match in value (the scalar rules, through
 * `ctx.compare`) and in kind — open and closed never match, `[1,2)` ≠ `[1,2]`, and a closed infinite end stays
 * closed, since `[-\infty, 3]` is not the notation of any real interval.
 * A plain `(1,2)` or `[1,2]` may be a point or a list, so it is read as an interval only against an answer that
 * is unmistakably a set (an inequality, a union, an infinite or half-open end, …); two plain ones are left to the
 * tuple rules.
 */
import { parseRelation, splitTopLevel } from "../structures.ts";
import { type FormComparer, type FormContext, no, type Verdict, yes } from "./form.ts";

/** One end of a piece: its text, whether it is included, and −1 / +1 for −∞ / +∞ (0 when finite). */
type End = { text: string; closed: boolean; inf: -1 | 0 | 1; value: number };
/** An interval from `lo` to `hi`; a point is a closed piece with equal ends. */
type Piece = { lo: End; hi: End };
/** A subset of the reals; `variable` names what it constrains (`x` in `x > 2`), `explicit` that it can only be a set. */
export type RealSet = { variable: string | null; pieces: Piece[]; explicit: boolean };

const GREEK =
  "alpha|beta|gamma|delta|epsilon|zeta|eta|theta|lambda|mu|nu|xi|rho|sigma|tau|phi|varphi|chi|psi|omega";
/** A variable: `x`, `x_1`, `\theta`, or a function of one, `f(x)`. */
const VARIABLE = new RegExp(
  String.raw`^(?:[a-zA-Z]|\\(?:${GREEK}))(?:_\{?\w+\}?)?(?:\s*\(\s*(?:[a-zA-Z]|\\(?:${GREEK}))\s*\))?$`,
);
const INFINITY = /^([+-]?)\s*(?:\\infty|\\infin|infinity|inf|oo)$/i;
const REALS = /^(?:\\mathbb\s*\{?\s*R\s*\}?|\\R|all real numbers|all reals|\(-\\infty,\s*\+?\\infty\))$/;
const EMPTY = /^(?:\\emptyset|\\varnothing|\\\{\s*\\\})$/;
const OR = /\s+or\s+|\\lor(?![a-zA-Z])|\\vee(?![a-zA-Z])|或/;
const AND = /\s+and\s+|\\land(?![a-zA-Z])|\\wedge(?![a-zA-Z])|且/;
const IN = /^(.+?)\s*\\in(?![a-zA-Z])\s*(.+)$/;
const SET_BUILDER = /^\\\{\s*(.+?)\s*(?:\\mid|\||:)\s*(.+?)\s*\\\}$/;
/** Any relation symbol: a text with one is read as a condition, never as a set expression. */
const RELATION_TEXT = /[<>=]|\\(?:le|ge|ne|lt|gt|in|mid)(?![a-zA-Z])/;

/** A cheap pre-check: only texts with a bracket, relation, set symbol or "real" can be sets of reals. */
const MAYBE_SET =
  /[()[\]<>]|\\(?:in|cup|le|ge|lt|gt|ne|mathbb|R|emptyset|varnothing|setminus)(?![a-zA-Z])|real/;
/** Pieces of one side beyond which merging and matching stop being cheap; real answers have a handful. */
const MAX_PIECES = 12;

const squash = (s: string): string => s.replace(/\s+/g, "");
const infiniteEnd = (sign: -1 | 1): End => ({
  text: sign < 0 ? "-\\infty" : "\\infty",
  closed: false,
  inf: sign,
  value: sign * Number.POSITIVE_INFINITY,
});

/** An end as written: ±∞, or a constant (its value, NaN when symbolic). Null for an end that names the variable. */
function readEnd(text: string, closed: boolean, ctx: FormContext): End | null {
  const t = text.trim();
  if (t.length === 0) return null;
  const inf = INFINITY.exec(squash(t));
  if (inf) {
    const sign = inf[1] === "-" ? -1 : 1;
    return {
      text: sign < 0 ? "-\\infty" : "\\infty",
      closed,
      inf: sign,
      value: sign * Number.POSITIVE_INFINITY,
    };
  }
  return { text: t, closed, inf: 0, value: ctx.evaluate(t) };
}

/** Whether `a` lies strictly before `b` on the line (false when either is symbolic). */
const before = (a: End, b: End): boolean => a.value < b.value;
const sameValue = (a: End, b: End): boolean =>
  a.value === b.value ||
  (Number.isFinite(a.value) && Math.abs(a.value - b.value) <= 1e-12 * Math.max(1, Math.abs(a.value)));

/** `(a,b]`, `[a,b)`, … as a piece; null when the ends are out of order or the text is not two ends in brackets. */
function readInterval(text: string, ctx: FormContext): Piece | null {
  const open = text[0];
  const close = text[text.length - 1];
  if ((open !== "(" && open !== "[") || (close !== ")" && close !== "]")) return null;
  const items = splitTopLevel(text.slice(1, -1), /,/);
  if (items.length !== 2) return null;
  const lo = readEnd(items[0]!, open === "[", ctx);
  const hi = readEnd(items[1]!, close === "]", ctx);
  if (!lo || !hi || lo.inf === 1 || hi.inf === -1) return null;
  // Out of order or degenerate ends make it a point or a pair, not an interval.
  if (Number.isFinite(lo.value) && Number.isFinite(hi.value) && !before(lo, hi)) return null;
  return { lo, hi };
}

/** `\{1, 2\}` as points (`\{\}` is the empty set); null for anything else. */
function readPoints(text: string, ctx: FormContext): Piece[] | null {
  if (!text.startsWith("\\{") || !text.endsWith("\\}")) return null;
  const inner = text.slice(2, -2).trim();
  if (inner.length === 0) return [];
  const points: Piece[] = [];
  for (const item of splitTopLevel(inner, /,|;/)) {
    const end = readEnd(item, true, ctx);
    if (end?.inf !== 0 || RELATION_TEXT.test(item)) return null;
    points.push({ lo: end, hi: end });
  }
  return points;
}

/** A set expression without relations: `A \cup B \cup …`, optionally `\setminus \{points\}`; explicit when it must be a set. */
function readSetExpression(text: string, ctx: FormContext): { pieces: Piece[]; explicit: boolean } | null {
  const minus = splitTopLevel(text, /\\setminus|\\backslash/);
  if (minus.length === 2) {
    const base = readSetExpression(minus[0]!, ctx);
    const removed = readPoints(minus[1]!, ctx);
    if (!base || !removed) return null;
    const pieces = removePoints(base.pieces, removed);
    return pieces ? { pieces, explicit: true } : null;
  }
  if (minus.length > 2) return null;
  const parts = splitTopLevel(text, /\\cup/);
  if (parts.length > MAX_PIECES) return null;
  const pieces: Piece[] = [];
  let explicit = parts.length > 1;
  for (const part of parts) {
    const t = part.trim();
    if (REALS.test(t)) {
      pieces.push({ lo: infiniteEnd(-1), hi: infiniteEnd(1) });
      explicit = true;
      continue;
    }
    if (EMPTY.test(t)) {
      explicit = true;
      continue;
    }
    const interval = readInterval(t, ctx);
    if (interval) {
      pieces.push(interval);
      if (interval.lo.inf || interval.hi.inf || interval.lo.closed !== interval.hi.closed) explicit = true;
      continue;
    }
    const points = readPoints(t, ctx);
    if (!points) return null;
    pieces.push(...points);
  }
  // A union of points only is a finite set: the set rules' business, unless something else made it explicit.
  if (pieces.every((p) => p.lo === p.hi) && parts.length > 1 && !pieces.some((p) => p.lo.inf)) {
    explicit = parts.some((p) => REALS.test(p.trim()) || EMPTY.test(p.trim()));
  }
  return { pieces, explicit };
}

/** `pieces` without the given points (numeric only); null when a value is symbolic. */
function removePoints(pieces: Piece[], points: Piece[]): Piece[] | null {
  let out = pieces;
  for (const { lo: p } of points) {
    if (!Number.isFinite(p.value)) return null;
    const next: Piece[] = [];
    for (const piece of out) {
      const inside =
        (before(piece.lo, p) || (sameValue(piece.lo, p) && piece.lo.closed)) &&
        (before(p, piece.hi) || (sameValue(piece.hi, p) && piece.hi.closed));
      if (!inside) {
        next.push(piece);
        continue;
      }
      if (piece.lo === piece.hi) continue;
      const open = { ...p, closed: false };
      if (!sameValue(piece.lo, p)) next.push({ lo: piece.lo, hi: open });
      if (!sameValue(piece.hi, p)) next.push({ lo: open, hi: piece.hi });
    }
    out = next;
  }
  return out;
}

/**
 * One inequality (or `x = a`, `x \ne a`) in one variable with constant bounds as pieces: `x \le 3` →
 * `(-\infty,3]`, `1 < x \le 2` → `(1,2]`, `3 > x` → `(-\infty,3)`, `x \ne 1` → `(-\infty,1) \cup (1,\infty)`.
 */
function readInequality(text: string, ctx: FormContext): { variable: string; pieces: Piece[] } | null {
  const rel = parseRelation(text);
  if (!rel || rel.terms.length > 3) return null;
  let { terms, ops } = rel;
  if (ops.every((op) => op === ">" || op === ">=")) {
    terms = [...terms].reverse();
    ops = [...ops].reverse().map((op) => (op === ">" ? "<" : "<="));
  }
  const at = terms.length === 3 ? 1 : terms.findIndex((t) => VARIABLE.test(t.trim()));
  if (at < 0 || !VARIABLE.test(terms[at]!.trim())) return null;
  const variable = squash(terms[at]!);
  const bounds = terms.filter((_, i) => i !== at);
  if (bounds.some((b) => VARIABLE.test(b.trim()) || mentions(b, variable))) return null;
  if (terms.length === 3) {
    if (ops.some((op) => op !== "<" && op !== "<=")) return null;
    const lo = readEnd(terms[0]!, ops[0] === "<=", ctx);
    const hi = readEnd(terms[2]!, ops[1] === "<=", ctx);
    if (!lo || !hi || lo.inf || hi.inf) return null;
    if (Number.isFinite(lo.value) && Number.isFinite(hi.value) && !before(lo, hi)) return null;
    return { variable, pieces: [{ lo, hi }] };
  }
  const op = ops[0]!;
  const bound = readEnd(bounds[0]!, op === "<=" || op === ">=" || op === "=", ctx);
  if (!bound || bound.inf) return null;
  if (op === "=") return { variable, pieces: [{ lo: bound, hi: bound }] };
  if (op === "!=") {
    const open = { ...bound, closed: false };
    return {
      variable,
      pieces: [
        { lo: infiniteEnd(-1), hi: open },
        { lo: open, hi: infiniteEnd(1) },
      ],
    };
  }
  // After orientation `<`/`<=` point from terms[0] to terms[1]: the variable on the left is bounded above.
  const upper = (at === 0) === (op === "<" || op === "<=");
  return {
    variable,
    pieces: [upper ? { lo: infiniteEnd(-1), hi: bound } : { lo: bound, hi: infiniteEnd(1) }],
  };
}

/** Whether a plain name occurs in a text as a whole word. */
function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
  return new RegExp(`(?<![a-zA-Z\\\\])${escaped}(?![a-zA-Z])`).test(squash(text));
}

/** A condition: inequalities joined by "or" (union) and "and" (intersection), all in one variable. */
function readCondition(text: string, ctx: FormContext): { variable: string; pieces: Piece[] } | null {
  const alternatives = splitTopLevel(text, OR);
  if (alternatives.length > MAX_PIECES) return null;
  let variable: string | null = null;
  const pieces: Piece[] = [];
  for (const alternative of alternatives) {
    let current: Piece[] | null = null;
    for (const clause of splitTopLevel(alternative, AND)) {
      const read = readInequality(clause, ctx);
      if (!read || (variable !== null && read.variable !== variable)) return null;
      variable = read.variable;
      current = current === null ? read.pieces : intersect(current, read.pieces);
      if (current === null) return null;
    }
    if (current) pieces.push(...current);
  }
  return variable === null ? null : { variable, pieces };
}

/** The later of two lower ends / earlier of two upper ends (null when symbolic). */
function tighter(a: End, b: End, lower: boolean): End | null {
  if (Number.isNaN(a.value) || Number.isNaN(b.value)) return null;
  if (sameValue(a, b)) return a.closed ? b : a;
  return (lower ? before(b, a) : before(a, b)) ? a : b;
}

/** Intersection of two unions of pieces (numeric ends only). */
function intersect(a: Piece[], b: Piece[]): Piece[] | null {
  const out: Piece[] = [];
  for (const p of a) {
    for (const q of b) {
      const lo = tighter(p.lo, q.lo, true);
      const hi = tighter(p.hi, q.hi, false);
      if (!lo || !hi) return null;
      if (before(lo, hi) || (sameValue(lo, hi) && lo.closed && hi.closed))
        out.push({ lo, hi: sameValue(lo, hi) ? lo : hi });
    }
  }
  return out;
}

/**
 * Read an answer as a subset of the reals, or null when it is not one.
 * @example parseRealSet("x \\le 3", ctx) // { variable: "x", pieces: [(-∞, 3]], explicit: true }
 */
export function parseRealSet(text: string, ctx: FormContext): RealSet | null {
  const t = text.trim();
  if (t.length === 0 || t.length > 400) return null;
  const builder = SET_BUILDER.exec(t);
  if (builder) {
    const head = builder[1]!.replace(/\\in(?![a-zA-Z])\s*(?:\\mathbb\s*\{?\s*R\s*\}?|\\R)$/, "").trim();
    const cond = readCondition(builder[2]!, ctx);
    if (!cond || squash(head) !== cond.variable) return null;
    return { variable: cond.variable, pieces: cond.pieces, explicit: true };
  }
  const member = IN.exec(t);
  if (member && VARIABLE.test(member[1]!.trim())) {
    const set = readSetExpression(member[2]!.trim(), ctx);
    return set ? { variable: squash(member[1]!), pieces: set.pieces, explicit: true } : null;
  }
  if (RELATION_TEXT.test(t)) {
    const cond = readCondition(t, ctx);
    if (!cond) return null;
    // Only equations (`x = 1 or x = 2`) are a finite set: the labels and set rules read those.
    const explicit = cond.pieces.some((p) => p.lo !== p.hi) || cond.pieces.length === 0;
    return { variable: cond.variable, pieces: cond.pieces, explicit };
  }
  const set = readSetExpression(t, ctx);
  return set ? { variable: null, pieces: set.pieces, explicit: set.explicit } : null;
}

/** Sort and merge pieces whose ends are all numbers (overlapping, or touching with an end included); else as is. */
function canonical(pieces: Piece[]): Piece[] {
  if (pieces.some((p) => Number.isNaN(p.lo.value) || Number.isNaN(p.hi.value))) return pieces;
  const sorted = [...pieces].sort(
    (a, b) => a.lo.value - b.lo.value || Number(b.lo.closed) - Number(a.lo.closed),
  );
  const out: Piece[] = [];
  for (const piece of sorted) {
    const last = out[out.length - 1];
    const touches = last && sameValue(last.hi, piece.lo) && (last.hi.closed || piece.lo.closed);
    if (last && (before(piece.lo, last.hi) || touches)) {
      const hi =
        before(last.hi, piece.hi) || (sameValue(last.hi, piece.hi) && piece.hi.closed) ? piece.hi : last.hi;
      out[out.length - 1] = { lo: last.lo, hi };
    } else out.push(piece);
  }
  return out;
}

/** Ends match: same kind (open/closed, which infinity) and, when finite, the same value by the scalar rules. */
function endsMatch(p: End, g: End, ctx: FormContext): boolean {
  if (p.closed !== g.closed || p.inf !== g.inf) return false;
  return p.inf !== 0 || ctx.compare(p.text, g.text).equal;
}

const piecesMatch = (p: Piece, g: Piece, ctx: FormContext): boolean =>
  endsMatch(p.lo, g.lo, ctx) && endsMatch(p.hi, g.hi, ctx);

/**
 * Compare two subsets of the reals (gold second): same variable when both name one, then the same pieces.
 * @example compareRealSets(parse("x \\in [1,2)"), parse("[1,2)"), ctx) // { equal: true, reason: "interval" }
 */
export function compareRealSets(p: RealSet, g: RealSet, ctx: FormContext): Verdict {
  if (p.variable !== null && g.variable !== null && p.variable !== g.variable)
    return no("different_variable");
  const cp = canonical(p.pieces);
  const cg = canonical(g.pieces);
  if (cp.length !== cg.length) return no("interval_mismatch");
  const left = [...cg];
  for (const piece of cp) {
    const at = left.findIndex((other) => piecesMatch(piece, other, ctx));
    if (at < 0) return no("interval_mismatch");
    left.splice(at, 1);
  }
  return yes("interval");
}

/**
 * The interval form: decides a pair when both sides read as subsets of the reals and at least one can only be
 * one; passes (null) otherwise, so tuples, lists and relations keep their own rules.
 */
export const compareIntervals: FormComparer = (pred, gold, ctx) => {
  if (!MAYBE_SET.test(pred) && !MAYBE_SET.test(gold)) return null;
  const p = parseRealSet(pred, ctx);
  if (!p) return null;
  const g = parseRealSet(gold, ctx);
  if (!g || (!p.explicit && !g.explicit)) return null;
  return compareRealSets(p, g, ctx);
};
