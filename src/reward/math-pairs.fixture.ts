/**
 * Test support for the labelled math-pair tables (`test/fixtures/math-equivalence/`, `math-verify-style/`): read a
 * JSONL of pairs, and the whole reward path's verdict on one (a boxed GLM-4.1V response holding `pred`).
 */
import { readFileSync } from "node:fs";
import { box, r41 } from "./hacking-corpus.ts";
import type { ItemPrecision } from "./math-forms/precision.ts";
import { scoreItem } from "./system.ts";

export type MathPair = {
  pred: string;
  gold: string;
  equal: boolean;
  note?: string;
  kind?: string;
  precision?: ItemPrecision;
};

/** The pairs of one JSONL file, blank lines skipped. */
export function readMathPairs(file: URL): MathPair[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as MathPair);
}

/** The reward system's verdict on one pair (format gate → anti-hacking → verifier, the row's precision as the item's). */
export function judgeMathPair(pair: MathPair): { equal: boolean; reason: string } {
  const r = scoreItem({
    id: 0,
    domain: "math",
    answer: pair.gold,
    response: r41("Work it out.", box(pair.pred)),
    style: "4.1v",
    ...(pair.precision !== undefined ? { precision: pair.precision } : {}),
  });
  return { equal: r.reward === 1, reason: `${r.stage}: ${r.reason ?? ""}` };
}

/** Each pair the reward path gets wrong, as one line: MISS or FALSE EQUAL, the pair, its note, and glmv's reason. */
export function labelMismatches(pairs: readonly MathPair[]): string[] {
  return pairs
    .map((pair) => ({ pair, got: judgeMathPair(pair) }))
    .filter(({ pair, got }) => got.equal !== pair.equal)
    .map(
      ({ pair, got }) =>
        `${pair.equal ? "MISS" : "FALSE EQUAL"} ${JSON.stringify(pair.pred)} vs ${JSON.stringify(pair.gold)} (${pair.note}) → ${got.reason}`,
    );
}
