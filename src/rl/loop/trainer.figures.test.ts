/**
 * Every figure of `StepMetrics` (glmv issue 17), worked out by hand from a scripted step: which rollouts are right,
 * how long they are, how long generation took. A figure whose computation breaks fails here.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TaskItem } from "../../data/tasks/types.ts";
import { fitCalibration } from "../algorithm/calibration.ts";
import { RlConfig, type RlConfigInput } from "./config.ts";
import {
  manualClock,
  rightOf,
  type ScriptedGroup,
  scriptedPolicy,
  scriptedScorer,
  stubItem,
  WRONG_REWARD,
} from "./figures.fixture.ts";
import type { Policy } from "./policy.ts";
import { StepMetrics as StepMetricsSchema } from "./step-metrics.ts";
import {
  initialTrainerState,
  type RlContext,
  rlStep,
  runRl,
  type Scorer,
  type StepMetrics,
} from "./trainer.ts";
import { initialPromptStats } from "./trainer-phases.ts";

/** Every `StepMetrics` key this file pins; a new figure must get a test here before it joins this list. */
const PINNED_STEP_FIGURES = [
  "step",
  "reward",
  "accuracy",
  "signalShare",
  "sampledSignalRate",
  "invalidRate",
  "verifierErrors",
  "ratioEma",
  "promptsSampled",
  "rounds",
  "rolloutsSampled",
  "rolloutsTotal",
  "balance",
  "fill",
  "microSteps",
  "tokensPerSec",
  "lr",
  "loss",
  "clipFraction",
  "gradNorm",
  "difficultyHistogram",
  "familyAccuracy",
  "timings",
  "calibration",
  "heldout",
  "expertLoad",
] satisfies (keyof StepMetrics)[];

const close = (x: number) => expect.closeTo(x, 12);
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

function contextFor(
  items: readonly TaskItem[],
  rl: RlConfigInput["rl"],
  policy: Policy,
  score: Scorer,
): RlContext {
  return {
    config: RlConfig.parse({ rl }).rl,
    seed: 11,
    policy,
    items: new Map(items.map((i) => [i.id, i])),
    toPrompt: (item) => ({ id: item.id, messages: [], images: [] }),
    score,
    state: initialTrainerState(initialPromptStats(items)),
  };
}

let clock: ReturnType<typeof manualClock>;
beforeEach(() => {
  clock = manualClock();
});
afterEach(() => clock.restore());

