/**
 * Matrices however typeset: `pmatrix`, `bmatrix`, `Bmatrix`, `matrix`, `smallmatrix`, and `array` with a column
 * spec (`{cc}`, `{c|c}`, `{*{3}{r}}`) inside `\left( … \right)` or `\left[ … \right]`, with `\hline`, row
 * spacing `\\[2pt]` and a trailing `\\` ignored; a nested list `[[1,2],[3,4]]` is the same matrix row by row.
 * The delimiters do not change the matrix: `pmatrix` equals `bmatrix`. Shapes must match, then every entry by the
 * scalar rules (through `ctx.compare`, so `\frac12` matches `0.5` under the item's precision).
 * A `vmatrix` (or an array between bars, or `\det` of a matrix) is a determinant: a number, not a matrix. It
 * equals a number or expression of the same value (`\begin{vmatrix}1&2\\3&4\end{vmatrix}` = `-2`), and never a
 * matrix. `Vmatrix` is a norm and is left to the other rules.
 */
import { splitTopLevel } from "../structures.ts";
import { type FormComparer, type FormContext, no, type Verdict, yes } from "./form.ts";

/** A matrix (entries row by row) or the determinant of one; `explicit` is false for a nested list. */
export type MatrixValue = { kind: "matrix" | "determinant"; rows: string[][]; explicit: boolean };

const ENV = /^\\begin\{(pmatrix|bmatrix|Bmatrix|vmatrix|Vmatrix|matrix|smallmatrix|array)\}/;
/** The largest determinant expanded by hand (4! = 24 terms). */
const MAX_DETERMINANT = 4;

/** Index just past the `{…}` group starting at `at` (balanced braces), or -1. */
function skipGroup(s: string, at: number): number {
  if (s[at] !== "{") return -1;
  let depth = 0;
  for (let i = at; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === "{") depth++;
    else if (s[i] === "}" && --depth === 0) return i + 1;
  }
  return -1;
}

/** The rows of an environment body: split at `\\` (with an optional `[2pt]`), then at `&`; rules dropped. */
function readRows(body: string): string[][] | null {
  const cleaned = body.replace(
    /\\(?:hline|hdashline|midrule|toprule|bottomrule)(?![a-zA-Z])|\\cline\s*\{[^{}]*\}/g,
    " ",
  );
  const rows = splitTopLevel(cleaned, /\\\\(?:\s*\[[^\]]*\])?/)
    .map((row) => row.trim())
    .filter((row) => row.length > 0)
    .map((row) => splitTopLevel(row, /&/).map((cell) => cell.trim()));
  if (rows.length === 0 || rows.some((row) => row.some((cell) => cell.length === 0))) return null;
  return rows;
}

/** `\begin{env}{spec}…\end{env}` filling the whole text: the environment name and its rows. */
function readEnvironment(text: string): { env: string; rows: string[][] } | null {
  const m = ENV.exec(text);
  if (!m) return null;
  const env = m[1]!;
  const end = `\\end{${env}}`;
  if (!text.endsWith(end)) return null;
  let start = m[0].length;
  if (env === "array") {
    while (text[start] === " ") start++;
    start = skipGroup(text, start);
    if (start < 0) return null;
  }
  const body = text.slice(start, text.length - end.length);
  if (body.includes(`\\begin{${env}}`)) return null;
  const rows = readRows(body);
  return rows ? { env, rows } : null;
}

/** `[[1,2],[3,4]]` / `((1,2),(3,4))`: rows of equal length. */
function readNestedList(text: string): string[][] | null {
  const open = text[0];
  if ((open !== "[" && open !== "(") || text[text.length - 1] !== (open === "[" ? "]" : ")")) return null;
  const items = splitTopLevel(text.slice(1, -1), /,/);
  const rows: string[][] = [];
  for (const item of items) {
    const t = item.trim();
    if (t[0] !== open || t[t.length - 1] !== text[text.length - 1]) return null;
    rows.push(splitTopLevel(t.slice(1, -1), /,/).map((c) => c.trim()));
  }
  if (rows.length < 2 || rows.some((r) => r.length !== rows[0]!.length || r.some((c) => c.length === 0)))
    return null;
  return rows;
}

/**
 * Read an answer as a matrix or a determinant, or null.
 * @example parseMatrix("(\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array})") // { kind: "matrix", rows: [["1","2"],["3","4"]], explicit: true }
 */
