import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../util/rng.ts";
import { answersEquivalent } from "../equivalence.ts";
import { normalizeLatex } from "../normalize.ts";
import { testFormContext } from "./form-context.fixture.ts";
import { compareIntervals, parseRealSet } from "./intervals.ts";

const ctx = testFormContext();
const compare = (p: string, g: string) => compareIntervals(normalizeLatex(p), normalizeLatex(g), ctx);
/** A set as `[lo,hi)` pieces, for reading the parse at a glance. */
const show = (text: string): string | null => {
  const set = parseRealSet(normalizeLatex(text), ctx);
  if (!set) return null;
  const pieces = set.pieces.map(
    (p) => `${p.lo.closed ? "[" : "("}${p.lo.text},${p.hi.text}${p.hi.closed ? "]" : ")"}`,
  );
  return `${set.variable ?? "_"}:${pieces.join("∪")}${set.explicit ? "" : " (plain)"}`;
};

describe("parseRealSet", () => {
  it.each([
    ["x \\in [1,2)", "x:[1,2)"],
    ["0<f(x)<1", "f(x):(0,1)"],
    ["x \\le 3", "x:(-\\infty,3]"],
    ["3 > x", "x:(-\\infty,3)"],
    ["x \\geq \\frac{1}{2}", "x:[\\frac{1}{2},\\infty)"],
    ["x \\ne 1", "x:(-\\infty,1)∪(1,\\infty)"],
    ["x<1 \\text{ or } x>2", "x:(-\\infty,1)∪(2,\\infty)"],
    ["x > 1 \\text{ and } x \\le 3", "x:(1,3]"],
    ["\\{x \\mid x > 2\\}", "x:(2,\\infty)"],
    ["\\mathbb{R}", "_:(-\\infty,\\infty)"],
    ["\\mathbb{R} \\setminus \\{0\\}", "_:(-\\infty,0)∪(0,\\infty)"],
    ["\\{-1\\} \\cup [0,7)", "_:[-1,-1]∪[0,7)"],
    ["(-\\infty, +\\infty)", "_:(-\\infty,\\infty)"],
    ["\\emptyset", "_: "],
    ["(1,2)", "_:(1,2) (plain)"],
    ["[1,2]", "_:[1,2] (plain)"],
  ])("%s → %s", (text, expected) => {
    expect(show(text)).toBe(expected.replace(/ $/, ""));
  });
  it.each([
    ["(2,1)", "ends out of order: a pair, not an interval"],
    ["(1,2,3)", "three items"],
    ["x = 2x - 1", "an equation in x"],
    ["x < y", "two variables"],
    ["5", "a number"],
    ["(-\\infty, -\\infty)", "−∞ as an upper end"],
    ["x \\in \\{1, y < 2\\}", "a relation inside a set"],
  ])("%s is not a set of reals (%s)", (text) => {
    expect(show(text)).toBeNull();
  });
});

describe("compareIntervals", () => {
  it.each([
    ["x \\in [1,2)", "[1,2)"],
    ["0<f(x)<1", "(0,1)"],
    ["x \\le 3", "(-\\infty, 3]"],
    ["x > 2", "(2, \\infty)"],
    ["(-\\infty,1) \\cup (2,\\infty)", "x<1 \\text{ or } x>2"],
    ["(2,\\infty) \\cup (-\\infty,1)", "(-\\infty,1) \\cup (2,\\infty)"],
    ["(-\\infty,1] \\cup (1,2)", "(-\\infty,2)"],
    ["x \\ne 1", "\\mathbb{R} \\setminus \\{1\\}"],
    ["x \\in [0.5, \\infty)", "x \\ge \\frac{1}{2}"],
  ])("%s = %s", (p, g) => {
    expect(compare(p, g)).toMatchObject({ equal: true, reason: "interval" });
  });
  it.each([
    ["[1,2)", "[1,2]", "interval_mismatch"],
    ["x < 3", "(-\\infty,3]", "interval_mismatch"],
    ["[-\\infty,3]", "(-\\infty,3]", "interval_mismatch"],
    ["x \\ne 1", "(-\\infty,1] \\cup (1,\\infty)", "interval_mismatch"],
    ["(-\\infty,1] \\cup [1,2)", "(-\\infty,1) \\cup (1,2)", "interval_mismatch"],
    ["y > 2", "x > 2", "different_variable"],
    ["x \\in [0, \\pi]", "[0, 3.14]", "interval_mismatch"],
  ])("%s ≠ %s (%s)", (p, g, reason) => {
    expect(compare(p, g)).toEqual({ equal: false, reason });
  });
  it("leaves two plain pairs, and anything that is not a set, to the other rules", () => {
    expect(compare("(1,2)", "(1,2.0)")).toBeNull();
    expect(compare("[1,2]", "\\{1,2\\}")).toBeNull();
    expect(compare("x = 1 \\text{ or } x = 2", "\\{1,2\\}")).toBeNull();
    expect(compare("x > 2", "x - 2 > 0")).toBeNull();
    expect(compare("5", "x > 1")).toBeNull();
  });
  it("reads a plain pair as an interval against an unmistakable set", () => {
    expect(compare("(1,2)", "1 < x < 2")?.equal).toBe(true);
    expect(compare("(0,1)", "[0,1)")?.equal).toBe(false);
  });
  it("compares ends under the caller's tolerance", () => {
    const loose = testFormContext(1e-2);
    const p = normalizeLatex("(0.6, 2.67]");
    const g = normalizeLatex("\\left(\\frac{3}{5},\\frac{8}{3}\\right]");
    expect(compareIntervals(p, g, loose)?.equal).toBe(true);
    expect(compareIntervals(p, g, ctx)?.equal).toBe(false);
  });
});

