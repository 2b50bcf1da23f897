/**
 * The computer-algebra edge of the math verifiers: `@cortex-js/compute-engine` parses LaTeX into canonical
 * MathJSON (and expands polynomials on request); everything numeric is done here, on plain doubles, by a small
 * evaluator that knows a fixed list of functions. The engine's own `.N()` is never called on an answer: it
 * iterates `\sum_{n=1}^{10^8}` term by term and would hang a verifier.
 */
import { ComputeEngine } from "@cortex-js/compute-engine";
import { mulberry32 } from "../util/rng.ts";
import { evaluateReal } from "./mathjson-eval.ts";

/** A MathJSON expression as the engine prints it (`.json`). */
export type MathJson = number | string | { num: string } | { str: string } | { sym: string } | MathJson[];

let engine: ComputeEngine | undefined;

/** The one engine of this process, created on first use (construction costs ~100 ms). */
function getEngine(): ComputeEngine {
  engine ??= new ComputeEngine();
  return engine;
}

/** Longest answer the engine may see; longer content is `too_complex` (a box is short by construction). */
export const MAX_CAS_CHARS = 500;

/**
 * Why a LaTeX string must not reach the engine, or null when it may. Guards the inputs that make a CAS hang
 * or allocate without bound: very long content, exponents of 5+ digits, power towers with an exponent over
 * 1000, factorials over 1000, and sums/products/integrals/limits whose bounds are not small numbers.
 * @example complexityReason("10^{10^{10}}") // "too_complex: power tower"
 */
