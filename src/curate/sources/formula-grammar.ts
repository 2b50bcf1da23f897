/**
 * A small grammar of LaTeX formulas for handwritten/printed math expression recognition (HMER) pairs: atoms with
 * sub- and superscripts, fractions, roots, sums, products, integrals, limits, functions, bracketed groups and
 * matrices. Pure: the same RNG state gives the same formula.
 */
import type { Rng } from "../../util/rng.ts";

const LETTERS = ["a", "b", "c", "k", "n", "m", "x", "y", "z", "t", "u", "v", "p", "q", "r", "f", "g"];
const GREEK = [
  "\\alpha",
  "\\beta",
  "\\gamma",
  "\\theta",
  "\\lambda",
  "\\mu",
  "\\pi",
  "\\sigma",
  "\\phi",
  "\\omega",
];
const CAPITALS = ["A", "B", "F", "N", "P", "X", "\\Delta", "\\Omega"];
const FUNCTIONS = ["\\sin", "\\cos", "\\tan", "\\log", "\\ln", "\\exp"];
const RELATIONS = ["=", "<", ">", "\\leq", "\\geq", "\\neq", "\\approx"];
const OPERATORS = ["+", "-", "\\cdot", "\\times", "\\pm"];
const INDICES = ["i", "j", "k", "n"];

/** The kinds of formula the grammar makes; each is a top-level shape. */
export const FORMULA_KINDS = [
  "expression",
  "fraction",
  "sum",
  "integral",
  "matrix",
  "equation",
  "limit",
] as const;
export type FormulaKind = (typeof FORMULA_KINDS)[number];

function atom(rng: Rng): string {
  const r = rng.float();
  if (r < 0.35) return rng.pick(LETTERS);
  if (r < 0.55) return String(rng.int(0, 99));
  if (r < 0.75) return rng.pick(GREEK);
  if (r < 0.85) return rng.pick(CAPITALS);
  return `${rng.int(2, 9)}${rng.pick(LETTERS)}`;
}

/** An atom with an optional subscript and/or superscript. */
function scripted(rng: Rng): string {
  const base = atom(rng);
  const sub = rng.float() < 0.3 ? `_{${rng.float() < 0.5 ? rng.pick(INDICES) : rng.int(0, 9)}}` : "";
  const sup = rng.float() < 0.3 ? `^{${rng.float() < 0.6 ? rng.int(2, 4) : rng.pick(LETTERS)}}` : "";
  return `${base}${sub}${sup}`;
}

/** A term: a scripted atom, a function application, a root, a fraction or a bracketed group, by depth. */
function term(rng: Rng, depth: number): string {
  const r = rng.float();
  if (depth <= 0 || r < 0.4) return scripted(rng);
  if (r < 0.55) return `${rng.pick(FUNCTIONS)}\\left(${expression(rng, depth - 1)}\\right)`;
  if (r < 0.68)
    return rng.float() < 0.7 ? `\\sqrt{${expression(rng, depth - 1)}}` : `\\sqrt[3]{${scripted(rng)}}`;
  if (r < 0.85) return `\\frac{${expression(rng, depth - 1)}}{${expression(rng, depth - 1)}}`;
  return `\\left(${expression(rng, depth - 1)}\\right)^{${rng.int(2, 3)}}`;
}

/** One to three terms joined by binary operators. */
function expression(rng: Rng, depth: number): string {
  const n = rng.int(1, 3);
  let out = term(rng, depth);
  for (let i = 1; i < n; i++) out += ` ${rng.pick(OPERATORS)} ${term(rng, depth)}`;
  return out;
}

function matrix(rng: Rng): string {
  const rows = rng.int(2, 3);
  const cols = rng.int(2, 3);
  const env = rng.pick(["pmatrix", "bmatrix", "vmatrix"]);
  const body = Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => (rng.float() < 0.6 ? String(rng.int(-9, 9)) : scripted(rng))).join(
      " & ",
    ),
  ).join(" \\\\ ");
  return `\\begin{${env}} ${body} \\end{${env}}`;
}

/**
 * One formula of `kind` (or a kind drawn by the RNG).
 * @example generateFormula(createRng(1), "fraction") // "\\frac{x_{i} + 3}{\\sqrt{y}}"
 */
export function generateFormula(rng: Rng, kind: FormulaKind = rng.pick(FORMULA_KINDS)): string {
  const depth = rng.int(1, 2);
  switch (kind) {
    case "expression":
      return expression(rng, depth);
    case "fraction":
      return `\\frac{${expression(rng, depth)}}{${expression(rng, depth - 1)}}`;
    case "sum": {
      const i = rng.pick(INDICES);
      const op = rng.pick(["\\sum", "\\prod"]);
      return `${op}_{${i}=${rng.int(0, 1)}}^{${rng.pick(["n", "N", "\\infty", String(rng.int(5, 20))])}} ${expression(rng, depth - 1)}`;
    }
    case "integral": {
      const v = rng.pick(["x", "t", "u"]);
      const bounds =
        rng.float() < 0.7 ? `_{${rng.int(-1, 1)}}^{${rng.pick(["1", "\\infty", "\\pi", "b"])}}` : "";
      return `\\int${bounds} ${expression(rng, depth - 1)} \\, d${v}`;
    }
    case "matrix":
      return rng.float() < 0.5 ? matrix(rng) : `${scripted(rng)} = ${matrix(rng)}`;
    case "equation":
      return `${expression(rng, depth)} ${rng.pick(RELATIONS)} ${expression(rng, depth - 1)}`;
    case "limit":
      return `\\lim_{${rng.pick(["x", "n"])} \\to ${rng.pick(["0", "\\infty", "1"])}} ${term(rng, depth)}`;
  }
}
