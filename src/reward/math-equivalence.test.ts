/**
 * The labelled math-equivalence table (`test/fixtures/math-equivalence/{labels,sets,chains,number-format}.jsonl`,
 * one file per form: labelled answers, sets and lists, equation chains, number formatting). Each pair goes through
 * the whole reward path (format gate → anti-hacking → math verifier), so a form the verifier accepts but
 * anti-hacking calls a hedge still fails here. The table must agree 100%, with no false "equal".
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { box, r41 } from "./hacking-corpus.ts";
import { scoreItem } from "./system.ts";

type Pair = { pred: string; gold: string; equal: boolean; note: string };

const DIR = new URL("../../test/fixtures/math-equivalence/", import.meta.url);

/** This table's forms; the interval, matrix and precision tables beside them have `math-forms/forms-table.test.ts`. */
const CATEGORIES = ["chains", "labels", "number-format", "sets"] as const;

/** Each category's table as (category, pairs). */
function loadMathEquivalenceTables(): [string, Pair[]][] {
  return CATEGORIES.map((name) => [
    name,
    readFileSync(new URL(`${name}.jsonl`, DIR), "utf8")
      .split("\n")
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as Pair),
  ]);
}

/** The reward system's verdict on one pair: a boxed GLM-4.1V response holding `pred`. */
function judged(pair: Pair): { equal: boolean; reason: string } {
  const r = scoreItem({
    id: 0,
    domain: "math",
    answer: pair.gold,
    response: r41("Work it out.", box(pair.pred)),
    style: "4.1v",
  });
  return { equal: r.reward === 1, reason: `${r.stage}: ${r.reason ?? ""}` };
}

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
      const wrong = pairs
        .map((pair) => ({ pair, got: judged(pair) }))
        .filter(({ pair, got }) => got.equal !== pair.equal)
        .map(
          ({ pair, got }) =>
            `${pair.equal ? "MISS" : "FALSE EQUAL"} ${JSON.stringify(pair.pred)} vs ${JSON.stringify(pair.gold)} (${pair.note}) → ${got.reason}`,
        );
      expect(wrong).toEqual([]);
    });
  }
});
