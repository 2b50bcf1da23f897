/**
 * The RL trainer (design.md "The data flow", §5.3–5.4): `rlStep` is one single-controller step that reads top to
 * bottom as its phases — (rescore →) sample → gen → reward → observe (refilled while too few groups have signal) →
 * ratio EMA → subsample → adv → pack → update — each inside `timed(...)`, with one metrics object per step. `runRl`
 * is the loop around it: run folder logging, held-out evaluations, checkpoints every K steps, and resume from the
 * last one.
 */
import type { TaskItem } from "../data/tasks/types.ts";
import type { ScoredResult, ScoreInput } from "../reward/system.ts";
import { deriveSeed, mulberry32 } from "../util/rng.ts";
import { hasSignal } from "./advantages.ts";
import {
  type Calibration,
  type CalibrationSample,
  calibratedPassRate,
  calibrationSamples,
  fitCalibration,
  IDENTITY_CALIBRATION,
  recentSamples,
} from "./calibration.ts";
import type { RlLoopConfig } from "./config.ts";
import { newPromptStats, type PromptStats, sampleUniform } from "./curriculum.ts";
import type { Policy, PolicyPrompt } from "./policy.ts";
import { initRatioEma, promptsToSample, type RatioEmaState, updateRatioEma } from "./ratio-ema.ts";
import type { RunStore } from "./run-store.ts";
import { invalidRate } from "./subsample.ts";
import type { RolloutRecord } from "./trainer-phases.ts";
import {
  curriculumOptions,
  familyAccuracy,
  fillBatch,
  learningRateAt,
  observeGroups,
  packBatch,
  passRateHistogram,
  rolloutRecords,
  type ScoredGroup,
  samplePromptIds,
  scoreInputs,
  toGroups,
  withAdvantages,
} from "./trainer-phases.ts";

/** Scores rollouts (the reward pool in a run, `scoreItem` in tests); timeouts are results, not errors. */
export type Scorer = (inputs: readonly ScoreInput[]) => Promise<ScoredResult[]>;

/** What the loop carries from step to step (and restores from a checkpoint). */
export type TrainerState = {
  prompts: Map<string, PromptStats>;
  ratioEma: RatioEmaState;
  /** Rollouts generated so far, all rounds included (the x axis of `--compare`). */
  rolloutsTotal: number;
  /** Rescored prompts' (likelihood, pass rate) pairs of the last `curriculum.calibrationSteps` steps. */
  calibration: CalibrationSample[];
};

export type RlContext = {
  config: RlLoopConfig;
  seed: number;
  policy: Policy;
  /** The training prompt pool by id. */
  items: ReadonlyMap<string, TaskItem>;
  toPrompt: (item: TaskItem) => PolicyPrompt;
  score: Scorer;
  /**
   * The current policy's probability of each item's reference response: with `curriculum.rescorePerStep`, RLCS
   * rescores that many random prompts' difficulty (1 − it) before each step. Absent: no rescoring.
   */
  referenceLikelihood?: ((items: readonly TaskItem[]) => Promise<number[]>) | undefined;
  state: TrainerState;
  /** Clock in ms (injected so tests can fix it). */
  now?: () => number;
};

/** Held-out accuracy at some step (from the caller's evaluator). */
export type HeldoutResult = {
  accuracy: number;
  perFamily: Record<string, number>;
  /** By difficulty level, when the evaluator reports it. */
  perLevel?: Record<string, number> | undefined;
  /**
   * Accuracy of one sample per item at the rollout temperature (top-p 1): the policy RL optimises. Greedy
   * `accuracy` only moves when an argmax flips; this moves as soon as the right answer gains probability.
   */
  sampledAccuracy?: number | undefined;
  items: number;
};

