/**
 * Is a predicted math answer equivalent to the gold one? The strategy, in order (gold second everywhere, since
 * the gold sets the scale of the relative rule):
 *   1. structural: the normalised strings are equal;
 *   2. numeric: both sides are real numbers and |a − b| / (|b| + 1e-6) < tol (percent, degrees and units
 *      taken into account; a missing unit on the prediction is fine, a present one must convert);
 *   3. compound answers element by element: sets and bare lists unordered, tuples/intervals ordered with their
 *      brackets, unions, matrices; relations (equations up to a non-zero factor, inequalities up to a positive
 *      one, single-variable inequalities as intervals);
 *   4. symbolic: identical canonical forms, then evaluation at seeded random points of the free variables;
 *      when sampling cannot decide, expand(a − b) = 0. (Running expand last gives the same verdicts as running
 *      it first, since expand(a − b) = 0 implies equal samples, and it is the slow step.)
 */

import { compareStatements } from "./math-forms/chains.ts";
import { type FormComparer, type FormContext, no, type Verdict, yes } from "./math-forms/form.ts";
import { compareIntervals } from "./math-forms/intervals.ts";
import { compareAssignments } from "./math-forms/labels.ts";
import { compareMatrices } from "./math-forms/matrices.ts";
import { compareDecimalComma } from "./math-forms/number-format.ts";
import type { NumberRule } from "./math-forms/precision.ts";
import { compareCollections, compareListNotation } from "./math-forms/sets.ts";
import { evaluateReal } from "./mathjson-eval.ts";
import {
  type Decorated,
  normalizeLatex,
  plainToLatex,
  splitDecorations,
  stripTrailingWords,
  stripVariablePrefix,
} from "./normalize.ts";
import { parsePlainNumber, relClose } from "./numbers.ts";
import {
  detectStructure,
  inequalityToInterval,
  orientRelation,
  parseRelation,
  type Structure,
} from "./structures.ts";
import {
  compareAtRandomPoints,
  complexityReason,
  expandsToZero,
  freeVariables,
  jsonKey,
  type MathJson,
  parseLatex,
} from "./symbolic.ts";
import { parseUnit, sameDimensions, splitQuantity, toSI, type Unit } from "./units.ts";

/** How strict a comparison is. `looseUnits`: a one-letter unit may follow a number directly (`5m`). */
export type EquivalenceOptions = { tol: number; looseUnits?: boolean; close?: NumberRule | undefined };

/** When two numbers match: the item's own rule (`math-forms/precision.ts`) when set, else the relative tolerance. */
const closeRule = (opts: EquivalenceOptions): NumberRule =>
  opts.close ?? ((a, b) => relClose(a, b, opts.tol));

export type { Verdict } from "./math-forms/form.ts";

/**
 * The answer forms (`math-forms/`), tried in order on every pair after the plain-number fast path: each decides
 * the pair or passes (null). Adding a form is one line here.
 */
const FORMS: FormComparer[] = [
  compareMatrices,
  compareIntervals,
  compareDecimalComma,
  compareAssignments,
  compareStatements,
  compareListNotation,
];

const EMPTY_ENV = new Map<string, number>();
const SIMPLE_FRAC = /^(-?)\\frac\{(-?\d+(?:\.\d+)?)\}\{(-?\d+(?:\.\d+)?)\}$/;
const MAX_DEPTH = 6;

/**
 * The exact value of a numeric text: fast paths (plain numbers, `\frac{a}{b}`), then the engine; NaN if none. (The
 * anti-hacking check's lenient reader, which skips units and hedge words, is `antihack-shapes.ts`'s `numericValue`.)
 */
function evaluateNumberText(text: string): number {
  const plain = parsePlainNumber(text);
  if (plain) return plain.value;
  const frac = SIMPLE_FRAC.exec(text.replace(/\s+/g, ""));
  if (frac) return (frac[1] ? -1 : 1) * (Number(frac[2]) / Number(frac[3]));
  const json = parseLatex(plainToLatex(text));
  if (json === null || freeVariables(json).length > 0) return Number.NaN;
  return evaluateReal(json, EMPTY_ENV);
}

/**
 * Compare two raw numbers (as written, before any `%` is applied) allowing a percent or degree decoration on
 * either side: `50%` matches `0.5` and, as a missing unit, `50`; `30°` matches `30` and `π/6`.
 */