export function parseMatrix(text: string): MatrixValue | null {
  let t = text.trim();
  if (t.length === 0 || t.length > 2000) return null;
  let determinant = false;
  const det = /^\\det\s*/.exec(t);
  if (det) {
    determinant = true;
    t = t.slice(det[0].length);
  }
  // Delimiters around an environment (what `\left( … \right)` leaves after normalisation).
  const wrapped =
    /^(\(|\[|\||\\vert|\\lvert|\\\{)\s*(\\begin\{[\s\S]*\\end\{\w+\})\s*(\)|\]|\||\\vert|\\rvert|\\\})$/.exec(
      t,
    );
  if (wrapped) {
    const bars = (s: string) => s === "|" || s === "\\vert" || s === "\\lvert" || s === "\\rvert";
    if (bars(wrapped[1]!) !== bars(wrapped[3]!)) return null;
    if (bars(wrapped[1]!)) determinant = true;
    t = wrapped[2]!;
  }
  const env = readEnvironment(t);
  if (env) {
    if (env.env === "Vmatrix") return null;
    if (env.env === "vmatrix") determinant = true;
    return { kind: determinant ? "determinant" : "matrix", rows: env.rows, explicit: true };
  }
  if (determinant || wrapped) return null;
  const nested = readNestedList(t);
  return nested ? { kind: "matrix", rows: nested, explicit: false } : null;
}

/** The determinant of a square matrix as an expression (Leibniz formula), or null past 4×4. */
export function determinantText(rows: string[][]): string | null {
  const n = rows.length;
  if (n === 0 || n > MAX_DETERMINANT || rows.some((r) => r.length !== n)) return null;
  if (n === 1) return `(${rows[0]![0]})`;
  const terms: string[] = [];
  const permute = (prefix: number[], rest: number[]): void => {
    if (rest.length === 0) {
      let inversions = 0;
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (prefix[i]! > prefix[j]!) inversions++;
      const product = prefix.map((col, row) => `(${rows[row]![col]})`).join("\\cdot ");
      terms.push(`${inversions % 2 === 0 ? "+" : "-"}${product}`);
      return;
    }
    for (const c of rest)
      permute(
        [...prefix, c],
        rest.filter((x) => x !== c),
      );
  };
  permute([], [...Array(n).keys()]);
  return terms.join("").replace(/^\+/, "");
}

/** The determinant's numeric value when every entry has one (Gaussian elimination), else NaN. */
function determinantValue(rows: string[][], ctx: FormContext): number {
  const n = rows.length;
  if (rows.some((r) => r.length !== n)) return Number.NaN;
  const m = rows.map((r) => r.map((cell) => ctx.evaluate(cell)));
  if (m.some((r) => r.some((v) => !Number.isFinite(v)))) return Number.NaN;
  let det = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (m[pivot]![col] === 0) return 0;
    if (pivot !== col) {
      [m[pivot], m[col]] = [m[col]!, m[pivot]!];
      det = -det;
    }
    det *= m[col]![col]!;
    for (let r = col + 1; r < n; r++) {
      const f = m[r]![col]! / m[col]![col]!;
      for (let c = col; c < n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  return det;
}

/** A determinant against a scalar answer: its value when numeric, its expansion when symbolic. */
function compareDeterminant(
  rows: string[][],
  other: string,
  predIsDeterminant: boolean,
  ctx: FormContext,
): Verdict {
  if (rows.some((r) => r.length !== rows.length)) return no("determinant_not_square");
  const value = determinantValue(rows, ctx);
  const text = Number.isFinite(value) ? String(Number(value.toPrecision(15))) : determinantText(rows);
  if (text === null) return no("determinant_too_large");
  const verdict = predIsDeterminant ? ctx.compare(text, other) : ctx.compare(other, text);
  return verdict.equal ? yes("determinant") : no("determinant_mismatch");
}

/** Two matrices: the same shape, then every entry by the scalar rules. */
function compareEntries(p: string[][], g: string[][], ctx: FormContext): Verdict {
  if (p.length !== g.length || p.some((row, i) => row.length !== g[i]!.length)) return no("shape_mismatch");
  for (let i = 0; i < p.length; i++) {
    for (let j = 0; j < p[i]!.length; j++) {
      if (!ctx.compare(p[i]![j]!, g[i]![j]!).equal) return no("matrix_mismatch");
    }
  }
  return yes("matrix");
}

/**
 * The matrix form: decides a pair when either side is a typeset matrix or determinant; passes (null) otherwise.
 * A matrix against something that is not one is left to the other rules (which call it a structure mismatch).
 */
export const compareMatrices: FormComparer = (pred, gold, ctx) => {
  if (
    !pred.includes("\\begin") &&
    !gold.includes("\\begin") &&
    !pred.includes("\\det") &&
    !gold.includes("\\det")
  )
    return null;
  const p = parseMatrix(pred);
  const g = parseMatrix(gold);
  if (!p && !g) return null;
  if (p && g) {
    if (!p.explicit && !g.explicit) return null;
    if (p.kind !== g.kind) return no("determinant_vs_matrix");
    if (p.kind === "matrix") return compareEntries(p.rows, g.rows, ctx);
    if (compareEntries(p.rows, g.rows, ctx).equal) return yes("determinant (same entries)");
    const gv = determinantValue(g.rows, ctx);
    const gText = Number.isFinite(gv) ? String(Number(gv.toPrecision(15))) : determinantText(g.rows);
    return gText === null ? no("determinant_too_large") : compareDeterminant(p.rows, gText, true, ctx);
  }
  const only = (p ?? g)!;
  if (only.kind !== "determinant") return null;
  return compareDeterminant(only.rows, p ? gold : pred, p !== null, ctx);
};