describe("StepMetrics of one scripted step", () => {
  it("works out every figure by hand: rewards, shares, family accuracy, fill, tokens/s, lr, histogram, timings", async () => {
    // two counting prompts (levels 1 and 2) and one math prompt; 4 rollouts each, 10 prompt tokens each
    const items = [stubItem("c1", "counting", 1), stubItem("c2", "counting", 2), stubItem("m1", "math", 1)];
    const script: Record<string, ScriptedGroup> = {
      c1: { right: rightOf(3, 4), tokens: [2, 4, 6, 8] },
      c2: { right: rightOf(4, 4), tokens: [3, 3, 3, 3] }, // all right: no signal
      m1: { right: rightOf(1, 4), tokens: [5, 5, 5, 5] },
    };
    const expertLoad = [{ layer: 1, maxOverMean: 1.5, idleExperts: 2 }];
    const policy = scriptedPolicy({
      group: (id) => script[id]!,
      promptTokens: 10,
      clock,
      genSeconds: 2,
      updateSeconds: 1,
      updateMetrics: {
        loss: 0.125,
        clipFraction: 0.0625,
        gradNorm: 3,
        tokens: 52,
        microSteps: 7,
        seconds: 1,
        expertLoad,
      },
    });
    const ctx = contextFor(
      items,
      {
        batchPrompts: 3,
        groupSize: 4,
        refillRounds: 0,
        sampler: "uniform",
        ranks: 1,
        packContext: 100,
        maxSeqsPerMicroBatch: 64,
        lr: 1e-3,
        warmupSteps: 4,
      },
      policy,
      scriptedScorer(clock, 0.5),
    );
    const { metrics } = await rlStep(ctx, 1);

    // 12 rollouts: 3 + 4 + 1 = 8 right (reward 1), 4 wrong (reward 0.2)
    expect(metrics.reward).toEqual(close((8 + 4 * WRONG_REWARD) / 12));
    expect(metrics.accuracy).toEqual(close(8 / 12));
    // per family, right rollouts over that family's rollouts: counting 7 of 8, math 1 of 4
    expect(metrics.familyAccuracy).toEqual({ counting: close(7 / 8), math: close(1 / 4) });
    // c2 agrees with itself: 2 of 3 sampled groups have signal; the batch of 3 is topped up with c2
    expect(metrics.sampledSignalRate).toEqual(close(2 / 3));
    expect(metrics.invalidRate).toEqual(close(1 / 3));
    expect(metrics.signalShare).toEqual(close(2 / 3));
    // the first observation sets the EMA: 1 / (1 − 1/3)
    expect(metrics.ratioEma).toEqual(close(1.5));
    expect(metrics).toMatchObject({
      step: 1,
      promptsSampled: 3,
      rounds: 1,
      rolloutsSampled: 12,
      rolloutsTotal: 12,
    });
    // generated tokens (20 + 12 + 20) over the 2 s of generation, not over the 3.5 s step
    expect(metrics.tokensPerSec).toEqual(close(52 / 2));
    // each sequence is prompt + response: 120 + 52 = 172 tokens; that needs 2 micro-batches of 100 and first-fit
    // decreasing finds 2, so 172 of 200 slots are used; one rank is balanced by definition
    expect(metrics.fill).toEqual(close(172 / 200));
    expect(metrics.balance).toBe(1);
    expect(policy.updates[0]!.batch.microBatches).toHaveLength(2);
    // step 1 of a 4-step warm-up: a quarter of the lr, and that is the lr the update got
    expect(metrics.lr).toEqual(close(2.5e-4));
    expect(policy.updates[0]!.params.lr).toBe(metrics.lr);
    // the update's own figures pass through
    expect(metrics).toMatchObject({
      loss: 0.125,
      clipFraction: 0.0625,
      gradNorm: 3,
      microSteps: 7,
      expertLoad,
    });
    // p̂ = (right + 2 · (1 − level / 4)) / (4 + 2): c1 4.5 / 6 = 0.75, c2 5 / 6 ≈ 0.83, m1 2.5 / 6 ≈ 0.42
    expect(metrics.difficultyHistogram).toEqual([0, 0, 0, 0, 1, 0, 0, 1, 1, 0]);
    // the clock moved only in generate (2 s), scoring (0.5 s) and the update (1 s)
    expect(metrics.timings).toEqual({
      sample: 0,
      gen: 2,
      reward: 0.5,
      observe: 0,
      subsample: 0,
      adv: 0,
      pack: 0,
      update: 1,
      step: 3.5,
    });
    expect(metrics.calibration).toBeUndefined();
    expect(metrics.heldout).toBeUndefined();
    for (const key of Object.keys(metrics)) expect(PINNED_STEP_FIGURES).toContain(key);
    // the record is what the schema describes, no figure more (metrics.jsonl is read back through it)
    expect(StepMetricsSchema.strict().parse(metrics)).toEqual(metrics);
  });

  it("counts rollouts whose verifier threw apart from wrong answers (verifierErrors)", async () => {
    const policy = scriptedPolicy({ group: () => ({ right: [true, false, false, false] }) });
    const scored = scriptedScorer();
    // the third rollout's verifier threw: reward 0, stage verifier_error; the other wrong ones are plain wrong
    const scorer: Scorer = async (inputs) =>
      (await scored(inputs)).map((r, k) =>
        k === 2 ? { ...r, reward: 0, stage: "verifier_error", reason: "verifier error: boom" } : r,
      );
    const ctx = contextFor(
      [stubItem("c1", "counting", 1)],
      { batchPrompts: 1, groupSize: 4, refillRounds: 0, sampler: "uniform" },
      policy,
      scorer,
    );
    const { metrics } = await rlStep(ctx, 1);
    expect(metrics.verifierErrors).toBe(1);
    expect(metrics.accuracy).toEqual(close(1 / 4));
    expect(metrics.reward).toEqual(close((1 + 2 * WRONG_REWARD) / 4));
  });

  it("pins every figure of the StepMetrics schema, and no other", () => {
    expect(Object.keys(StepMetricsSchema.shape).sort()).toEqual([...PINNED_STEP_FIGURES].sort());
  });

  it("counts every refill round in the sampled figures and carries the ratio EMA and rollout total across steps", async () => {
    const items = Array.from({ length: 8 }, (_, i) => stubItem(`c${i}`, "counting", 1));
    // by generate call: step 1 finds no signal, then 2 groups with it; step 2 finds 1 of 4, then none
    const calls: ((i: number) => boolean[])[] = [
      () => [true, true],
      () => [true, false],
      (i) => (i === 0 ? [true, false] : [true, true]),
      () => [false, false],
    ];
    const policy = scriptedPolicy({
      group: (_, call, i) => ({ right: calls[call]!(i) }),
      clock,
      genSeconds: 1,
    });
    const ctx = contextFor(
      items,
      { batchPrompts: 2, groupSize: 2, refillRounds: 1, sampler: "uniform" },
      policy,
      scriptedScorer(),
    );
    const first = (await rlStep(ctx, 1)).metrics;
    expect(first).toMatchObject({ rounds: 2, promptsSampled: 4, rolloutsSampled: 8, rolloutsTotal: 8 });
    expect(first.sampledSignalRate).toEqual(close(2 / 4));
    expect(first.invalidRate).toEqual(close(2 / 4));
    expect(first.signalShare).toEqual(close(1));
    expect(first.ratioEma).toEqual(close(2)); // 1 / (1 − 1/2)
    expect(first.accuracy).toEqual(close(6 / 8));
    expect(first.reward).toEqual(close((6 + 2 * WRONG_REWARD) / 8));

    const second = (await rlStep(ctx, 2)).metrics;
    // ceil(2 · 2) prompts first, then ceil(1 · 2) for the one group still missing
    expect(policy.generateCalls.map((c) => c.prompts.length)).toEqual([2, 2, 4, 2]);
    expect(second).toMatchObject({ rounds: 2, promptsSampled: 6, rolloutsSampled: 12, rolloutsTotal: 20 });
    expect(second.sampledSignalRate).toEqual(close(1 / 6));
    expect(second.invalidRate).toEqual(close(5 / 6));
    // one group with signal in a batch of 2: the other place is a filler without signal
    expect(second.signalShare).toEqual(close(1 / 2));
    // 1 / (1 − 5/6) = 6 is capped at 4, then folded in with α = 0.3: 0.3 · 4 + 0.7 · 2
    expect(second.ratioEma).toEqual(close(2.6));
    expect(second.accuracy).toEqual(close(7 / 12));
    expect(policy.updates.map((u) => u.batch.samples.length)).toEqual([4, 4]);
  });
});

