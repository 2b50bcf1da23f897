import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildSuite, sftTarget } from "../../data/tasks/index.ts";
import type { TaskItem } from "../../data/tasks/types.ts";
import { mulberry32 } from "../../util/rng.ts";
import { parseRlConfig, RlConfig, type RlConfigInput } from "./config.ts";
import type { Policy, PolicyPrompt, Rollout, UpdateBatch } from "./policy.ts";
import { RunStore } from "./run-store.ts";
import { initialTrainerState, type RlContext, rlStep, runRl, type Scorer } from "./trainer.ts";
import { initialPromptStats } from "./trainer-phases.ts";

const ITEMS = buildSuite({ seed: 3, perFamily: 96, split: "train", families: ["counting"] });
const BY_ID = new Map(ITEMS.map((i) => [i.id, i]));

/** A policy whose rollouts are right with a fixed probability per prompt, drawn from the call's seed. */
class FixedRatePolicy implements Policy {
  updates: UpdateBatch[] = [];
  saves: string[] = [];
  loads: string[] = [];
  constructor(
    private readonly passRate: (id: string) => number,
    private readonly byId: ReadonlyMap<string, TaskItem> = BY_ID,
  ) {}
  async generate(
    prompts: readonly PolicyPrompt[],
    params: { n: number; seed: number },
  ): Promise<Rollout[][]> {
    return prompts.map((p, i) => {
      const rand = mulberry32(params.seed * 7919 + i);
      const item = this.byId.get(p.id)!;
      return Array.from({ length: params.n }, () => {
        const right = rand() < this.passRate(p.id);
        const answer = right ? item.responseAnswer : String(Number(item.responseAnswer) + 1);
        const text = sftTarget({ cot: item.cot, responseAnswer: answer }, "4.1v");
        const tokens = Array.from({ length: 6 + Math.floor(rand() * 6) }, (_, k) => k);
        return {
          promptId: p.id,
          tokens,
          logprobs: tokens.map(() => -1),
          injected: tokens.map(() => false),
          text,
          finished: true,
          promptTokens: 20,
        };
      });
    });
  }
  async update(batch: UpdateBatch) {
    this.updates.push(batch);
    return { loss: 0.1, clipFraction: 0, gradNorm: 1, tokens: 100, microSteps: 2, seconds: 0.01 };
  }
  async save(dir: string) {
    this.saves.push(dir);
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "weights.json"), JSON.stringify({ updates: this.updates.length }));
  }
  async load(dir: string) {
    this.loads.push(dir);
  }
  dispose() {}
}

/** Box content equals the gold answer (the reward system has its own tests; this loop test needs only 0/1). */
const score: Scorer = async (inputs) =>
  inputs.map((i) => {
    const extracted = /<\|begin_of_box\|>(.*?)<\|end_of_box\|>/.exec(i.response)?.[1] ?? null;
    const correct = extracted === i.answer;
    return { reward: correct ? 1 : 0, correct, format: "ok", extracted, timedOut: false, stage: "verify" };
  });