function numbersMatch(p: number, dp: Decorated, g: number, dg: Decorated, rule: NumberRule): boolean {
  const close = (a: number, b: number): boolean =>
    a === b || (Number.isFinite(a) && Number.isFinite(b) && rule(a, b));
  const sp = dp.percent ? p / 100 : p;
  const sg = dg.percent ? g / 100 : g;
  if (close(sp, sg)) return true;
  if (dp.percent !== dg.percent && close(p, g)) return true;
  if (
    dp.degrees !== dg.degrees &&
    (dp.degrees ? close((p * Math.PI) / 180, g) : close(p, (g * Math.PI) / 180))
  ) {
    return true;
  }
  return false;
}

type Quantity = { value: number; unit: Unit | null; text: string };

/** An answer's value and unit (`5 km` → 5, km; `5 apples` → 5, none). */
function readQuantity(body: string, looseUnits: boolean): Quantity {
  const q = splitQuantity(body);
  const unitIsTight =
    q.unit !== null && !/\s/.test(body.slice(q.valueText.length, body.length - q.unitText.length));
  const unitOk = q.unit !== null && (looseUnits || !unitIsTight || q.unitText.length > 1);
  if (unitOk) return { value: evaluateNumberText(q.valueText), unit: q.unit, text: q.valueText };
  const words = stripTrailingWords(body);
  const text = words ?? body;
  return { value: evaluateNumberText(text), unit: null, text };
}

/** Scalars: numbers (with units, percent, degrees) first, then expressions. */
function compareScalars(p: string, g: string, opts: EquivalenceOptions): Verdict {
  const dp = splitDecorations(p);
  const dg = splitDecorations(g);
  const qp = readQuantity(dp.body, opts.looseUnits ?? false);
  const qg = readQuantity(dg.body, opts.looseUnits ?? false);
  if (qp.unit && qg.unit) {
    if (!sameDimensions(qp.unit, qg.unit)) return no("unit_mismatch");
    if (Number.isFinite(qp.value) && Number.isFinite(qg.value)) {
      const a = toSI(qp.value, qp.unit);
      const b = toSI(qg.value, qg.unit);
      return closeRule(opts)(a, b) || a === b ? yes("numeric (units converted)") : no("numeric_mismatch");
    }
  }
  if (Number.isFinite(qp.value) && Number.isFinite(qg.value)) {
    return numbersMatch(qp.value, dp, qg.value, dg, closeRule(opts))
      ? yes("numeric")
      : no("numeric_mismatch");
  }
  if (qp.value === qg.value && Number.isNaN(qp.value) === false) return yes("numeric (infinite)");
  return compareSymbolic(plainToLatex(qp.text), plainToLatex(qg.text), opts.tol);
}

/** Expressions: canonical forms, then random points, then expand. */
function compareSymbolic(p: string, g: string, tol: number): Verdict {
  const tooComplex = complexityReason(p) ?? complexityReason(g);
  if (tooComplex) return no(tooComplex);
  const a = parseLatex(p);
  const b = parseLatex(g);
  if (a === null || b === null) return no(a === null ? "unparseable_prediction" : "unparseable_gold");
  if (jsonKey(a) === jsonKey(b)) return yes("symbolic (same canonical form)");
  const verdict = compareAtRandomPoints(a, b, tol);
  if (verdict === "equal") return yes("symbolic (equal at random points)");
  if (verdict === "different") return no("symbolic_mismatch");
  return expandsToZero(a, b) ? yes("symbolic (expand(a - b) = 0)") : no("undecided");
}