export function complexityReason(latex: string): string | null {
  if (latex.length > MAX_CAS_CHARS) return "too_complex: longer than 500 characters";
  if (/\^\s*\{?\s*[+-]?\d{5,}/.test(latex)) return "too_complex: exponent with 5+ digits";
  if (/\^\s*\{[^{}]*\^/.test(latex) || /\^\s*\{?\s*[\d.]+\s*\}?\s*\^/.test(latex)) {
    const numbers = latex.match(/\d+(?:\.\d+)?/g) ?? [];
    if (numbers.some((n) => Number(n) > 1000)) return "too_complex: power tower";
    // Inside a tower, a numeric power over 1000 (10^{10} in 10^{10^{10}}) is an exponent over 1000.
    for (const m of latex.matchAll(/(\d+(?:\.\d+)?)\s*\^\s*\{?\s*(\d+(?:\.\d+)?)/g)) {
      if (Number(m[2]) * Math.log10(Math.max(Number(m[1]), 1)) > 3) return "too_complex: power tower";
    }
    if ((latex.match(/\^/g) ?? []).length > 4) return "too_complex: power tower";
  }
  for (const m of latex.matchAll(/(\d+(?:\.\d+)?)\s*\}?\s*!/g)) {
    if (Number(m[1]) > 1000) return "too_complex: factorial over 1000";
  }
  if (/\\(?:sum|prod|int|iint|lim|oint)(?![a-zA-Z])/.test(latex)) {
    const bounds = [...latex.matchAll(/[_^]\s*\{([^{}]*)\}|[_^]\s*([^\s{\\])/g)].map(
      (m) => m[1] ?? m[2] ?? "",
    );
    for (const b of bounds) {
      if (/\^|\\infty|\\cdot|\\times|e[+-]?\d/.test(b)) return "too_complex: unbounded sum or integral";
      for (const n of b.match(/\d+(?:\.\d+)?/g) ?? []) {
        if (Number(n) > 10000) return "too_complex: sum or integral bound over 10000";
      }
    }
  }
  return null;
}

const PARSE_CACHE = new Map<string, MathJson | null>();
const PARSE_CACHE_LIMIT = 2000;

/** True when a MathJSON tree holds a parse error node anywhere. */
function hasError(json: MathJson): boolean {
  if (!Array.isArray(json)) return false;
  if (json[0] === "Error") return true;
  return json.some((part) => hasError(part));
}

/**
 * Parse LaTeX into canonical MathJSON (cached; the engine's parse is safe for capped input). Returns null when
 * the engine reports an error or the input is over the caps: call `complexityReason` first to tell them apart.
 * @example parseLatex("\\frac{3}{2}") // ["Rational", 3, 2]
 */
export function parseLatex(latex: string): MathJson | null {
  const cached = PARSE_CACHE.get(latex);
  if (cached !== undefined) return cached;
  let json: MathJson | null = null;
  if (complexityReason(latex) === null) {
    try {
      const expr = getEngine().parse(latex);
      const out = expr.json as MathJson;
      json = expr.isValid && !hasError(out) ? out : null;
    } catch {
      json = null;
    }
  }
  if (PARSE_CACHE.size >= PARSE_CACHE_LIMIT) PARSE_CACHE.clear();
  PARSE_CACHE.set(latex, json);
  return json;
}

/** Canonical text of a MathJSON tree: two trees are structurally identical iff their keys are equal. */
export function jsonKey(json: MathJson): string {
  return JSON.stringify(json);
}

/** Symbols that are constants, not free variables. */
const CONSTANTS = new Set([
  "Pi",
  "ExponentialE",
  "PositiveInfinity",
  "NegativeInfinity",
  "ComplexInfinity",
  "ImaginaryUnit",
  "Nothing",
  "True",
  "False",
  "Half",
]);

/** Heads whose first argument is a bound variable or a decoration, not a free symbol. */
const DECORATIONS = new Set(["OverHat", "OverVector", "OverBar", "Subscript", "Prime"]);

/**
 * The free variables of a MathJSON tree, sorted. Decorated symbols (`\hat{i}`, `\vec{v}`) count as one
 * variable named by their JSON, so unit vectors compare like any other symbol.
 */
export function freeVariables(json: MathJson): string[] {
  const out = new Set<string>();
  const bound = new Set<string>();
  const walk = (node: MathJson): void => {
    if (typeof node === "string") {
      if (!node.startsWith("'") && !CONSTANTS.has(node) && !bound.has(node)) out.add(node);
      return;
    }
    if (!Array.isArray(node)) return;
    const head = node[0];
    if (typeof head === "string" && DECORATIONS.has(head)) {
      out.add(jsonKey(node));
      return;
    }
    if (head === "Limits" && typeof node[1] === "string") bound.add(node[1]);
    for (const part of node.slice(1)) if (Array.isArray(part) && part[0] === "Limits") walk(part);
    for (const part of node.slice(1)) if (!(Array.isArray(part) && part[0] === "Limits")) walk(part);
    if (head === "Limits") return;
  };
  walk(json);
  return [...out].sort();
}

/** The verdict of sampling two expressions: equal, different, or undecided (too few points where both exist). */
export type SampleVerdict = "equal" | "different" | "undecided";

const SAMPLE_POINTS = 8;

/**
 * Compare two expressions at seeded random points of their free variables (in [0.3, 2.8] so that roots and
 * logs of positive quantities exist). `ratio` instead asks whether `a = k·b` for one non-zero constant k (used
 * for equations moved to one side). Values are compared with the relative rule, gold (b) second.
 */
export function compareAtRandomPoints(
  a: MathJson,
  b: MathJson,
  tol: number,
  mode: "equal" | "ratio" = "equal",
): SampleVerdict {
  const vars = [...new Set([...freeVariables(a), ...freeVariables(b)])];
  const random = mulberry32(0x9e3779b9);
  let valid = 0;
  let k: number | undefined;
  // Point comparisons get a floor: cancellation in a − b at a random point costs a few ulps of the terms.
  const pointTol = Math.max(tol, 1e-9);
  for (let i = 0; i < SAMPLE_POINTS * 3 && valid < SAMPLE_POINTS; i++) {
    const env = new Map<string, number>(vars.map((v) => [v, 0.3 + 2.5 * random()]));
    const va = evaluateReal(a, env);
    const vb = evaluateReal(b, env);
    if (!Number.isFinite(va) || !Number.isFinite(vb)) {
      if (Number.isFinite(va) !== Number.isFinite(vb) && !Number.isNaN(va) && !Number.isNaN(vb))
        return "different";
      continue;
    }
    valid++;
    if (mode === "equal") {
      if (Math.abs(va - vb) / (Math.abs(vb) + 1e-6) >= pointTol) return "different";
      continue;
    }
    // ratio mode: both zero at a point says nothing about k; one zero alone means no constant k works.
    if (Math.abs(vb) < 1e-12 || Math.abs(va) < 1e-12) {
      if (Math.abs(vb) < 1e-12 && Math.abs(va) < 1e-12) continue;
      return "different";
    }
    const r = va / vb;
    if (k === undefined) k = r;
    else if (Math.abs(r - k) / (Math.abs(k) + 1e-12) >= pointTol) return "different";
  }
  if (mode === "ratio" && k === undefined) return "undecided";
  return valid >= 3 ? "equal" : "undecided";
}

const POLYNOMIAL_HEADS = new Set([
  "Add",
  "Multiply",
  "Subtract",
  "Negate",
  "Divide",
  "Rational",
  "Power",
  "Sqrt",
  "Square",
]);

/** Only arithmetic and powers: the engine's `Expand` of a sum or integral would evaluate it term by term. */
function isPolynomialLike(json: MathJson): boolean {
  if (!Array.isArray(json)) return true;
  return (
    typeof json[0] === "string" && POLYNOMIAL_HEADS.has(json[0]) && json.slice(1).every(isPolynomialLike)
  );
}

/** Largest integer exponent we let the engine expand symbolically (bigger ones grow without bound). */
const MAX_EXPAND_EXPONENT = 12;

/**
 * The symbolic check: does expand(a − b) reduce to 0? Only run on small polynomial-size inputs (exponents up
 * to 12); returns false when it cannot tell. Costs tens of milliseconds, so callers try sampling first.
 */
export function expandsToZero(a: MathJson, b: MathJson): boolean {
  const text = jsonKey(a) + jsonKey(b);
  if (text.length > 400 || !isPolynomialLike(a) || !isPolynomialLike(b)) return false;
  for (const m of text.matchAll(/"Power",[^\]]*?,(-?\d+(?:\.\d+)?)\]/g)) {
    if (Math.abs(Number(m[1])) > MAX_EXPAND_EXPONENT) return false;
  }
  try {
    const ce = getEngine();
    // biome-ignore lint/suspicious/noExplicitAny: MathJSON input is checked by the engine itself.
    const diff = ce.box(["Expand", ["Subtract", a, b]] as any).evaluate();
    return diff.is(0) === true;
  } catch {
    return false;
  }
}