function makeCtx(passRate: (id: string) => number, rl: RlConfigInput["rl"] = {}): RlContext {
  const config = RlConfig.parse({ rl: { rewardWorkers: 1, ...rl } }).rl;
  return {
    config,
    seed: 5,
    policy: new FixedRatePolicy(passRate),
    items: BY_ID,
    toPrompt: (item: TaskItem) => ({ id: item.id, messages: [], images: [] }),
    score,
    state: initialTrainerState(initialPromptStats(ITEMS)),
  };
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "glmv-trainer-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("rlStep", () => {
  it("trains a full batch of groups with signal when every prompt is half solved", async () => {
    const ctx = makeCtx(() => 0.5);
    const { metrics, rollouts } = await rlStep(ctx, 1);
    const policy = ctx.policy as FixedRatePolicy;
    expect(metrics.signalShare).toBe(1);
    expect(metrics.rounds).toBe(1);
    expect(metrics.promptsSampled).toBe(16);
    expect(policy.updates).toHaveLength(1);
    const batch = policy.updates[0]!;
    expect(batch.samples).toHaveLength(16 * 8);
    // every sample lands in exactly one micro-batch
    expect(
      batch.microBatches
        .flat()
        .slice()
        .sort((a, b) => a - b),
    ).toEqual(batch.samples.map((_, i) => i));
    // advantages are group-normalised: each group's advantages sum to ~0
    for (let g = 0; g < 16; g++) {
      const sum = batch.samples.slice(g * 8, g * 8 + 8).reduce((s, x) => s + x.advantage, 0);
      expect(Math.abs(sum)).toBeLessThan(1e-6);
    }
    expect(rollouts).toHaveLength(16 * 8);
    expect(rollouts[0]!.result.stage).toBeDefined();
    expect(metrics.reward).toBeGreaterThan(0.2);
    expect(metrics.reward).toBeLessThan(0.8);
    for (const k of ["sample", "gen", "reward", "observe", "subsample", "adv", "pack", "update", "step"]) {
      expect(metrics.timings[k]).toBeGreaterThanOrEqual(0);
    }
    expect(metrics.balance).toBeGreaterThanOrEqual(1);
    expect(metrics.fill).toBeGreaterThan(0);
    expect(metrics.difficultyHistogram.reduce((a, b) => a + b, 0)).toBe(ITEMS.length);
  });

  it("rescores prompts under the current policy before an RLCS step, and samples from the fresh scores", async () => {
    const mid = new Set(ITEMS.slice(0, 24).map((i) => i.id));
    const ctx = makeCtx(() => 0.5, { curriculum: { rescorePerStep: ITEMS.length } });
    const asked: string[][] = [];
    ctx.referenceLikelihood = async (items) => {
      asked.push(items.map((i) => i.id));
      return items.map((i) => (mid.has(i.id) ? 0.5 : 1)); // the rest look trivially easy now
    };
    const { metrics, rollouts } = await rlStep(ctx, 1);
    expect(asked).toHaveLength(1);
    expect(new Set(asked[0])).toEqual(new Set(BY_ID.keys()));
    expect(metrics.timings.rescore).toBeGreaterThanOrEqual(0);
    const sampled = new Set(rollouts.map((r) => r.promptId));
    expect([...sampled].every((id) => mid.has(id))).toBe(true);
    // the unsampled prompts carry the fresh prior and no online counts
    const easy = ITEMS.find((i) => !mid.has(i.id))!;
    expect(ctx.state.prompts.get(easy.id)).toEqual({
      offlineDifficulty: 0,
      successes: 0,
      trials: 0,
      step: 1,
    });

    // a subset per step, drawn by (seed, step); never under uniform sampling or with rescoring off
    const some = makeCtx(() => 0.5, { curriculum: { rescorePerStep: 10 } });
    const subsets: string[][] = [];
    some.referenceLikelihood = async (items) => {
      subsets.push(items.map((i) => i.id));
      return items.map(() => 0.5);
    };
    await rlStep(some, 1);
    await rlStep(some, 2);
    expect(subsets.map((ids) => new Set(ids).size)).toEqual([10, 10]);
    expect(subsets[0]).not.toEqual(subsets[1]);
    for (const rl of [{ sampler: "uniform" as const }, { curriculum: { rescorePerStep: 0 } }]) {
      const off = makeCtx(() => 0.5, rl);
      off.referenceLikelihood = async () => {
        throw new Error("must not rescore");
      };
      const { metrics: m } = await rlStep(off, 1);
      expect(m.timings.rescore).toBeUndefined();
    }
  });

  it("samples an RLCS step's rounds from the prompts it has just rescored, by their fresh scores", async () => {
    const ctx = makeCtx(() => 0.5, { curriculum: { rescorePerStep: 24 }, refillRounds: 0 });
    let candidates: string[] = [];
    ctx.referenceLikelihood = async (items) => {
      candidates = items.map((i) => i.id);
      // 18 of the 24 are mid-band under the current policy, 6 already solved
      return items.map((_, k) => (k < 18 ? 0.5 : 1));
    };
    const { rollouts } = await rlStep(ctx, 1);
    expect(candidates).toHaveLength(24);
    // 16 prompts are sampled from the 24 just rescored (the other 72 have the same stale prior), mostly mid-band
    const sampled = new Set(rollouts.map((r) => r.promptId));
    expect(sampled.size).toBe(16);
    expect([...sampled].every((id) => candidates.includes(id))).toBe(true);
    expect([...sampled].filter((id) => candidates.indexOf(id) < 18).length).toBeGreaterThanOrEqual(15);

    // fewer candidates than the step samples: all of them, then the rest of the pool by weight
    const few = makeCtx(() => 0.5, { curriculum: { rescorePerStep: 10 }, refillRounds: 0 });
    let fewCandidates: string[] = [];
    few.referenceLikelihood = async (items) => {
      fewCandidates = items.map((i) => i.id);
      return items.map(() => 0.5);
    };
    const fewSampled = new Set((await rlStep(few, 1)).rollouts.map((r) => r.promptId));
    expect(fewSampled.size).toBe(16);
    expect(fewCandidates.every((id) => fewSampled.has(id))).toBe(true);
  });

  it("calibrates rescored likelihoods on the pass rates their groups showed, and samples the band that disagrees", async () => {
    // late RL: prompts whose reference likelihood looks mid-band (0.5) are solved by nearly every rollout, while
    // those that look hard (0.1) are the ones still half solved
    const looksMid = new Set(ITEMS.filter((_, i) => i % 2 === 0).map((i) => i.id));
    const run = async (calibrationSteps: number) => {
      const ctx = makeCtx((id) => (looksMid.has(id) ? 0.98 : 0.5), {
        curriculum: { rescorePerStep: ITEMS.length, calibrationSteps },
        refillRounds: 0,
      });
      ctx.referenceLikelihood = async (items) => items.map((i) => (looksMid.has(i.id) ? 0.5 : 0.1));
      const steps = [];
      for (let step = 1; step <= 6; step++) steps.push(await rlStep(ctx, step));
      const late = steps.slice(3).flatMap((s) => s.rollouts);
      return {
        hardShare: late.filter((r) => !looksMid.has(r.promptId)).length / late.length,
        metrics: steps.map((s) => s.metrics),
      };
    };
    const raw = await run(0);
    const calibrated = await run(3);
    expect(raw.hardShare).toBeLessThan(0.4);
    expect(calibrated.hardShare).toBeGreaterThan(0.7);
    expect(calibrated.metrics.at(-1)!.sampledSignalRate).toBeGreaterThan(
      raw.metrics.at(-1)!.sampledSignalRate,
    );
    // the map starts at the identity and moves toward higher pass rates; its pairs are the last 3 steps' groups
    const [first, second] = calibrated.metrics;
    expect(first!.calibration).toEqual({ slope: 1, intercept: 0, samples: 0 });
    expect(second!.calibration!.intercept).toBeGreaterThan(0.5);
    expect(second!.calibration!.samples).toBe(first!.promptsSampled);
    expect(calibrated.metrics[5]!.calibration!.samples).toBe(
      calibrated.metrics.slice(2, 5).reduce((n, m) => n + m.promptsSampled, 0),
    );
    expect(raw.metrics.at(-1)!.calibration).toEqual({ slope: 1, intercept: 0, samples: 0 });
  });

  it("refills when most groups lack signal, and tops the batch up without signal when it cannot", async () => {
    // only 1 prompt in 8 is ever wrong-or-right mixed; the rest are always solved
    const mixed = new Set(ITEMS.filter((_, i) => i % 8 === 0).map((i) => i.id));
    const ctx = makeCtx((id) => (mixed.has(id) ? 0.5 : 1), { sampler: "uniform" });
    const { metrics } = await rlStep(ctx, 1);
    expect(metrics.rounds).toBeGreaterThan(1);
    expect(metrics.rounds).toBeLessThanOrEqual(4);
    expect(metrics.sampledSignalRate).toBeLessThan(0.4);
    expect(metrics.invalidRate).toBeCloseTo(1 - metrics.sampledSignalRate, 9);
    const batch = (ctx.policy as FixedRatePolicy).updates[0]!;
    expect(batch.samples).toHaveLength(16 * 8);
    const withSignal = Math.round(metrics.signalShare * 16);
    // groups without signal carry zero advantage
    expect(batch.samples.filter((s) => s.advantage !== 0).length).toBeLessThanOrEqual(withSignal * 8);
    expect(metrics.rolloutsSampled).toBe(metrics.promptsSampled * 8);
  });

  it("oversamples by the ratio EMA: half-invalid steps make the next step sample twice the prompts", async () => {
    const ctx = makeCtx((id) => (Number(id.split("-").at(-1)) % 2 === 0 ? 0.5 : 1), {
      sampler: "uniform",
      refillRounds: 0,
    });
    const first = await rlStep(ctx, 1);
    expect(first.metrics.promptsSampled).toBe(16);
    expect(first.metrics.ratioEma).toBeCloseTo(1 / (1 - first.metrics.invalidRate), 9);
    const second = await rlStep(ctx, 2);
    expect(second.metrics.promptsSampled).toBe(Math.ceil(16 * first.metrics.ratioEma - 1e-9));
    expect(second.metrics.promptsSampled).toBeGreaterThan(24);
  });

  it("records every sampled group in the curriculum and RLCS then avoids solved prompts", async () => {
    const solved = new Set(ITEMS.filter((_, i) => i % 2 === 0).map((i) => i.id));
    const ctx = makeCtx((id) => (solved.has(id) ? 1 : 0.5), { refillRounds: 0 });
    const { rollouts } = await rlStep(ctx, 1);
    const sampled = new Set(rollouts.map((r) => r.promptId));
    for (const id of sampled) expect(ctx.state.prompts.get(id)!.trials).toBe(8);
    for (let step = 2; step <= 6; step++) await rlStep(ctx, step);
    const late = await rlStep(ctx, 7);
    const lateSolved = late.rollouts.filter((r) => solved.has(r.promptId)).length / late.rollouts.length;
    expect(lateSolved).toBeLessThan(0.35);
  });
});