/** Equations up to a non-zero factor; inequalities up to a positive one, or as intervals. */
function compareRelations(p: string, g: string, opts: EquivalenceOptions, depth: number): Verdict {
  const rp = parseRelation(p);
  const rg = parseRelation(g);
  if (!rp || !rg) {
    // One side an inequality, the other an interval: `x > 1` vs `(1, \infty)`.
    const rel = rp ?? rg;
    const asInterval = rel ? inequalityToInterval(rel) : null;
    if (!asInterval) return no("relation_vs_value");
    return rp
      ? compareAnswers(asInterval.interval, g, opts, depth + 1)
      : compareAnswers(p, asInterval.interval, opts, depth + 1);
  }
  const op = orientRelation(rp);
  const og = orientRelation(rg);
  const ip = inequalityToInterval(op);
  const ig = inequalityToInterval(og);
  if (ip && ig) {
    if (ip.variable !== ig.variable) return no("different_variable");
    return compareAnswers(ip.interval, ig.interval, opts, depth + 1);
  }
  if (op.ops.length !== 1 || og.ops.length !== 1) return no("relation_mismatch");
  const kind = (o: string): string => (o === "=" || o === "!=" ? o : "ineq");
  if (kind(op.ops[0]!) !== kind(og.ops[0]!) || (op.ops[0] === "<") !== (og.ops[0] === "<")) {
    return no("relation_mismatch");
  }
  const side = (r: { terms: string[] }): MathJson | null =>
    parseLatex(plainToLatex(`(${r.terms[1]})-(${r.terms[0]})`));
  const fp = side(op);
  const fg = side(og);
  if (!fp || !fg) return no("unparseable_relation");
  const equation = op.ops[0] === "=" || op.ops[0] === "!=";
  // Equations: f_p = k·f_g for some k ≠ 0. Inequalities (both as 0 < f): k must be positive.
  if (compareAtRandomPoints(fp, fg, opts.tol, "ratio") !== "equal") return no("relation_mismatch");
  if (equation) return yes("equation (same up to a factor)");
  // The factor is constant, so its sign is the sign of f_p / f_g at any point where both exist.
  return signAgreement(fp, fg)
    ? yes("inequality (same up to a positive factor)")
    : no("inequality_direction");
}

/** Whether two expressions have the same sign at a few fixed points (used after a ratio test passed). */
function signAgreement(a: MathJson, b: MathJson): boolean {
  const vars = [...new Set([...freeVariables(a), ...freeVariables(b)])];
  for (const x of [0.37, 1.41, 2.23, -0.77, 3.9]) {
    const env = new Map(vars.map((v, i) => [v, x + 0.13 * i]));
    const va = evaluateReal(a, env);
    const vb = evaluateReal(b, env);
    if (Number.isFinite(va) && Number.isFinite(vb) && Math.abs(vb) > 1e-9) return va / vb > 0;
  }
  return false;
}

/** Element-wise comparison of two compound answers. */
function compareStructures(sp: Structure, sg: Structure, opts: EquivalenceOptions, depth: number): Verdict {
  const eq = (a: string, b: string): boolean => compareAnswers(a, b, opts, depth + 1).equal;
  if (sp.kind === "matrix" || sg.kind === "matrix") {
    const rows = (s: Structure): string[][] | null =>
      s.kind === "matrix"
        ? s.rows
        : s.kind === "seq" && s.items.every((it) => detectStructure(it)?.kind === "seq")
          ? s.items.map((it) => (detectStructure(it) as { items: string[] }).items)
          : null;
    const a = rows(sp);
    const b = rows(sg);
    if (!a || !b) return no("structure_mismatch");
    if ((sp.kind === "matrix" ? sp.env : "matrix") !== (sg.kind === "matrix" ? sg.env : "matrix")) {
      return no("structure_mismatch");
    }
    if (a.length !== b.length || a.some((row, i) => row.length !== b[i]!.length)) return no("shape_mismatch");
    return a.every((row, i) => row.every((cell, j) => eq(cell, b[i]![j]!)))
      ? yes("matrix")
      : no("matrix_mismatch");
  }
  if (sp.kind === "seq" && sg.kind === "seq") {
    if (sp.open !== sg.open || sp.close !== sg.close) return no("bracket_mismatch");
    if (sp.items.length !== sg.items.length) return no("length_mismatch");
    return sp.items.every((it, i) => eq(it, sg.items[i]!)) ? yes("tuple/interval") : no("element_mismatch");
  }
  return compareCollections(sp, sg, eq) ?? no("structure_mismatch");
}