describe("random unions against their membership", () => {
  type Piece = { lo: number; hi: number; loIn: boolean; hiIn: boolean };
  const ENDS = [Number.NEGATIVE_INFINITY, -2, -1, 0, 1, 2, 3, Number.POSITIVE_INFINITY];
  const PROBES = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5];
  const end = (v: number): string =>
    v === Number.POSITIVE_INFINITY ? "\\infty" : v === Number.NEGATIVE_INFINITY ? "-\\infty" : `${v}`;
  const contains = (set: Piece[], x: number): boolean =>
    set.some((p) => (x > p.lo || (x === p.lo && p.loIn)) && (x < p.hi || (x === p.hi && p.hiIn)));
  const asUnion = (set: Piece[]): string =>
    set.map((p) => `${p.loIn ? "[" : "("}${end(p.lo)},${end(p.hi)}${p.hiIn ? "]" : ")"}`).join(" \\cup ");
  /** The same set as inequalities joined by "or", when no piece is the whole line. */
  const asInequalities = (set: Piece[]): string | null => {
    const parts = set.map((p) => {
      const lo = `${end(p.lo)} ${p.loIn ? "\\le" : "<"} `;
      const hi = ` ${p.hiIn ? "\\le" : "<"} ${end(p.hi)}`;
      if (!Number.isFinite(p.lo) && !Number.isFinite(p.hi)) return null;
      return `${Number.isFinite(p.lo) ? lo : ""}x${Number.isFinite(p.hi) ? hi : ""}`;
    });
    return parts.every((x) => x !== null) ? parts.join(" \\text{ or } ") : null;
  };

  it("call two sets equal exactly when they contain the same points (no false equal, no miss)", () => {
    const random = mulberry32(19);
    const pick = (n: number): number => Math.floor(random() * n);
    const randomSet = (): Piece[] =>
      Array.from({ length: 1 + pick(2) }, () => {
        const a = pick(ENDS.length - 1);
        const b = a + 1 + pick(ENDS.length - 1 - a);
        const [lo, hi] = [ENDS[a]!, ENDS[b]!];
        return {
          lo,
          hi,
          loIn: Number.isFinite(lo) && random() < 0.5,
          hiIn: Number.isFinite(hi) && random() < 0.5,
        };
      });
    const wrong: string[] = [];
    for (let i = 0; i < 600; i++) {
      const a = randomSet();
      const b =
        random() < 0.4
          ? a.map((p) => ({ ...p, loIn: Number.isFinite(p.lo) && (random() < 0.2 ? !p.loIn : p.loIn) }))
          : randomSet();
      const pred = (random() < 0.5 ? asInequalities(a) : null) ?? asUnion(a);
      const gold = asUnion(b);
      const same = PROBES.every((x) => contains(a, x) === contains(b, x));
      if (answersEquivalent(pred, gold, { tol: 1e-6 }).equal !== same)
        wrong.push(`${pred} vs ${gold}: ${same}`);
    }
    expect(wrong).toEqual([]);
  });
});