describe("runRl", () => {
  it("checkpoints every K steps and after the last, and logs each step once", async () => {
    const dir = tempDir();
    const cfg = parseRlConfig({ rl: { steps: 5, checkpointEvery: 2, evalEvery: 2 } });
    const store = await RunStore.create(dir, RlConfig, cfg);
    const ctx = makeCtx(() => 0.5, cfg.rl);
    const evals: number[] = [];
    const evaluate = async (step: number) => {
      evals.push(step);
      return { accuracy: 0.5, perFamily: { counting: 0.5 }, items: 10 };
    };
    await runRl(ctx, { steps: 5, store, evaluate });
    const policy = ctx.policy as FixedRatePolicy;
    expect(policy.saves).toHaveLength(3);
    expect(evals).toEqual([2, 4, 5]);
    expect(store.readMetrics().map((m) => m.step)).toEqual([1, 2, 3, 4, 5]);
    expect(store.latestCheckpoint()!.step).toBe(5);
    expect(store.readRollouts(3)).toHaveLength(128);
    store.close();
  });

  it("stops after the first step `until` accepts, evaluating and checkpointing it as a last step", async () => {
    const cfg = parseRlConfig({ rl: { steps: 10, checkpointEvery: 4, evalEvery: 4 } });
    const store = await RunStore.create(tempDir(), RlConfig, cfg);
    const evals: number[] = [];
    const evaluate = async (step: number) => {
      evals.push(step);
      return { accuracy: 0.5, perFamily: { counting: 0.5 }, items: 10 };
    };
    const ctx = makeCtx(() => 0.5, cfg.rl);
    const { metrics } = await runRl(ctx, { steps: 10, store, evaluate, until: (m) => m.step === 6 });
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(evals).toEqual([4, 6]);
    expect(metrics.at(-1)!.heldout).toBeDefined();
    expect(store.latestCheckpoint()!.step).toBe(6);
    store.close();
  });

  it.each([0, 20])(
    "resumes after a crash with each step logged once and the uninterrupted run's curriculum (%i rescored per step)",
    async (rescorePerStep) => {
      const cfg = parseRlConfig({
        rl: { steps: 5, checkpointEvery: 2, evalEvery: 0, curriculum: { rescorePerStep } },
      });
      const rate = (id: string) => (Number(id.split("-").at(-1)) % 3) / 2;
      const ctxFor = () => {
        const ctx = makeCtx(rate, cfg.rl);
        ctx.referenceLikelihood = async (items) => items.map((i) => rate(i.id) * 0.9);
        return ctx;
      };
      // uninterrupted
      const a = await RunStore.create(tempDir(), RlConfig, cfg);
      await runRl(ctxFor(), { steps: 5, store: a });
      // a crash while logging step 3 (the last checkpoint is step 2), then resume
      const bDir = tempDir();
      const b2 = await RunStore.create(bDir, RlConfig, cfg);
      const crashed = ctxFor();
      let stop = false;
      await runRl(crashed, {
        steps: 5,
        store: b2,
        onStep: (m) => {
          if (m.step === 3) stop = true;
          if (stop) throw new Error("crash");
        },
      }).catch(() => undefined);
      const resumed = ctxFor();
      const result = await runRl(resumed, { steps: 5, store: b2, resume: true });
      expect(result.firstStep).toBe(3);
      expect((resumed.policy as FixedRatePolicy).loads).toHaveLength(1);
      expect(b2.readMetrics().map((m) => m.step)).toEqual([1, 2, 3, 4, 5]);
      expect(b2.loadPrompts()).toEqual(a.loadPrompts());
      expect(b2.readMetrics().map((m) => m.rolloutsTotal)).toEqual(
        a.readMetrics().map((m) => m.rolloutsTotal),
      );
      expect(b2.readMetrics().map((m) => "rescore" in (m.timings as Record<string, number>))).toEqual(
        Array(5).fill(rescorePerStep > 0),
      );
      expect(readFileSync(join(bDir, "config.yaml"), "utf8")).toContain("batchPrompts: 16");
      a.close();
      b2.close();
    },
  );
});

