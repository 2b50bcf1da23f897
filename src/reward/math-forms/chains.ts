/**
 * Statements: an answer with a label (`|AB| = 1`, `(p,q) = (3,2)`), an equation chain (`x = 2+3 = 5`), or an
 * approximation (`\approx 3.14`, `= \frac{1}{2} = 0.5`). As Math-Verify does, the graded value is the last
 * right-hand side written with `=` (an `\approx` tail is a rounding of it; only approximations: the last one).
 * Where a reward differs from Math-Verify: a chain whose members disagree is a hedge (`x = 2+3 = 6` offers 5 and
 * 6), so it is rejected whatever the gold; Math-Verify grades its last member.
 */
import { relClose } from "../numbers.ts";
import { type FormComparer, type FormContext, no } from "./form.ts";
import { isLabel } from "./labels.ts";

type ChainOp = "=" | "≈";

/** A statement read from an answer: its graded value, and whether its members agree. */
export type Statement = { value: string; consistent: boolean };

const INEQUALITY = /<|>|!=|\\(?:le|ge|ne|lt|gt|leq|geq|neq|in|subset|subseteq|notin)(?![a-zA-Z])/;
const HINT = /=|\\approx|≈/;
const LIST = /,|;|\s(?:or|and)\s/;

/** Split at top-level `=` / `\approx` (outside brackets), keeping the operators. */
function splitChain(s: string): { members: string[]; ops: ChainOp[] } | null {
  const members: string[] = [];
  const ops: ChainOp[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && (s[i + 1] === "{" || s[i + 1] === "}")) {
      depth += s[i + 1] === "{" ? 1 : -1;
      i++;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    if (depth !== 0) continue;
    let len = 0;
    let op: ChainOp | null = null;
    if (c === "=") [len, op] = [1, "="];
    else if (c === "≈") [len, op] = [1, "≈"];
    else if (s.startsWith("\\approx", i) && !/[a-zA-Z]/.test(s[i + 7] ?? "")) [len, op] = [7, "≈"];
    if (!op) continue;
    members.push(s.slice(start, i).trim());
    ops.push(op);
    start = i + len;
    i = start - 1;
  }
  if (ops.length === 0) return null;
  members.push(s.slice(start).trim());
  return { members, ops };
}

const DECIMAL_LITERAL = /^[+-]?\d+(?:\.(\d+))?$/;

/**
 * Whether the written decimal `literal` is `x` rounded or truncated to the digits shown. Integers count only
 * after `\approx`, where trailing zeros mark the rounding place (`1234 \approx 1200`); after `=`, `\sqrt{2} = 1`
 * is a contradiction, not a rounding.
 */
function approximates(literal: string, x: number, approx: boolean): boolean {
  const m = DECIMAL_LITERAL.exec(literal.trim());
  if (!m || !Number.isFinite(x)) return false;
  const v = Number(literal);
  let scale: number;
  if (m[1]) scale = 10 ** -m[1].length;
  else if (approx) scale = 10 ** /0*$/.exec(literal.trim())![0].length;
  else return false;
  const slack = 1e-9 * Math.max(1, Math.abs(x));
  if (Math.abs(x - v) <= scale / 2 + slack) return true;
  return (
    Math.sign(x) === Math.sign(v) && Math.abs(v) <= Math.abs(x) && Math.abs(x) - Math.abs(v) < scale + slack
  );
}

/** Whether two adjacent members agree; null when that cannot be judged (an approximation between expressions). */
function membersAgree(a: string, b: string, op: ChainOp, ctx: FormContext): boolean | null {
  const va = ctx.evaluate(a);
  const vb = ctx.evaluate(b);
  if (Number.isFinite(va) && Number.isFinite(vb)) {
    if (va === vb || relClose(va, vb, ctx.tol)) return true;
    if (approximates(b, va, op === "≈") || approximates(a, vb, op === "≈")) return true;
    // An approximation between two exact forms (`\frac{22}{7} \approx \pi`): within 1%.
    return op === "≈" && !DECIMAL_LITERAL.test(a.trim()) && !DECIMAL_LITERAL.test(b.trim())
      ? Math.abs(va - vb) <= 0.01 * Math.max(Math.abs(va), Math.abs(vb))
      : false;
  }
  return op === "=" ? ctx.compare(b, a).equal : null;
}

/**
 * Read a statement: an optional label, then one or more members joined by `=` / `\approx`. Null when the text is
 * not one: no `=`/`\approx`, an inequality, a list of assignments, or an unlabelled relation between expressions
 * (an equation such as `2x + 1 = 5`, which the relation rules compare).
 * @example readStatement("x = 2+3 = 5", ctx) // { value: "5", consistent: true }
 */
export function readStatement(s: string, ctx: FormContext): Statement | null {
  if (!HINT.test(s) || INEQUALITY.test(s)) return null;
  const chain = splitChain(s);
  if (!chain) return null;
  const { members, ops } = chain;
  if (members.slice(1).some((m) => m.length === 0)) return null;
  if (members.length > 2 && members.some((m) => LIST.test(m))) return null;
  const head = members[0]!;
  const labelled = head.length === 0 || isLabel(head, members.slice(1));
  const values = labelled ? members.slice(1) : members;
  // `ops[k]` precedes values[k] when the head is a label or empty; otherwise values[0] has no operator.
  const opBefore = (k: number): ChainOp => (labelled ? ops[k]! : k === 0 ? "=" : ops[k - 1]!);
  if (!labelled && values.some((v) => !Number.isFinite(ctx.evaluate(v)))) return null;
  let consistent = true;
  for (let k = 1; k < values.length; k++) {
    const agree = membersAgree(values[k - 1]!, values[k]!, opBefore(k), ctx);
    if (agree === null) return null;
    if (!agree) consistent = false;
  }
  let graded = values.length - 1;
  for (let k = values.length - 1; k >= 0; k--) {
    if (opBefore(k) === "=") {
      graded = k;
      break;
    }
  }
  return { value: values[graded]!, consistent };
}

const hasRelation = (s: string): boolean => HINT.test(s) || INEQUALITY.test(s);

/**
 * The statement form: grade each side's value; a self-contradicting chain is 0. When one side is a statement and
 * the other an equation or inequality, the relation rules decide (null here).
 */
export const compareStatements: FormComparer = (p, g, ctx) => {
  if (!HINT.test(p) && !HINT.test(g)) return null;
  const sp = readStatement(p, ctx);
  const sg = readStatement(g, ctx);
  if (!sp && !sg) return null;
  if ((sp && !sp.consistent) || (sg && !sg.consistent)) return no("chain_contradiction");
  if ((!sp && hasRelation(p)) || (!sg && hasRelation(g))) return null;
  return ctx.compare(sp?.value ?? p, sg?.value ?? g);
};
