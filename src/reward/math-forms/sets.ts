/**
 * Set and list notation: TeX grouping braces around a list (`{1,2,3}` is the set `\{1,2,3\}`), `;`-separated
 * tuples (`(1;2)`, with decimal commas inside: `(1,5; 2,5)`), an Oxford comma before "and"/"or", and the rules
 * for comparing collections: sets ignore order and repeats, a tuple is ordered, a bare list `1, 2` follows the
 * gold's kind, and a list of intervals is their union.
 */
import { detectStructure, type Structure, splitTopLevel } from "../structures.ts";
import { type FormComparer, no, type Verdict, yes } from "./form.ts";
import { decimalCommaText } from "./number-format.ts";

/** Index of the `}` closing the `{` at 0 (TeX braces only, `\{` `\}` skipped), or -1. */
function closingBrace(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\") {
      i++;
      continue;
    }
    if (s[i] === "{") depth++;
    else if (s[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

/** `{1,2,3}` → `\{1,2,3\}`; `{5}` → `5` (grouping braces around one value are only grouping). */
function unwrapGroupingBraces(s: string): string {
  if (!s.startsWith("{") || closingBrace(s) !== s.length - 1) return s;
  const inner = s.slice(1, -1).trim();
  return splitTopLevel(inner, /,|;/).length > 1 ? `\\{${inner}\\}` : inner;
}

/** Whether the bracket opening `s` closes at its last character. */
function wrapsWhole(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      if (--depth === 0) return i === s.length - 1;
    }
  }
  return false;
}

/** `(1;2)` → `(1, 2)`, `(1,5; 2,5)` → `(1.5, 2.5)`; unchanged when an item still holds a comma. */
function semicolonTuple(s: string): string {
  const open = s[0];
  if ((open !== "(" && open !== "[") || !s.includes(";")) return s;
  if (!wrapsWhole(s)) return s;
  const inner = s.slice(1, -1);
  const items = splitTopLevel(inner, /;/);
  if (items.length < 2) return s;
  const read = items.map((item) => decimalCommaText(item) ?? item);
  if (read.some((item) => splitTopLevel(item, /,/).length > 1)) return s;
  return `${open}${read.join(", ")}${s[s.length - 1]}`;
}

/**
 * The notation rewrites above plus `2, 3, and 4` → `2, 3, 4`.
 * @example rewriteListNotation("{1, 2, 3}") // "\\{1, 2, 3\\}"
 */
export function rewriteListNotation(s: string): string {
  let out = unwrapGroupingBraces(s.trim());
  out = semicolonTuple(out);
  if (/,\s*(?:and|or)\s/.test(out)) out = out.replace(/,\s*(?:and|or)\s+/g, ", ");
  return out;
}

/**
 * The list-notation form: when a rewrite changes either side, compare the rewritten answers. Alternatives
 * ("2 or 3") are never a tuple: a bare list follows a tuple gold only when it is a list.
 */
export const compareListNotation: FormComparer = (p, g, ctx) => {
  if (/\sor\s/.test(p) && splitTopLevel(p, /\s+or\s+/).length > 1 && detectStructure(g)?.kind === "seq") {
    return no("alternatives_vs_tuple");
  }
  if (!/[{;]|,\s*(?:and|or)\s/.test(p) && !/[{;]|,\s*(?:and|or)\s/.test(g)) return null;
  const rp = rewriteListNotation(p);
  const rg = rewriteListNotation(g);
  return rp === p && rg === g ? null : ctx.compare(rp, rg);
};

const isInterval = (item: string): boolean => {
  const st = detectStructure(item);
  return st?.kind === "seq" && st.items.length === 2 && "([".includes(st.open) && ")]".includes(st.close);
};

/** A gold tuple a bare list may stand for: `(…)` or `\langle…\rangle` that is not an interval to infinity, or `[…]` of three or more. */
function bareMayFollow(sg: Structure): sg is Extract<Structure, { kind: "seq" }> {
  if (sg.kind !== "seq") return false;
  if (sg.open === "<") return true;
  if (sg.open === "(" && sg.close === ")") return !sg.items.some((it) => /\\infty/.test(it));
  return sg.open === "[" && sg.close === "]" && sg.items.length >= 3;
}

/** Both sides as sets: repeats dropped (by equivalence), then every element matched once. */
function sameSet(pi: string[], gi: string[], eq: (a: string, b: string) => boolean): boolean {
  const dedupe = (items: string[]): string[] => {
    const kept: string[] = [];
    for (const it of items) if (!kept.some((k) => eq(it, k))) kept.push(it);
    return kept;
  };
  const a = dedupe(pi);
  const b = dedupe(gi);
  if (a.length !== b.length) return false;
  const left = [...b];
  for (const item of a) {
    const at = left.findIndex((x) => eq(item, x));
    if (at < 0) return false;
    left.splice(at, 1);
  }
  return true;
}

/**
 * Collections compared as their kinds say; null when neither rule applies (the caller's structure rules decide).
 * @example compareCollections(bare ["1","2"], seq "(1,2)", eq) // yes: a bare list follows a tuple gold, in order
 */
export function compareCollections(
  sp: Structure,
  sg: Structure,
  eq: (a: string, b: string) => boolean,
): Verdict | null {
  if (sp.kind === "bare" && bareMayFollow(sg)) {
    return sp.items.length === sg.items.length && sp.items.every((it, i) => eq(it, sg.items[i]!))
      ? yes("list (in the gold's order)")
      : no("element_mismatch");
  }
  const unordered = (s: Structure): s is Extract<Structure, { kind: "set" | "bare" }> =>
    s.kind === "set" || s.kind === "bare";
  const intervals = (s: Structure): boolean =>
    s.kind === "union" || (s.kind === "bare" && s.items.every(isInterval));
  if ((unordered(sp) && unordered(sg)) || (sp.kind === "union" && sg.kind === "union")) {
    return sameSet(sp.items, sg.items, eq) ? yes(sp.kind === "union" ? "union" : "set") : no("set_mismatch");
  }
  if (intervals(sp) && intervals(sg) && (sp.kind === "union") !== (sg.kind === "union")) {
    const pi = (sp as { items: string[] }).items;
    const gi = (sg as { items: string[] }).items;
    return sameSet(pi, gi, eq) ? yes("union (listed intervals)") : no("set_mismatch");
  }
  return null;
}