describe("samplePromptIds", () => {
  it("draws sharply from the prompts rescored this step and softly from the stale pool", async () => {
    const { samplePromptIds } = await import("./trainer-phases.ts");
    const { newPromptStats } = await import("../algorithm/curriculum.ts");
    // 50 prompts estimated at p̂ = 0.5 (a group of 8 almost surely disagrees), 50 at 0.85 (signal 0.73)
    const stats = new Map(
      Array.from({ length: 100 }, (_, i) => [`p${i}`, newPromptStats(i < 50 ? 0.5 : 0.15)] as const),
    );
    const cfg = RlConfig.parse({}).rl;
    const lessSure = (ids: string[]) => ids.filter((id) => Number(id.slice(1)) >= 50).length;
    let fresh = 0;
    let stale = 0;
    for (let k = 0; k < 20; k++) {
      fresh += lessSure(
        samplePromptIds(
          stats,
          { n: 16, step: 1, rand: mulberry32(k), exclude: new Set(), preferred: new Set(stats.keys()) },
          cfg,
        ),
      );
      stale += lessSure(
        samplePromptIds(stats, { n: 16, step: 1, rand: mulberry32(k), exclude: new Set() }, cfg),
      );
    }
    // fresh: weight 0.73^16 ≈ 0.007 against ≈ 1; stale: 0.73^2 + 0.02 ≈ 0.55 against ≈ 1
    expect(fresh / 320).toBeLessThan(0.05);
    expect(stale / 320).toBeGreaterThan(0.2);
  });
});