describe("the advantage config reaches the update", () => {
  // a: 1 right of 4 (rewards 1, 0.2, 0.2, 0.2: mean 0.4, std √0.12); b: all right, no signal
  const run = async (rl: RlConfigInput["rl"]) => {
    const items = [stubItem("a", "counting", 1), stubItem("b", "counting", 1)];
    const policy = scriptedPolicy({ group: (id) => ({ right: rightOf(id === "a" ? 1 : 4, 4) }) });
    const ctx = contextFor(
      items,
      { batchPrompts: 2, groupSize: 4, refillRounds: 0, sampler: "uniform", ...rl },
      policy,
      scriptedScorer(),
    );
    await rlStep(ctx, 1);
    const byPrompt = (id: string) =>
      policy.updates[0]!.batch.samples.filter((s) => s.prompt.id === id).map((s) => s.advantage);
    return { a: byPrompt("a"), b: byPrompt("b") };
  };
  const near = (xs: number[]) => xs.map((x) => expect.closeTo(x, 5));

  it("drGrpo: reward minus the group mean", async () => {
    const { a, b } = await run({ advantage: "drGrpo" });
    expect(a).toEqual(near([0.6, -0.2, -0.2, -0.2]));
    expect(b).toEqual([0, 0, 0, 0]);
  });

  it("grpo, the default: divided by the group's standard deviation too", async () => {
    for (const rl of [{}, { advantage: "grpo" as const }]) {
      const { a, b } = await run(rl);
      // 0.6 / √0.12 = √3 and 0.2 / √0.12 = 1 / √3
      expect(a).toEqual(near([Math.sqrt(3), -1 / Math.sqrt(3), -1 / Math.sqrt(3), -1 / Math.sqrt(3)]));
      expect(b).toEqual([0, 0, 0, 0]);
    }
  });
});

