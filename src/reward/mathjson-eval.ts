/**
 * A small real-valued evaluator for canonical MathJSON, on doubles. It knows a fixed list of functions and
 * returns NaN for anything else (complex values, unknown heads, sums longer than 10,000 terms), so an answer
 * can never make it loop or allocate: every node costs O(1) except bounded sums, products and integrals.
 */
import type { MathJson } from "./symbolic.ts";

type Env = ReadonlyMap<string, number>;

const SYMBOLS: Record<string, number> = {
  Pi: Math.PI,
  ExponentialE: Math.E,
  PositiveInfinity: Number.POSITIVE_INFINITY,
  NegativeInfinity: Number.NEGATIVE_INFINITY,
  Half: 0.5,
};

/** Most terms a `\sum` / `\prod` may have before it is refused (NaN). */
const MAX_TERMS = 10_000;
/** Simpson panels for a definite integral with finite bounds. */
const INTEGRAL_PANELS = 400;

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) return Number.NaN;
  if (n > 170) return Number.POSITIVE_INFINITY;
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/** Real power: odd roots of negatives stay real (∛−8 = −2), other non-integer powers of negatives are NaN. */
function realPower(base: number, exp: number): number {
  if (base < 0 && !Number.isInteger(exp)) {
    const inv = 1 / exp;
    if (
      Number.isInteger(Math.round(inv)) &&
      Math.abs(inv - Math.round(inv)) < 1e-12 &&
      Math.round(inv) % 2 !== 0
    ) {
      return -((-base) ** exp);
    }
    return Number.NaN;
  }
  return base ** exp;
}

const UNARY: Record<string, (x: number) => number> = {
  Negate: (x) => -x,
  Sqrt: Math.sqrt,
  Square: (x) => x * x,
  Exp: Math.exp,
  Ln: Math.log,
  Lb: Math.log2,
  Lg: Math.log10,
  Sin: Math.sin,
  Cos: Math.cos,
  Tan: Math.tan,
  Cot: (x) => 1 / Math.tan(x),
  Sec: (x) => 1 / Math.cos(x),
  Csc: (x) => 1 / Math.sin(x),
  Arcsin: Math.asin,
  Arccos: Math.acos,
  Arctan: Math.atan,
  Sinh: Math.sinh,
  Cosh: Math.cosh,
  Tanh: Math.tanh,
  Abs: Math.abs,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Factorial: factorial,
  Degrees: (x) => (x * Math.PI) / 180,
};

/** The bound variable and bounds of a `["Limits", v, lo, hi]` node, evaluated. */
function limitsOf(node: MathJson | undefined, env: Env): { v: string; lo: number; hi: number } | null {
  if (!Array.isArray(node) || node[0] !== "Limits" || typeof node[1] !== "string") return null;
  const lo = evaluateReal(node[2] ?? Number.NaN, env);
  const hi = evaluateReal(node[3] ?? Number.NaN, env);
  return Number.isFinite(lo) && Number.isFinite(hi) ? { v: node[1], lo, hi } : null;
}

/** `\sum` / `\prod` over integer bounds with at most 10,000 terms; NaN otherwise. */
function sumOrProduct(node: MathJson[], env: Env, product: boolean): number {
  const lim = limitsOf(node[2], env);
  if (!lim || !Number.isInteger(lim.lo) || !Number.isInteger(lim.hi) || lim.hi - lim.lo > MAX_TERMS) {
    return Number.NaN;
  }
  const inner = new Map(env);
  let acc = product ? 1 : 0;
  for (let i = lim.lo; i <= lim.hi; i++) {
    inner.set(lim.v, i);
    const term = evaluateReal(node[1] ?? Number.NaN, inner);
    acc = product ? acc * term : acc + term;
  }
  return acc;
}

/** Definite integral with finite bounds by composite Simpson's rule. */
function integrate(node: MathJson[], env: Env): number {
  const lim = limitsOf(node[2], env);
  if (!lim) return Number.NaN;
  const inner = new Map(env);
  const f = (x: number): number => {
    inner.set(lim.v, x);
    return evaluateReal(node[1] ?? Number.NaN, inner);
  };
  const h = (lim.hi - lim.lo) / INTEGRAL_PANELS;
  let s = f(lim.lo) + f(lim.hi);
  for (let i = 1; i < INTEGRAL_PANELS; i++) s += (i % 2 === 1 ? 4 : 2) * f(lim.lo + i * h);
  return (s * h) / 3;
}

/** A number literal: a JS number, or `{num: "…"}` for big or exact decimals (`"1e+10000000000"` → ∞). */
function numberLiteral(node: { num: string }): number {
  const text = node.num.replace(/\((\d+)\)$/, (_m, rep: string) => rep.repeat(Math.ceil(20 / rep.length)));
  if (text === "+Infinity") return Number.POSITIVE_INFINITY;
  if (text === "-Infinity") return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/**
 * Evaluate a MathJSON tree to a real double, with `env` giving values of free symbols. NaN means "not a real
 * number we can compute": unknown function, unbound symbol, complex value, refused sum.
 * @example evaluateReal(["Add", "x", 1], new Map([["x", 2]])) // 3
 */
export function evaluateReal(node: MathJson, env: Env): number {
  if (typeof node === "number") return node;
  if (typeof node === "string") {
    if (node in SYMBOLS) return SYMBOLS[node]!;
    return env.get(node) ?? env.get(JSON.stringify(node)) ?? Number.NaN;
  }
  if (!Array.isArray(node)) return "num" in node ? numberLiteral(node) : Number.NaN;
  const head = node[0];
  if (typeof head !== "string") return Number.NaN;
  const args = node.slice(1);
  const unary = UNARY[head];
  if (unary && args.length === 1) return unary(evaluateReal(args[0]!, env));
  const ev = (i: number): number => evaluateReal(args[i] ?? Number.NaN, env);
  switch (head) {
    case "Add":
      return args.reduce<number>((s, a) => s + evaluateReal(a, env), 0);
    case "Multiply":
      return args.reduce<number>((p, a) => p * evaluateReal(a, env), 1);
    case "Subtract":
      return ev(0) - ev(1);
    case "Divide":
    case "Rational":
      return ev(0) / ev(1);
    case "Power":
      return realPower(ev(0), ev(1));
    case "Root":
      return realPower(ev(0), 1 / ev(1));
    case "Log":
      return args.length === 2 ? Math.log(ev(0)) / Math.log(ev(1)) : Math.log10(ev(0));
    case "Arctan2":
      return Math.atan2(ev(0), ev(1));
    case "Binomial": {
      const [n, k] = [ev(0), ev(1)];
      return factorial(n) / (factorial(k) * factorial(n - k));
    }
    case "Complex":
      return ev(1) === 0 ? ev(0) : Number.NaN;
    case "Max":
      return Math.max(...args.map((a) => evaluateReal(a, env)));
    case "Min":
      return Math.min(...args.map((a) => evaluateReal(a, env)));
    case "Delimiter":
      return args.length === 1 ? ev(0) : Number.NaN;
    case "Sum":
      return sumOrProduct(node, env, false);
    case "Product":
      return sumOrProduct(node, env, true);
    case "Integrate":
      return integrate(node, env);
    case "OverHat":
    case "OverVector":
      return env.get(JSON.stringify(node)) ?? Number.NaN;
    default:
      return Number.NaN;
  }
}