export type StepMetrics = {
  step: number;
  /** Mean reward and share correct over every rollout sampled this step. */
  reward: number;
  accuracy: number;
  /** Share of the trained batch made of groups with signal. */
  signalShare: number;
  /** Share of all sampled groups (every round) with signal. */
  sampledSignalRate: number;
  invalidRate: number;
  ratioEma: number;
  promptsSampled: number;
  rounds: number;
  rolloutsSampled: number;
  rolloutsTotal: number;
  balance: number;
  fill: number;
  microSteps: number;
  /** Generated tokens per second of generation time. */
  tokensPerSec: number;
  lr: number;
  loss: number;
  clipFraction: number;
  gradNorm: number;
  difficultyHistogram: number[];
  familyAccuracy: Record<string, number>;
  timings: Record<string, number>;
  /** RLCS with rescoring: the likelihood → pass-rate map this step's rescored prompts used, and its pairs. */
  calibration?: Calibration & { samples: number };
  heldout?: HeldoutResult;
  /** MoE policies: per MoE layer, max/mean expert load of the update's tokens and idle experts (`UpdateMetrics`). */
  expertLoad?: { layer: number; maxOverMean: number; idleExperts?: number }[];
};

export type { RolloutRecord } from "./trainer-phases.ts";

export type StepResult = { metrics: StepMetrics; rollouts: RolloutRecord[] };

/** Run `fn` as the named phase, adding its seconds to `timings[name]`. */
export async function timed<T>(
  timings: Record<string, number>,
  name: string,
  fn: () => T | Promise<T>,
  now: () => number = Date.now,
): Promise<T> {
  const t0 = now();
  try {
    return await fn();
  } finally {
    timings[name] = (timings[name] ?? 0) + (now() - t0) / 1000;
  }
}

export const initialTrainerState = (prompts: Map<string, PromptStats>): TrainerState => ({
  prompts,
  ratioEma: initRatioEma(),
  rolloutsTotal: 0,
  calibration: [],
});

/**
 * One RL step (1-based `step`). Mutates `ctx.state` (curriculum, ratio EMA, rollout count) and the policy.
 * @example const { metrics } = await rlStep(ctx, 1); metrics.signalShare // e.g. 1
 */
