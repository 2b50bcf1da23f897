/**
 * Labelled answers: what names the value on the left of `=` (`x`, `(p,q)`, `A:B`, `|AB|`, `\angle ABC`, `f(2)`,
 * `Area`), and answers given as several assignments (`x=1, y=2`). Assignments compare as a map by name when both
 * sides name the same variables, and in the order written against a tuple or a bare list; one variable assigned
 * several values (`x=2 or x=3`) is a set of solutions.
 */
import { detectStructure, splitTopLevel } from "../structures.ts";
import { type FormComparer, no, yes } from "./form.ts";

const GREEK =
  "alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|lambda|mu|nu|xi|rho|sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Sigma|Phi|Psi|Omega";
/** One variable: a letter or Greek letter, an optional subscript, optional primes. */
const NAME = String.raw`(?:[a-zA-Z]|\\(?:${GREEK})(?![a-zA-Z]))(?:_\{?[\w\\]+\}?)?'*`;
/**
 * A segment name (`AB`, `ABC`) or a word of four letters or more (`Area`). Not `xy`: as Math-Verify reads it,
 * that is a product, so the gold `xy = 6` stays an equation.
 */
const WORD = "[A-Z]{2,3}|[A-Za-z][a-z]{3,11}";
const DECORATED = String.raw`\\(?:overline|overrightarrow|vec|hat|bar|widehat|tilde)\s*\{[^{}]+\}`;
const ANGLE = String.raw`(?:m\s*)?\\(?:angle|measuredangle)\s*[A-Z]{1,3}`;
const ABS = String.raw`\|\s*(?:${DECORATED}|${NAME}|${WORD})\s*\|`;
const FUNCTION = String.raw`[a-zA-Z](?:\^\{-1\})?'*\s*\([^()=<>]*\)`;
const SIMPLE = `(?:${ANGLE}|${ABS}|${DECORATED}|${FUNCTION}|${NAME}|${WORD})`;
const TUPLE = String.raw`\(\s*${SIMPLE}(?:\s*,\s*${SIMPLE})+\s*\)`;
const RATIO = String.raw`${SIMPLE}(?:\s*:\s*${SIMPLE})+`;

const LABEL = new RegExp(`^(?:${TUPLE}|${RATIO}|${SIMPLE})$`);
const SINGLE_NAME = new RegExp(`^(?:${NAME}|${WORD})$`);
const TUPLE_LABEL = new RegExp(`^${TUPLE}$`);
/** Words that are values or functions, not names. */
const NOT_A_NAME =
  /^(?:pi|inf|infty|infinity|sin|cos|tan|cot|sec|csc|ln|log|exp|sqrt|and|or|none|yes|no|true|false|undefined)$/i;
const RELATION = /=|<|>|\\(?:le|ge|ne|lt|gt|approx|in)(?![a-zA-Z])|≈/;

const squash = (s: string): string => s.replace(/\s+/g, "");

/** The names a label gives (`(p, q)` → ["p", "q"], `|AB|` → ["|AB|"]). */
function labelNames(label: string): string[] {
  const t = label.trim();
  if (TUPLE_LABEL.test(t)) return splitTopLevel(t.slice(1, -1), /,/).map(squash);
  return [squash(t)];
}

/** Whether a plain name occurs in a text as a whole word (`x` in `2x+1`, not in `\max`). */
function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
  return new RegExp(`(?<![a-zA-Z\\\\])${escaped}(?![a-zA-Z])`).test(text);
}

/**
 * Whether the left side of `lhs = rest…` is a label rather than part of an equation: it has a label's shape, is
 * not a constant or function word, and no plain name of it occurs on the right (`x = 2x - 3` is an equation).
 * @example isLabel("(p,q)", ["(3,2)"]) // true; isLabel("x", ["2x-3"]) // false
 */
export function isLabel(lhs: string, rest: readonly string[]): boolean {
  const t = lhs.trim();
  if (t.length === 0 || t.length > 60 || !LABEL.test(t)) return false;
  const names = labelNames(t).filter((n) => SINGLE_NAME.test(n));
  if (names.some((n) => NOT_A_NAME.test(n))) return false;
  return !names.some((n) => rest.some((r) => mentions(r, n)));
}

