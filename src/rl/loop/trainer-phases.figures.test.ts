/**
 * The pure computations behind the step figures (glmv issue 17): packing fill and rank balance, per-family
 * accuracy over unequal groups, and the difficulty histogram's bins, each against values worked out by hand.
 */
import { describe, expect, it } from "vitest";
import { CURRICULUM_DEFAULTS, newPromptStats } from "../algorithm/curriculum.ts";
import { stubItem } from "./figures.fixture.ts";
import type { Rollout, UpdateSample } from "./policy.ts";
import { familyAccuracy, packBatch, passRateHistogram } from "./trainer-phases.ts";

const close = (x: number) => expect.closeTo(x, 12);

/** Update samples of `promptTokens` + response tokens each. */
const samples = (responseLengths: number[], promptTokens: number): UpdateSample[] =>
  responseLengths.map((len, i) => {
    const rollout: Rollout = {
      promptId: `p${i}`,
      tokens: Array(len).fill(1),
      logprobs: Array(len).fill(-1),
      injected: Array(len).fill(false),
      text: "",
      finished: true,
      promptTokens,
    };
    return { prompt: { id: `p${i}`, messages: [], images: [] }, rollout, advantage: 0 };
  });

/** verl's workload of a sequence (design.md §5.4): linear layers plus quadratic attention. */
const workload = (len: number) => 24576 * len + len * len;

describe("packBatch fill and balance", () => {
  // sequences of 10, 20, 30 and 40 tokens: 5 prompt tokens + 5, 15, 25, 35 response tokens
  const batch = samples([5, 15, 25, 35], 5);

  it("balances ranks by workload: the best 2 + 2 split, max over mean", () => {
    // every split into two pairs, by hand: {10,40}/{20,30} has the smallest larger side
    const splits = [
      [
        [10, 20],
        [30, 40],
      ],
      [
        [10, 30],
        [20, 40],
      ],
      [
        [10, 40],
        [20, 30],
      ],
    ].map((ranks) => ranks.map((r) => r.reduce((s, len) => s + workload(len), 0)));
    const larger = (split: number[]) => Math.max(split[0]!, split[1]!);
    const best = splits.reduce((a, b) => (larger(a) <= larger(b) ? a : b));
    const { balance, ranks } = packBatch(batch, {
      ranks: 2,
      packContext: 60,
      maxSeqsPerMicroBatch: 64,
    });
    expect(balance).toEqual(close(Math.max(...best) / ((best[0]! + best[1]!) / 2)));
    expect(balance).toBeGreaterThan(1);
    const lengthsOf = (rank: number[][]) =>
      rank
        .flat()
        .map((i) => [10, 20, 30, 40][i]!)
        .sort((a, b) => a - b);
    expect(ranks.map(lengthsOf).sort((a, b) => a[0]! - b[0]!)).toEqual([
      [10, 40],
      [20, 30],
    ]);
  });

  it("fills micro-batches with prompt + response tokens over the slots of every micro-batch", () => {
    // each rank's pair (50 tokens) fits one micro-batch of 60: 100 of 120 slots
    expect(packBatch(batch, { ranks: 2, packContext: 60, maxSeqsPerMicroBatch: 64 }).fill).toEqual(
      close(100 / 120),
    );
    // one rank: 100 tokens need 2 micro-batches of 60 (40 + 20 | 30 + 10)
    expect(packBatch(batch, { ranks: 1, packContext: 60, maxSeqsPerMicroBatch: 64 }).fill).toEqual(
      close(100 / 120),
    );
    // a context shorter than the longest sequence is raised to it: 40 | 10 and 30 | 20, 4 micro-batches of 40
    expect(packBatch(batch, { ranks: 2, packContext: 8, maxSeqsPerMicroBatch: 64 }).fill).toEqual(
      close(100 / 160),
    );
    // at most one sequence per micro-batch (image slots): 4 micro-batches of 60
    expect(packBatch(batch, { ranks: 2, packContext: 60, maxSeqsPerMicroBatch: 1 }).fill).toEqual(
      close(100 / 240),
    );
  });

  // packBatch's default cap is +Infinity: ceil(n / ∞) = 0 pieces would drop every sequence and read a fill of 1
  it("keeps every sequence and the same fill without a cap (the default cap is Infinity)", () => {
    const uncapped = packBatch(batch, { ranks: 2, packContext: 60 });
    expect(uncapped.batch.microBatches.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(uncapped.fill).toEqual(close(100 / 120));
  });
});

describe("familyAccuracy", () => {
  const group = (id: string, family: "counting" | "math", right: boolean[]) => {
    const results = right.map((correct) => ({
      reward: correct ? 1 : 0,
      correct,
      format: "ok" as const,
      extracted: null,
      timedOut: false,
      stage: "verify" as const,
    }));
    return {
      promptId: id,
      rewards: results.map((r) => r.reward),
      payload: {
        item: stubItem(id, family, 1),
        prompt: { id, messages: [], images: [] },
        rollouts: [],
        results,
      },
    };
  };

  it("is right rollouts over the family's rollouts, whatever the group sizes", () => {
    const acc = familyAccuracy([
      group("c1", "counting", [true, false]),
      group("c2", "counting", [true, true, true, false]),
      group("m1", "math", [false, false, false]),
    ]);
    // counting: (1 + 3) of (2 + 4) rollouts, not the mean of 1/2 and 3/4; math: none of 3
    expect(acc).toEqual({ counting: close(4 / 6), math: 0 });
    expect(familyAccuracy([])).toEqual({});
  });
});

describe("passRateHistogram", () => {
  it("bins each prompt's estimated pass rate into tenths, 1 in the last bin", () => {
    // no observations: p̂ = 1 − offline difficulty
    const stats = new Map([0, 1, 0.65, 0.05, 0.5].map((d, i) => [`p${i}`, newPromptStats(d)] as const));
    // p̂ = 1, 0, 0.35, 0.95, 0.5
    expect(passRateHistogram(stats, 0, CURRICULUM_DEFAULTS)).toEqual([1, 0, 0, 1, 0, 1, 0, 0, 0, 2]);
  });
});
