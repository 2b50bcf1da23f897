/**
 * The labelled tables of the interval, matrix and precision forms (`test/fixtures/math-equivalence/
 * {intervals,matrices,precision}.jsonl`). Each pair goes through the whole reward path (format gate →
 * anti-hacking → math verifier, with the row's `precision` as the item's own), so a form the verifier accepts but
 * anti-hacking calls a hedge still fails here. Every pair must agree, with no false "equal".
 */
import { describe, expect, it } from "vitest";
import {
  judgeMathPair as judged,
  labelMismatches,
  type MathPair as Pair,
  readMathPairs,
} from "../math-pairs.fixture.ts";
import { verifyMath } from "../verifiers/math.ts";

const TABLES = ["intervals", "matrices", "precision"] as const;
const DIR = new URL("../../../test/fixtures/math-equivalence/", import.meta.url);

const readTable = (name: string): Pair[] => readMathPairs(new URL(`${name}.jsonl`, DIR));

const tables = TABLES.map((name) => [name, readTable(name)] as const);

describe("interval, matrix and precision tables", () => {
  it("hold at least 100 pairs, equal and not-equal in balance", () => {
    const all = tables.flatMap(([, pairs]) => pairs);
    expect(all.length).toBeGreaterThanOrEqual(100);
    const equal = all.filter((p) => p.equal).length / all.length;
    expect(equal).toBeGreaterThan(0.4);
    expect(equal).toBeLessThan(0.6);
    for (const [, pairs] of tables) expect(pairs.some((p) => !p.equal)).toBe(true);
  });

  for (const [category, pairs] of tables) {
    it(`${category}: every pair as labelled, no false "equal"`, () => {
      expect(labelMismatches(pairs)).toEqual([]);
    });
  }

  it("a 3×3 determinant against its value passes anti-hacking (its `&` are columns) and the verifier", () => {
    const pred = "\\begin{vmatrix}2&0&1\\\\1&3&2\\\\1&1&2\\end{vmatrix}";
    expect(verifyMath(pred, "6", {})).toMatchObject({ correct: true, reason: "determinant" });
    expect(judged({ pred, gold: "6", equal: true, note: "3x3 determinant" }).equal).toBe(true);
    expect(judged({ pred, gold: "7", equal: false, note: "3x3 determinant, wrong value" }).equal).toBe(false);
  });
});
