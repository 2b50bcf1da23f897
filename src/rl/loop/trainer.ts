/**
 * The RL trainer (design.md "The data flow", §5.3–5.4): `rlStep` is one single-controller step that reads as one
 * line per phase — rescore → rollout rounds (sample → gen → reward → observe, refilled while too few groups have
 * signal) → bookkeeping → subsample → adv → pack → update → figures — each timed under its name, with one metrics
 * object per step. `runRl` is the loop around it: run folder logging, held-out evaluations, checkpoints every K
 * steps, and resume from the last one.
 */
import type { TaskItem } from "../../data/tasks/types.ts";
import { applyIouSchedule } from "../../reward/detection-schedule.ts";
import type { ScoredResult, ScoreInput } from "../../reward/system.ts";
import { deriveSeed, mulberry32 } from "../../util/rng.ts";
import {
  type Calibration,
  type CalibrationSample,
  calibratedPassRate,
  calibrationSamples,
  fitCalibration,
  IDENTITY_CALIBRATION,
  recentSamples,
} from "../algorithm/calibration.ts";
import { newPromptStats, type PromptStats, sampleUniform } from "../algorithm/curriculum.ts";
import { initRatioEma, promptsToSample, type RatioEmaState, updateRatioEma } from "../algorithm/ratio-ema.ts";
import type { RlLoopConfig } from "./config.ts";
import type { Policy, PolicyPrompt, RolloutParams, UpdateParams } from "./policy.ts";
import type { RunStore } from "./run-store.ts";
import { type HeldoutResult, invalidShare, type StepMetrics, stepFigures } from "./step-metrics.ts";
import type { RolloutRecord } from "./trainer-phases.ts";
import {
  curriculumOptions,
  fillBatch,
  learningRateAt,
  observeGroups,
  packBatch,
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

export type { HeldoutResult, StepMetrics } from "./step-metrics.ts";
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

/** What every phase of one step shares: the context, the step, its config, random stream, clock and timings. */
type StepScope = {
  ctx: RlContext;
  step: number;
  cfg: RlLoopConfig;
  rand: () => number;
  now: () => number;
  timings: Record<string, number>;
  time: <T>(phase: string, fn: () => T | Promise<T>) => Promise<T>;
};

function stepScope(ctx: RlContext, step: number): StepScope {
  const now = ctx.now ?? Date.now;
  const timings: Record<string, number> = {};
  const rand = mulberry32(deriveSeed(ctx.seed, "rl-step", step));
  const time = <T>(phase: string, fn: () => T | Promise<T>) => timed(timings, phase, fn, now);
  return { ctx, step, cfg: ctx.config, rand, now, timings, time };
}

/**
 * One RL step (1-based `step`). Mutates `ctx.state` (curriculum, ratio EMA, rollout count) and the policy. A policy
 * that keeps prompt encodings for a step (`withPromptCache`) encodes each of the step's prompts once: rescoring,
 * rollouts and the update share it.
 * @example const { metrics } = await rlStep(ctx, 1); metrics.signalShare // e.g. 1
 */
export function rlStep(ctx: RlContext, step: number): Promise<StepResult> {
  const run = () => stepPhases(ctx, step);
  return ctx.policy.withPromptCache ? ctx.policy.withPromptCache(run) : run();
}

/** The phases of one step, in order (see `rlStep`). */
async function stepPhases(ctx: RlContext, step: number): Promise<StepResult> {
  const scope = stepScope(ctx, step);
  const { cfg, time } = scope;
  const started = scope.now();
  const rescore = await rescorePrompts(scope);
  const sampled = await rolloutRounds(scope, rescore && new Set(rescore.likelihood.keys()));
  recordStep(ctx.state, step, cfg, sampled.groups, rescore?.likelihood);
  const kept = await time("subsample", () => fillBatch(sampled.groups, cfg.batchPrompts, scope.rand));
  const samples = await time("adv", () => withAdvantages(kept, cfg));
  const packed = await time("pack", () => packBatch(samples, cfg));
  const lr = learningRateAt(step, cfg.lr, cfg.warmupSteps);
  const update = await time("update", () => ctx.policy.update(packed.batch, updateParams(cfg, lr)));
  scope.timings.step = (scope.now() - started) / 1000;
  const metrics = stepFigures({
    step,
    ...sampled,
    kept,
    batchPrompts: cfg.batchPrompts,
    state: ctx.state,
    curriculum: curriculumOptions(cfg),
    packed,
    update,
    lr,
    timings: scope.timings,
    calibration: rescore?.calibration,
  });
  const trained = new Set(kept.map((g) => g.promptId));
  return { metrics, rollouts: rolloutRecords(sampled.groups, step, trained) };
}

/** This step's rescored prompts' likelihoods, and the calibration their fresh difficulty went through. */
type Rescore = { likelihood: Map<string, number>; calibration: Calibration & { samples: number } };

/**
 * Phase "rescore" (RLCS with the likelihood prior): random prompts get a fresh difficulty under the current policy,
 * their likelihood calibrated to a pass rate on the last steps' groups; this step's rounds then sample from them
 * first, so that no draw rests on a stale score. Undefined where rescoring is off.
 */
async function rescorePrompts({ ctx, step, cfg, time }: StepScope): Promise<Rescore | undefined> {
  const score = ctx.referenceLikelihood;
  if (cfg.sampler !== "rlcs" || cfg.curriculum.rescorePerStep <= 0 || !score) return undefined;
  const { calibrationSteps, calibrationPrior, rescorePerStep } = cfg.curriculum;
  const pairs = recentSamples(ctx.state.calibration, step, calibrationSteps);
  const fit = calibrationSteps > 0 ? fitCalibration(pairs, calibrationPrior) : IDENTITY_CALIBRATION;
  const likelihood = await time("rescore", async () => {
    const pick = mulberry32(deriveSeed(ctx.seed, "rl-rescore", step));
    const ids = sampleUniform([...ctx.state.prompts.keys()], rescorePerStep, pick);
    const scores = await score(ids.map((id) => ctx.items.get(id)!));
    // the fresh difficulty replaces prior and online counts, which are all older than it
    for (const [i, id] of ids.entries())
      ctx.state.prompts.set(id, newPromptStats(1 - calibratedPassRate(fit, scores[i]!), step));
    return new Map(ids.map((id, i) => [id, scores[i]!]));
  });
  return { likelihood, calibration: { ...fit, samples: pairs.length } };
}

/** Every group the step's rounds sampled, how many rounds ran, and the response tokens they generated. */
type SampledRounds = { groups: ScoredGroup[]; rounds: number; genTokens: number };

/** Phases "sample → gen → reward → observe", refilled while fewer than B groups have signal. */
async function rolloutRounds(scope: StepScope, preferred?: ReadonlySet<string>): Promise<SampledRounds> {
  const { ctx, step, cfg, rand } = scope;
  const groups: ScoredGroup[] = [];
  const seen = new Set<string>();
  let rounds = 0;
  let genTokens = 0;
  for (let round = 0; round <= cfg.refillRounds; round++) {
    const missing = cfg.batchPrompts - groups.filter((g) => g.signal).length;
    if (missing <= 0) break;
    const n = promptsToSample(round === 0 ? cfg.batchPrompts : missing, ctx.state.ratioEma);
    const draw = { n, step, rand, exclude: seen, preferred };
    const ids = await scope.time("sample", () => samplePromptIds(ctx.state.prompts, draw, cfg));
    if (ids.length === 0) break;
    for (const id of ids) seen.add(id);
    const fresh = await rolloutRound(scope, round, ids);
    groups.push(...fresh.groups);
    genTokens += fresh.genTokens;
    rounds = round + 1;
  }
  return { groups, rounds, genTokens };
}

/** One round: generate G rollouts per prompt, score them, and fold the groups into the curriculum. */
async function rolloutRound({ ctx, step, cfg, time }: StepScope, round: number, ids: readonly string[]) {
  const items = ids.map((id) => ctx.items.get(id)!);
  const prompts = items.map(ctx.toPrompt);
  const seed = deriveSeed(ctx.seed, "rl-gen", step, round);
  const rollouts = await time("gen", () => ctx.policy.generate(prompts, rolloutParams(cfg, seed)));
  const genTokens = rollouts.flat().reduce((n, r) => n + r.tokens.length, 0);
  const inputs = scoreInputs(items, rollouts, cfg.style);
  const scheduled = cfg.iouSchedule ? applyIouSchedule(inputs, cfg.iouSchedule, step) : inputs;
  const results = await time("reward", () => ctx.score(scheduled));
  const groups = toGroups({ round, items, prompts, rollouts }, results, cfg.signalEps);
  await time("observe", () => observeGroups(ctx.state.prompts, step, groups, curriculumOptions(cfg)));
  return { groups, genTokens };
}

const rolloutParams = (cfg: RlLoopConfig, seed: number): RolloutParams => ({
  n: cfg.groupSize,
  temperature: cfg.temperature,
  topP: cfg.topP,
  maxNewTokens: cfg.maxNewTokens,
  thinkBudget: cfg.thinkBudget,
  style: cfg.style,
  seed,
});

const updateParams = (cfg: RlLoopConfig, lr: number): UpdateParams => ({
  lr,
  passes: cfg.passes,
  clipLow: cfg.clipLow,
  clipHigh: cfg.clipHigh,
  aggregation: cfg.aggregation,
});

/**
 * Phase "bookkeeping": the rescored prompts' (likelihood, pass rate) pairs join the calibration window, the
 * sampled groups' invalid share moves the ratio EMA, and their rollouts join the rollout count.
 */
function recordStep(
  state: TrainerState,
  step: number,
  cfg: Pick<RlLoopConfig, "curriculum" | "ratioEma">,
  groups: readonly ScoredGroup[],
  rescored?: ReadonlyMap<string, number>,
): void {
  const window = cfg.curriculum.calibrationSteps;
  if (rescored && window > 0) {
    const kept = recentSamples(state.calibration, step + 1, window);
    state.calibration = [...kept, ...calibrationSamples(groups, rescored, step)];
  }
  state.ratioEma = updateRatioEma(state.ratioEma, invalidShare(groups), cfg.ratioEma);
  state.rolloutsTotal += groups.reduce((n, g) => n + g.payload.results.length, 0);
}

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