describe("the learning-rate warm-up", () => {
  const lrs = async (rl: RlConfigInput["rl"], steps: number[]) => {
    const policy = scriptedPolicy({ group: () => ({ right: rightOf(1, 2) }) });
    const ctx = contextFor(
      [stubItem("a", "counting", 1)],
      { batchPrompts: 1, groupSize: 2, ...rl },
      policy,
      scriptedScorer(),
    );
    const metrics = [];
    for (const step of steps) metrics.push((await rlStep(ctx, step)).metrics.lr);
    expect(policy.updates.map((u) => u.params.lr)).toEqual(metrics);
    return metrics;
  };

  it("rises linearly to the configured lr over warmupSteps (step 1 is the first), then holds", async () => {
    const got = await lrs({ lr: 1e-3, warmupSteps: 4 }, [1, 2, 3, 4, 5, 6]);
    expect(got).toEqual([0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3, 1e-3].map(close));
    expect(await lrs({ lr: 1e-3, warmupSteps: 0 }, [1, 2])).toEqual([1e-3, 1e-3]);
  });

  it("defaults to lr 5e-4 reached after a 10-step warm-up (the README's run)", async () => {
    expect(await lrs({}, [1, 5, 10, 11])).toEqual([5e-5, 2.5e-4, 5e-4, 5e-4].map(close));
  });
});

describe("the calibration window", () => {
  it("fits the rescored likelihoods on the pairs of the last 3 steps by default, and applies the fit", async () => {
    const items = Array.from({ length: 8 }, (_, i) => stubItem(`c${i}`, "counting", 1));
    const likelihood = 0.3;
    // every group: 3 of 4 right, so each step keeps 2 groups with signal and the ratio EMA stays at 1
    const policy = scriptedPolicy({ group: () => ({ right: rightOf(3, 4) }) });
    const ctx = contextFor(
      items,
      { batchPrompts: 2, groupSize: 4, refillRounds: 0, curriculum: { rescorePerStep: 4 } },
      policy,
      scriptedScorer(),
    );
    const rescored: string[][] = [];
    ctx.referenceLikelihood = async (asked) => {
      rescored.push(asked.map((i) => i.id));
      return asked.map(() => likelihood);
    };
    const steps: { metrics: StepMetrics; sampled: string[] }[] = [];
    for (let step = 1; step <= 6; step++) {
      const { metrics, rollouts } = await rlStep(ctx, step);
      steps.push({ metrics, sampled: [...new Set(rollouts.map((r) => r.promptId))] });
      // a prompt rescored at this step but not sampled keeps its fresh difficulty: 1 − σ(a · logit ℓ + b)
      const idle = rescored[step - 1]!.find((id) => !steps.at(-1)!.sampled.includes(id))!;
      const { slope, intercept } = metrics.calibration!;
      expect(ctx.state.prompts.get(idle)!.offlineDifficulty).toEqual(
        close(1 - sigmoid(slope * logit(likelihood) + intercept)),
      );
    }
    // 2 rescored prompts sampled per step; steps 4–6 see those of the 3 steps before them, not 2 or 4
    expect(steps.map((s) => s.metrics.calibration!.samples)).toEqual([0, 2, 4, 6, 6, 6]);
    for (const [k, { metrics }] of steps.entries()) {
      const window = steps.slice(Math.max(0, k - 3), k);
      const pairs = window.flatMap((s, j) =>
        s.sampled.map(() => ({ step: k - window.length + j + 1, likelihood, right: 3, trials: 4 })),
      );
      const fit = fitCalibration(pairs, 2);
      expect(metrics.calibration).toEqual({
        slope: close(fit.slope),
        intercept: close(fit.intercept),
        samples: pairs.length,
      });
    }
    // 3 of 4 right at likelihood 0.3: the fit moves the pass rate up from 0.3
    const last = steps.at(-1)!.metrics.calibration!;
    expect(sigmoid(last.slope * logit(likelihood) + last.intercept)).toBeGreaterThan(0.5);
  });
});

describe("runRl", () => {
  it("attaches the held-out result to the steps it evaluated, and only to those", async () => {
    const policy = scriptedPolicy({ group: () => ({ right: rightOf(1, 2) }) });
    const ctx = contextFor(
      [stubItem("a", "counting", 1)],
      { batchPrompts: 1, groupSize: 2, evalEvery: 2 },
      policy,
      scriptedScorer(),
    );
    const evaluate = async (step: number) => ({
      accuracy: step / 10,
      perFamily: { counting: step / 10 },
      items: 3,
    });
    const { metrics } = await runRl(ctx, { steps: 5, evaluate });
    expect(metrics.map((m) => m.heldout?.accuracy)).toEqual([undefined, 0.2, undefined, 0.4, 0.5]);
    expect(metrics[3]!.heldout).toEqual({ accuracy: 0.4, perFamily: { counting: 0.4 }, items: 3 });
  });
});
