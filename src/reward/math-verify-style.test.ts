/**
 * The independent Math-Verify-style agreement set (`test/fixtures/math-verify-style/pairs.jsonl`, issue 19's
 * target: ≥ 97% agreement, no false "equal"). The labels were written and frozen before glmv was run on them, so
 * this test pins what glmv scores today rather than the labels bending to glmv: a regression lowers the pinned
 * agreement, a new false "equal" fails outright. Each pair goes through the whole reward path (format gate →
 * anti-hacking → math verifier) as a boxed GLM-4.1V response.
 */
import { describe, expect, it } from "vitest";
import { judgeMathPair as judged, type MathPair, readMathPairs } from "./math-pairs.fixture.ts";

type Pair = MathPair & { kind: string };

const PAIRS_FILE = new URL("../../test/fixtures/math-verify-style/pairs.jsonl", import.meta.url);

/** Agreement measured when the set was frozen (489 pairs): raise it when glmv closes a miss, never lower it. */
const PINNED_AGREEMENT = 485;

/**
 * Pairs glmv calls equal against the Math-Verify label, by a deliberate reward convention: before `\approx`
 * glmv grades the exact member (`math-forms/chains.ts`), Math-Verify the last right-hand side. Listed so that
 * any other false "equal" fails; the lead decides whether the convention or the label gives way.
 */
const KNOWN_CONVENTION_FALSE_EQUAL = [
  String.raw`\frac{22}{7}\approx 3.14 vs \frac{22}{7}`,
  String.raw`\sqrt{2}\approx 1.41 vs \sqrt{2}`,
];

const loadPairs = (): Pair[] => readMathPairs(PAIRS_FILE) as Pair[];

const pairs = loadPairs();
const verdicts = pairs.map((pair) => ({ pair, got: judged(pair) }));
const disagreements = verdicts.filter(({ pair, got }) => got.equal !== pair.equal);
const key = (pair: Pair) => `${pair.pred} vs ${pair.gold}`;

describe("Math-Verify-style agreement set", () => {
  it("has at least 400 pairs over at least 20 kinds, equal and not-equal in balance", () => {
    expect(pairs.length).toBeGreaterThanOrEqual(400);
    expect(new Set(pairs.map((p) => p.kind)).size).toBeGreaterThanOrEqual(20);
    const equal = pairs.filter((p) => p.equal).length / pairs.length;
    expect(equal).toBeGreaterThan(0.4);
    expect(equal).toBeLessThan(0.6);
  });

  it('calls no different pair "equal" (beyond the documented approximation convention)', () => {
    const falseEqual = disagreements.filter(({ got }) => got.equal).map(({ pair }) => key(pair));
    expect(falseEqual).toEqual(KNOWN_CONVENTION_FALSE_EQUAL);
  });

  it(`agrees with the labels on at least ${PINNED_AGREEMENT} of the pairs (≥ 97%)`, () => {
    const byKind = new Map<string, { agree: number; total: number }>();
    for (const { pair, got } of verdicts) {
      const row = byKind.get(pair.kind) ?? { agree: 0, total: 0 };
      row.total += 1;
      if (got.equal === pair.equal) row.agree += 1;
      byKind.set(pair.kind, row);
    }
    const misses = disagreements.map(
      ({ pair, got }) =>
        `${pair.equal ? "MISS" : "FALSE EQUAL"} [${pair.kind}] ${JSON.stringify(pair.pred)} vs ${JSON.stringify(pair.gold)} → ${got.reason}`,
    );
    const partial = [...byKind]
      .filter(([, r]) => r.agree < r.total)
      .map(([k, r]) => `${k} ${r.agree}/${r.total}`);
    console.log(
      `math-verify-style: ${pairs.length - disagreements.length}/${pairs.length} agree; kinds below 100%: ${partial.join(", ")}\n${misses.join("\n")}`,
    );
    const agree = pairs.length - disagreements.length;
    expect(agree).toBe(PINNED_AGREEMENT);
    expect(agree / pairs.length).toBeGreaterThanOrEqual(0.97);
  });
});