/** A unit written after a bracketed list applies to each element: `(3, 4) m/s` → `(3 m/s,4 m/s)`. */
function distributeUnit(s: string): string {
  if (!/^(?:\(|\[|\\\{|\\langle)/.test(s)) return s;
  const q = splitQuantity(s);
  if (!q.unit) return s;
  const st = detectStructure(q.valueText);
  if (!st || (st.kind !== "seq" && st.kind !== "set")) return s;
  const items = st.items.map((item) => `${item} ${q.unitText}`).join(",");
  return st.kind === "seq" ? `${st.open}${items}${st.close}` : `\\{${items}\\}`;
}

/** What the forms call back into, one level deeper. */
function formContext(opts: EquivalenceOptions, depth: number): FormContext {
  return {
    compare: (a, b) => compareAnswers(a, b, opts, depth + 1),
    evaluate: (text) => {
      const d = splitDecorations(text);
      const v = evaluateNumberText(d.body);
      return d.percent ? v / 100 : v;
    },
    tol: opts.tol,
  };
}

/** Compare two normalised answers (recursive for compound answers). */
function compareAnswers(p: string, g: string, opts: EquivalenceOptions, depth: number): Verdict {
  if (p === g) return yes("exact");
  if (p.replace(/\s+/g, "") === g.replace(/\s+/g, "")) return yes("exact (spacing)");
  if (depth > MAX_DEPTH) return no("too_deep");
  const np = parsePlainNumber(p);
  const ng = parsePlainNumber(g);
  if (np && ng) {
    const raw = (n: typeof np): number => (n.percent ? n.value * 100 : n.value);
    return numbersMatch(raw(np), splitDecorations(p), raw(ng), splitDecorations(g), closeRule(opts))
      ? yes("numeric")
      : no("numeric_mismatch");
  }
  const up = distributeUnit(p);
  const ug = distributeUnit(g);
  if (up !== p || ug !== g) return compareAnswers(up, ug, opts, depth + 1);
  // Two relations the same up to a factor (`y = 2x+1` vs `2x - y + 1 = 0`) before any form strips a label.
  if (parseRelation(p) && parseRelation(g)) {
    const both = compareRelations(p, g, opts, depth);
    if (both.equal) return both;
  }
  const ctx = formContext(opts, depth);
  for (const form of FORMS) {
    const verdict = form(p, g, ctx);
    if (verdict) return verdict;
  }
  const sp = detectStructure(p);
  const sg = detectStructure(g);
  if (sp && sg) return compareStructures(sp, sg, opts, depth);
  // A one-element set is its element (`\{2\}` vs `x = 2`).
  if (sp?.kind === "set" && sp.items.length === 1 && !sg)
    return compareAnswers(sp.items[0]!, g, opts, depth + 1);
  if (sg?.kind === "set" && sg.items.length === 1 && !sp)
    return compareAnswers(p, sg.items[0]!, opts, depth + 1);
  const pp = stripVariablePrefix(p);
  const gg = stripVariablePrefix(g);
  const relP = parseRelation(pp) !== null;
  const relG = parseRelation(gg) !== null;
  if (relP || relG) {
    if (relP && relG) return compareRelations(p, g, opts, depth);
    if ((relP ? sg : sp)?.kind === "seq") return compareRelations(relP ? pp : p, relG ? gg : g, opts, depth);
    return no("relation_vs_value");
  }
  if (pp !== p || gg !== g) {
    const sp2 = detectStructure(pp);
    const sg2 = detectStructure(gg);
    if (sp2 || sg2) return sp2 && sg2 ? compareStructures(sp2, sg2, opts, depth) : no("structure_mismatch");
  }
  if (sp || sg) return no("structure_mismatch");
  return compareScalars(pp, gg, opts);
}

/**
 * Compare a predicted answer with the gold answer (both raw: plain text or LaTeX). Never throws.
 * @example answersEquivalent("\\dfrac{3}{2}", "1.5", { tol: 1e-6 }) // { equal: true, reason: "numeric" }
 */
export function answersEquivalent(pred: string, gold: string, opts: EquivalenceOptions): Verdict {
  try {
    const p = normalizeLatex(pred);
    const g = normalizeLatex(gold);
    if (p.length === 0) return no("empty_prediction");
    if (g.length === 0) return no("empty_gold");
    return compareAnswers(p, g, opts, 0);
  } catch (err) {
    return no(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Whether a text is a unit expression on its own (`m/s`, `kg`), for callers that validate gold labels. */
export function isUnitText(text: string): boolean {
  return parseUnit(text) !== null;
}
