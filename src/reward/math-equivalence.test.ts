/**
 * The labelled math-equivalence table (`test/fixtures/math-equivalence/{labels,sets,chains,number-format}.jsonl`,
 * one file per form: labelled answers, sets and lists, equation chains, number formatting). Each pair goes through
 * the whole reward path (format gate → anti-hacking → math verifier), so a form the verifier accepts but
 * anti-hacking calls a hedge still fails here. The table must agree 100%, with no false "equal".
 */
import { describe, expect, it } from "vitest";
import { labelMismatches, type MathPair as Pair, readMathPairs } from "./math-pairs.fixture.ts";

const DIR = new URL("../../test/fixtures/math-equivalence/", import.meta.url);

/** This table's forms; the interval, matrix and precision tables beside them have `math-forms/forms-table.test.ts`. */
const CATEGORIES = ["chains", "labels", "number-format", "sets"] as const;

/** Each category's table as (category, pairs). */
const loadMathEquivalenceTables = (): [string, Pair[]][] =>
  CATEGORIES.map((name) => [name, readMathPairs(new URL(`${name}.jsonl`, DIR))]);

const tables = loadMathEquivalenceTables();

describe("math equivalence table", () => {
  it("has at least 200 pairs over four forms, equal and not-equal in balance", () => {
    const all = tables.flatMap(([, pairs]) => pairs);
    expect(all.length).toBeGreaterThanOrEqual(200);
    const equal = all.filter((p) => p.equal).length;
    expect(equal / all.length).toBeGreaterThan(0.4);
    expect(equal / all.length).toBeLessThan(0.6);
  });

  for (const [category, pairs] of tables) {
    it(`${category}: every pair as labelled, no false "equal"`, () => {
      expect(labelMismatches(pairs)).toEqual([]);
    });
  }
});