/** Named values: `x=1, y=2` or `(p,q)=(3,2)`. */
export type Assignments = { names: string[]; values: string[] };

/** `lhs = rhs` with exactly one top-level `=` and nothing relational on the right, else null. */
function splitAssignment(item: string): [string, string] | null {
  const parts = splitTopLevel(item, /=/);
  if (parts.length !== 2 || parts.some((x) => x.length === 0)) return null;
  const [lhs, rhs] = parts as [string, string];
  if (/[<>!]$/.test(lhs) || RELATION.test(rhs)) return null;
  return [lhs, rhs];
}

/**
 * Read an answer given as assignments: a list (`,` `;` "and" "or") whose every item is `name = value`, or a
 * tuple label with a tuple of the same length (`(p,q)=(3,2)`). Null for anything else.
 * @example readAssignments("x=1, y=2") // { names: ["x", "y"], values: ["1", "2"] }
 */
export function readAssignments(s: string): Assignments | null {
  if (!s.includes("=")) return null;
  const whole = splitAssignment(s);
  if (whole && TUPLE_LABEL.test(whole[0].trim()) && isLabel(whole[0], [whole[1]])) {
    const st = detectStructure(whole[1]);
    const names = labelNames(whole[0]);
    if (st?.kind === "seq" && (st.open === "(" || st.open === "<") && st.items.length === names.length) {
      return { names, values: st.items };
    }
    return null;
  }
  const items = splitTopLevel(s, /,|;|\s+(?:and|or)\s+/);
  if (items.length < 2) return null;
  // "x=2 or y=3" is a disjunction, not a point: "or" joins values of one variable only.
  const alternatives = splitTopLevel(s, /\s+or\s+/).length > 1;
  const names: string[] = [];
  const values: string[] = [];
  for (const item of items) {
    const pair = splitAssignment(item);
    if (!pair || !SINGLE_NAME.test(pair[0].trim()) || !isLabel(pair[0], [pair[1]])) return null;
    names.push(squash(pair[0]));
    values.push(pair[1]);
  }
  if (alternatives && new Set(names).size > 1) return null;
  return { names, values };
}

/** One variable given several values (`x=2 or x=3`): its values as a set text. */
function solutionSet(a: Assignments): string | null {
  return new Set(a.names).size === 1 ? `\\{${a.values.join(",")}\\}` : null;
}

/**
 * The assignments form: map by name, in order against a tuple or bare list, never against a set or a number.
 * One variable with several values compares as the set of those values.
 */
export const compareAssignments: FormComparer = (p, g, ctx) => {
  const ap = readAssignments(p);
  const ag = readAssignments(g);
  if (!ap && !ag) return null;
  const setP = ap && solutionSet(ap);
  const setG = ag && solutionSet(ag);
  if (setP || setG) return ctx.compare(setP ?? p, setG ?? g);
  const distinct = (a: Assignments | null): boolean => !a || new Set(a.names).size === a.names.length;
  if (!distinct(ap) || !distinct(ag)) return no("repeated_assignment");
  const inOrder = (pv: string[], gv: string[]) =>
    pv.length === gv.length && pv.every((v, i) => ctx.compare(v, gv[i]!).equal)
      ? yes("assignments (in order)")
      : no("assignments_mismatch");
  if (ap && ag) {
    const sameNames = ap.names.length === ag.names.length && ap.names.every((n) => ag.names.includes(n));
    if (!sameNames) return inOrder(ap.values, ag.values);
    return ap.names.every((n, i) => ctx.compare(ap.values[i]!, ag.values[ag.names.indexOf(n)]!).equal)
      ? yes("assignments (by name)")
      : no("assignments_mismatch");
  }
  const other = detectStructure(ap ? g : p);
  if (other?.kind !== "seq" && other?.kind !== "bare") return no("assignments_vs_other");
  return ap ? inOrder(ap.values, other.items) : inOrder(other.items, ag!.values);
};