describe("packBatch", () => {
  it("caps the sequences per micro-batch (image slots of a packed row) and keeps every sample once", async () => {
    const { packBatch } = await import("./trainer-phases.ts");
    const ctx = makeCtx(() => 0.5);
    const [group] = await ctx.policy.generate([ctx.toPrompt(ITEMS[0]!)], {
      n: 32,
      temperature: 1,
      topP: 1,
      maxNewTokens: 8,
      thinkBudget: 8,
      style: "4.1v",
      seed: 1,
    });
    const samples = group!.map((rollout) => ({ prompt: ctx.toPrompt(ITEMS[0]!), rollout, advantage: 0 }));
    const { batch } = packBatch(samples, { ranks: 2, packContext: 1024, maxSeqsPerMicroBatch: 5 });
    const micro = batch.microBatches;
    expect(Math.max(...micro.map((m) => m.length))).toBeLessThanOrEqual(5);
    expect(micro.flat().sort((a, b) => a - b)).toEqual(samples.map((_, i) => i));
  });
});

describe("groups carry their mean and signal", () => {
  const result = (reward: number) => ({
    reward,
    correct: reward === 1,
    format: "ok" as const,
    extracted: null,
    timedOut: false,
    stage: "verify" as const,
  });

  it("toGroups works out each group's mean reward and signal once, at the step's signalEps", async () => {
    const { toGroups } = await import("./trainer-phases.ts");
    const items = ITEMS.slice(0, 3);
    const rollouts = items.map(() => [{}, {}] as Rollout[]);
    const prompts = items.map((i) => ({ id: i.id, messages: [], images: [] }));
    // rewards per group: [1, 0] (signal), [1, 1] (none), [0.5, 0.5 + 1e-4] (signal only below eps 5e-5)
    const results = [1, 0, 1, 1, 0.5, 0.5 + 1e-4].map(result);
    const groups = toGroups({ round: 2, items, prompts, rollouts }, results, 1e-6);
    expect(groups.map((g) => [g.round, g.signal])).toEqual([
      [2, true],
      [2, false],
      [2, true],
    ]);
    expect(groups.map((g) => g.mean)).toEqual([0.5, 1, expect.closeTo(0.50005, 12)]);
    expect(toGroups({ round: 0, items, prompts, rollouts }, results, 1e-3).map((g) => g.signal)).toEqual([
      true,
      false,
      false,
    ]);
  });

  it("fillBatch draws the batch from the carried signal and mean as balancedSubsample drew it from rewards", async () => {
    const { fillBatch } = await import("./trainer-phases.ts");
    const { balancedSubsample } = await import("../algorithm/subsample.ts");
    const { meanStd } = await import("../algorithm/advantages.ts");
    const rand = mulberry32(5);
    const groups = Array.from({ length: 24 }, (_, i) => {
      const rewards = Array.from({ length: 4 }, () => (rand() < 0.6 ? 1 : 0));
      const { mean, std } = meanStd(rewards);
      return { promptId: `p${i}`, rewards, payload: null, mean, signal: std > 1e-6 };
    });
    for (const [seed, size] of [
      [1, 6],
      [2, 9],
      [3, 24],
    ] as const) {
      const withSignal = balancedSubsample(groups, size, mulberry32(seed), 1e-6).map((g) => g.promptId);
      const filler = groups.filter((g) => !g.signal).map((g) => g.promptId);
      const expected = [...withSignal, ...filler].slice(0, size);
      expect(fillBatch(groups, size, mulberry32(seed)).map((g) => g.promptId)).toEqual(expected);
    }
  });
});

