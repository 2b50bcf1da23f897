/**
 * Chemical notation as comparable data: formulas (`H_2O` = `H2O` = `\mathrm{H_2O}`), charges (`SO_4^{2-}` =
 * `SO4^{-2}`), state symbols (`(aq)`), hydrate dots, and reactions as two multisets of (coefficient, species)
 * whatever the arrow (`→ ⇌ = ->`).
 */
import { normalizeLatex, replaceCommand } from "./normalize.ts";

/** One species: canonical formula (with charge) and its state symbol if written. */
export type Species = { formula: string; state: string | null };

const STATE = /(?:_?\{?\s*\((s|l|g|aq)\)\s*\}?)$/;

/** `^{2-}`, `^{-2}`, `^-`, `^{+}` → `^{2-}` / `^{-}` / `^{+}`: magnitude first, 1 omitted. */
function canonicalCharges(s: string): string {
  return (
    s
      // `^{-2}` is tried first: read the other way round its "2" would be left behind.
      .replace(/\^\s*\{\s*([+-])\s*(\d+)\s*\}|\^\s*\{?\s*(\d*)\s*([+-])\s*\}?/g, (_m, s1, m1, m2, s2) => {
        const mag = (m1 ?? m2 ?? "") as string;
        const sign = (s1 ?? s2) as string;
        return `^{${mag === "1" ? "" : mag}${sign}}`;
      })
      .replace(/([A-Za-z0-9)\]])([+-])(?=\s|$)/g, "$1^{$2}")
  );
}

/** Plain spelling of a formula string: no LaTeX wrappers, subscripts as digits, one hydrate dot, no spaces. */
function plainFormula(raw: string): string {
  let s = replaceCommand(raw, "ce", (inner) => inner);
  s = normalizeLatex(s)
    .replace(/\\cdot|[•∙*]/g, "·")
    .replace(/\\(?:mathrm|text|rm)/g, "");
  s = canonicalCharges(s);
  return s.replace(/_\s*\{\s*([^{}]*)\s*\}|_\s*(\w)/g, "$1$2").replace(/\s+/g, "");
}

/**
 * One species in canonical form, state symbol split off.
 * @example parseSpecies("\\mathrm{SO_4^{2-}}(aq)") // { formula: "SO4^{2-}", state: "aq" }
 */
export function parseSpecies(raw: string): Species {
  let formula = plainFormula(raw);
  let state: string | null = null;
  const m = STATE.exec(formula);
  if (m) {
    state = m[1]!;
    formula = formula.slice(0, m.index);
  }
  return { formula, state };
}

const FORMULA = /^(?:[A-Z][a-z]?\d*|[()[\]]\d*|·\d*[A-Z]?[a-z]?\d*)+(?:\^\{\d*[+-]\})?$/;

/** Whether a canonical formula looks like a chemical formula (element symbols, digits, brackets, charge). */
export function looksLikeFormula(formula: string): boolean {
  return FORMULA.test(formula) && /[A-Z]/.test(formula);
}

const ARROW =
  /\\xrightarrow(?:\[[^\]]*\])?\{[^{}]*\}|\\(?:long)?rightarrow|\\rightleftharpoons|\\rightleftarrows|\\leftrightarrow|\\(?:long)?leftrightarrow|\\to(?![a-zA-Z])|⇌|⇄|→|⟶|↔|<=>|<->|-->|->|=/;

/** A reaction: coefficient per species on each side. */
export type Reaction = {
  left: Map<string, { coef: number; state: string | null }>;
  right: Map<string, { coef: number; state: string | null }>;
};

const COEFFICIENT = /^(\\frac\{(\d+)\}\{(\d+)\}|(\d+)\/(\d+)|\d+(?:\.\d+)?)\s*(?=[A-Z([])/;

function parseSide(text: string): Map<string, { coef: number; state: string | null }> | null {
  const out = new Map<string, { coef: number; state: string | null }>();
  const charged = canonicalCharges(normalizeLatex(replaceCommand(text, "ce", (x) => x)));
  const parts = charged.split(/\s*\+\s*(?![^{]*\})/).filter((p) => p.trim().length > 0);
  for (const part of parts) {
    const p = part.trim();
    const m = COEFFICIENT.exec(p);
    let coef = 1;
    let rest = p;
    if (m) {
      coef = m[2] ? Number(m[2]) / Number(m[3]) : m[4] ? Number(m[4]) / Number(m[5]) : Number(m[1]);
      rest = p.slice(m[0].length);
    }
    const sp = parseSpecies(rest);
    if (!looksLikeFormula(sp.formula) || !(coef > 0)) return null;
    const prev = out.get(sp.formula);
    out.set(sp.formula, { coef: (prev?.coef ?? 0) + coef, state: sp.state ?? prev?.state ?? null });
  }
  return out.size > 0 ? out : null;
}

/**
 * Read `2H_2 + O_2 \rightarrow 2H_2O` into its two sides, or null when the text is not a reaction.
 * @example parseReaction("2H2 + O2 -> 2H2O")?.right.get("H2O")?.coef // 2
 */
export function parseReaction(text: string): Reaction | null {
  const m = ARROW.exec(text);
  if (!m) return null;
  const left = parseSide(text.slice(0, m.index));
  const right = parseSide(text.slice(m.index + m[0].length));
  return left && right ? { left, right } : null;
}

/** Whether a text contains a reaction arrow. */
export function hasArrow(text: string): boolean {
  return /\\xrightarrow|\\(?:long)?rightarrow|\\rightleftharpoons|\\to(?![a-zA-Z])|⇌|⇄|→|⟶|↔|->/.test(text);
}

/**
 * Compare reactions: the same species on each side (order-free), states equal where both are written, and
 * coefficients proportional by one positive factor (`H2 + 1/2 O2 → H2O` = `2H2 + O2 → 2H2O`).
 */
export function compareReactions(p: Reaction, g: Reaction, tol = 1e-9): { equal: boolean; reason: string } {
  let k: number | undefined;
  for (const side of ["left", "right"] as const) {
    const a = p[side];
    const b = g[side];
    if (a.size !== b.size) return { equal: false, reason: "species_mismatch" };
    for (const [formula, gv] of b) {
      const pv = a.get(formula);
      if (!pv) return { equal: false, reason: "species_mismatch" };
      if (pv.state && gv.state && pv.state !== gv.state) return { equal: false, reason: "state_mismatch" };
      const r = pv.coef / gv.coef;
      k ??= r;
      if (Math.abs(r - k) > tol * Math.max(1, Math.abs(k)))
        return { equal: false, reason: "coefficient_mismatch" };
    }
  }
  return { equal: true, reason: "reaction" };
}