export async function rlStep(ctx: RlContext, step: number): Promise<StepResult> {
  const cfg = ctx.config;
  const now = ctx.now ?? Date.now;
  const timings: Record<string, number> = {};
  const rand = mulberry32(deriveSeed(ctx.seed, "rl-step", step));
  const curriculum = curriculumOptions(cfg);
  const stepStart = now();

  // 0. rescore: random prompts get a fresh difficulty under the current policy (RLCS with the likelihood prior),
  // their likelihood calibrated to a pass rate on the last steps' groups; this step's rounds then sample from
  // them first, so that no draw rests on a stale score
  let rescored: Map<string, number> | undefined;
  let calibration: (Calibration & { samples: number }) | undefined;
  if (cfg.sampler === "rlcs" && cfg.curriculum.rescorePerStep > 0 && ctx.referenceLikelihood) {
    const score = ctx.referenceLikelihood;
    const { calibrationSteps, calibrationPrior } = cfg.curriculum;
    const pairs = recentSamples(ctx.state.calibration, step, calibrationSteps);
    const fit = calibrationSteps > 0 ? fitCalibration(pairs, calibrationPrior) : IDENTITY_CALIBRATION;
    calibration = { ...fit, samples: pairs.length };
    rescored = await timed(timings, "rescore", async () => {
      const pick = mulberry32(deriveSeed(ctx.seed, "rl-rescore", step));
      const ids = sampleUniform([...ctx.state.prompts.keys()], cfg.curriculum.rescorePerStep, pick);
      const likelihood = await score(ids.map((id) => ctx.items.get(id)!));
      // the fresh difficulty replaces prior and online counts, which are all older than it
      for (const [i, id] of ids.entries())
        ctx.state.prompts.set(id, newPromptStats(1 - calibratedPassRate(fit, likelihood[i]!), step));
      return new Map(ids.map((id, i) => [id, likelihood[i]!]));
    });
  }

  // 1–4. sample → gen → reward → observe, refilled while fewer than B groups have signal
  const rescoredIds = rescored && new Set(rescored.keys());
  const groups: (ScoredGroup & { round: number })[] = [];
  const seen = new Set<string>();
  let rounds = 0;
  let genTokens = 0;
  for (let round = 0; round <= cfg.refillRounds; round++) {
    const missing = cfg.batchPrompts - groups.filter((g) => hasSignal(g.rewards, cfg.signalEps)).length;
    if (missing <= 0) break;
    const want = promptsToSample(round === 0 ? cfg.batchPrompts : missing, ctx.state.ratioEma);
    const ids = await timed(timings, "sample", () =>
      samplePromptIds(ctx.state.prompts, want, step, rand, cfg, seen, rescoredIds),
    );
    if (ids.length === 0) break;
    for (const id of ids) seen.add(id);
    const items = ids.map((id) => ctx.items.get(id)!);
    const prompts = items.map(ctx.toPrompt);
    const rollouts = await timed(timings, "gen", () =>
      ctx.policy.generate(prompts, {
        n: cfg.groupSize,
        temperature: cfg.temperature,
        topP: cfg.topP,
        maxNewTokens: cfg.maxNewTokens,
        thinkBudget: cfg.thinkBudget,
        style: cfg.style,
        seed: deriveSeed(ctx.seed, "rl-gen", step, round),
      }),
    );
    genTokens += rollouts.flat().reduce((n, r) => n + r.tokens.length, 0);
    const results = await timed(timings, "reward", () => ctx.score(scoreInputs(items, rollouts, cfg.style)));
    const fresh = toGroups(items, prompts, rollouts, results);
    await timed(timings, "observe", () => observeGroups(ctx.state.prompts, step, fresh, curriculum));
    groups.push(...fresh.map((g) => ({ ...g, round })));
    rounds = round + 1;
  }
  if (rescored && cfg.curriculum.calibrationSteps > 0) {
    const window = cfg.curriculum.calibrationSteps;
    const kept = recentSamples(ctx.state.calibration, step + 1, window);
    ctx.state.calibration = [...kept, ...calibrationSamples(groups, rescored, step)];
  }
  const invalid = invalidRate(groups, cfg.signalEps);
  ctx.state.ratioEma = updateRatioEma(ctx.state.ratioEma, invalid, cfg.ratioEma);

  // 5–8. subsample → adv → pack → update
  const kept = await timed(timings, "subsample", () =>
    fillBatch(groups, cfg.batchPrompts, rand, cfg.signalEps),
  );
  const samples = await timed(timings, "adv", () => withAdvantages(kept, cfg));
  const packed = await timed(timings, "pack", () =>
    packBatch(samples, cfg.ranks, cfg.packContext, cfg.maxSeqsPerMicroBatch),
  );
  const lr = learningRateAt(step, cfg.lr, cfg.warmupSteps);
  const update = await timed(timings, "update", () =>
    ctx.policy.update(packed.batch, {
      lr,
      passes: cfg.passes,
      clipLow: cfg.clipLow,
      clipHigh: cfg.clipHigh,
      aggregation: cfg.aggregation,
    }),
  );

  // 9. metrics, once per step
  const results = groups.flatMap((g) => g.payload.results);
  const rolloutsSampled = results.length;
  ctx.state.rolloutsTotal += rolloutsSampled;
  timings.step = (now() - stepStart) / 1000;
  const trained = new Set(kept.map((g) => g.promptId));
  const metrics: StepMetrics = {
    step,
    reward: mean(results.map((r) => r.reward)),
    accuracy: mean(results.map((r) => (r.correct ? 1 : 0))),
    signalShare: kept.filter((g) => hasSignal(g.rewards, cfg.signalEps)).length / cfg.batchPrompts,
    sampledSignalRate: groups.length > 0 ? 1 - invalid : 0,
    invalidRate: invalid,
    ratioEma: ctx.state.ratioEma.ema,
    promptsSampled: groups.length,
    rounds,
    rolloutsSampled,
    rolloutsTotal: ctx.state.rolloutsTotal,
    balance: packed.balance,
    fill: packed.fill,
    microSteps: update.microSteps,
    tokensPerSec: timings.gen ? genTokens / timings.gen : 0,
    lr,
    loss: update.loss,
    clipFraction: update.clipFraction,
    gradNorm: update.gradNorm,
    difficultyHistogram: passRateHistogram(ctx.state.prompts, step, curriculum),
    familyAccuracy: familyAccuracy(groups),
    timings,
    ...(calibration ? { calibration } : {}),
    ...(update.expertLoad ? { expertLoad: update.expertLoad } : {}),
  };
  const rollouts = rolloutRecords(groups, step, trained);
  return { metrics, rollouts };
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export type RunRlOptions = {
  /** Last step to run (1-based, inclusive). */
  steps: number;
  /** The run folder: metrics, rollouts, curriculum state, checkpoints. Absent: nothing is written. */
  store?: RunStore | undefined;
  /** Continue after the store's last checkpoint (everything written after it is dropped first). */
  resume?: boolean | undefined;
  /** Held-out evaluation, run every `evalEvery` steps and after the last one; its result joins that step's metrics. */
  evaluate?: ((step: number) => Promise<HeldoutResult>) | undefined;
  /** Called after each step has been logged (progress bars, stop conditions in tests). */
  onStep?: ((metrics: StepMetrics) => void) | undefined;
  /** Stop after the first step for which this holds (that step is evaluated and checkpointed as a last one). */
  until?: ((metrics: StepMetrics) => boolean) | undefined;
};

export type RunRlResult = { firstStep: number; metrics: StepMetrics[] };

/** What a checkpoint stores besides the weights and the curriculum (which the run store snapshots itself). */
type LoopState = Omit<TrainerState, "prompts" | "calibration"> & {
  /** Absent from checkpoints written before calibration existed. */
  calibration?: CalibrationSample[];
};

/**
 * The RL loop: steps `firstStep..steps`, each logged once to metrics.jsonl with its rollouts, a checkpoint every
 * `checkpointEvery` steps and after the last. With `resume`, the run rolls back to its last checkpoint, the policy
 * and loop state are restored from it, and the loop continues with the next step; every step's randomness derives
 * from (seed, step), so the resumed steps sample as the lost ones would have.
 * @example const { metrics } = await runRl(ctx, { steps: 60, store, evaluate });
 */
export async function runRl(ctx: RlContext, opts: RunRlOptions): Promise<RunRlResult> {
  const { store } = opts;
  const cfg = ctx.config;
  let firstStep = 1;
  if (store && opts.resume) {
    const ckpt = await store.rollBackToCheckpoint<LoopState>();
    if (ckpt) {
      await ctx.policy.load(ckpt.dir);
      const prompts = store.loadPrompts();
      ctx.state = {
        prompts: prompts.size > 0 ? prompts : ctx.state.prompts,
        ...ckpt.trainerState,
        calibration: ckpt.trainerState.calibration ?? [],
      };
      firstStep = ckpt.step + 1;
    }
  }
  const metrics: StepMetrics[] = [];
  for (let step = firstStep; step <= opts.steps; step++) {
    const { metrics: m, rollouts } = await rlStep(ctx, step);
    const evalDue = (cfg.evalEvery > 0 && step % cfg.evalEvery === 0) || step === opts.steps;
    if (opts.evaluate && evalDue) m.heldout = await opts.evaluate(step);
    const stop = opts.until?.(m) ?? false;
    if (stop && !m.heldout && opts.evaluate) m.heldout = await opts.evaluate(step); // a last step is evaluated
    const last = step === opts.steps || stop;
    if (store) {
      await store.writeRollouts(step, rollouts);
      await store.appendMetrics(m);
      store.savePrompts(ctx.state.prompts);
      if (step % cfg.checkpointEvery === 0 || last) {
        const { prompts: _prompts, ...loopState } = ctx.state;
        await store.saveCheckpoint(step, (dir) => ctx.policy.save(dir), loopState);
      }
    }
    metrics.push(m);
    opts.onStep?.(m);
    if (last) break;
  }
  return { firstStep, metrics };
}