describe("rlStep with an IoU threshold schedule (rl.iouSchedule)", () => {
  it("stamps each step's threshold on the grounding items it scores", async () => {
    const grounding = buildSuite({ seed: 3, perFamily: 8, split: "train", families: ["grounding"] });
    const seen: (number | undefined)[][] = [];
    const config = RlConfig.parse({
      rl: {
        rewardWorkers: 1,
        iouSchedule: {
          stages: [
            { fromStep: 0, threshold: 0.5 },
            { fromStep: 2, threshold: 0.75 },
          ],
        },
      },
    }).rl;
    const ctx: RlContext = {
      config,
      seed: 5,
      policy: new FixedRatePolicy(() => 0.5, new Map(grounding.map((i) => [i.id, i]))),
      items: new Map(grounding.map((i) => [i.id, i])),
      toPrompt: (item: TaskItem) => ({ id: item.id, messages: [], images: [] }),
      score: async (inputs) => {
        seen.push(inputs.map((i) => i.iouThreshold));
        return score(inputs);
      },
      state: initialTrainerState(initialPromptStats(grounding)),
    };
    await rlStep(ctx, 1);
    const first = seen.length;
    await rlStep(ctx, 2);
    expect(new Set(seen.slice(0, first).flat())).toEqual(new Set([0.5]));
    expect(new Set(seen.slice(first).flat())).toEqual(new Set([0.75]));
  });
});
