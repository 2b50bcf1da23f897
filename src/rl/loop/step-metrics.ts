/**
 * One RL step's figures (a line of `metrics.jsonl`) as a zod schema, the source of the `StepMetrics` type, and
 * `stepFigures`, the pure function that works them out from what the step's phases produced. The run store reads
 * metrics.jsonl back through the schema, so a record that lost a figure is an error naming its line.
 */
import { z } from "zod";
import type { CurriculumOptions, PromptStats } from "../algorithm/curriculum.ts";
import type { UpdateMetrics } from "./policy.ts";
import { familyAccuracy, passRateHistogram, type ScoredGroup } from "./trainer-phases.ts";

const shares = z.record(z.string(), z.number());

/** Held-out accuracy at some step (from the caller's evaluator). */
export const HeldoutResult = z.object({
  accuracy: z.number(),
  perFamily: shares,
  /** By difficulty level, when the evaluator reports it. */
  perLevel: shares.optional(),
  /**
   * Accuracy of one sample per item at the rollout temperature (top-p 1): the policy RL optimises. Greedy
   * `accuracy` only moves when an argmax flips; this moves as soon as the right answer gains probability.
   */
  sampledAccuracy: z.number().optional(),
  items: z.number(),
});
export type HeldoutResult = z.infer<typeof HeldoutResult>;

/** MoE policies: per MoE layer, max/mean expert load of the update's tokens and idle experts (`UpdateMetrics`). */
const ExpertLoad = z.object({
  layer: z.number(),
  maxOverMean: z.number(),
  idleExperts: z.number().optional(),
});

export const StepMetrics = z.object({
  step: z.number().int(),
  /** Mean reward and share correct over every rollout sampled this step. */
  reward: z.number(),
  accuracy: z.number(),
  /** Share of the trained batch made of groups with signal. */
  signalShare: z.number(),
  /** Share of all sampled groups (every round) with signal. */
  sampledSignalRate: z.number(),
  invalidRate: z.number(),
  /**
   * Rollouts whose reward verifier threw (stage "verifier_error", reward 0): reward-code bugs, counted apart from
   * wrong answers. Optional so metrics.jsonl of older runs still reads.
   */
  verifierErrors: z.number().int().optional(),
  ratioEma: z.number(),
  promptsSampled: z.number(),
  rounds: z.number(),
  rolloutsSampled: z.number(),
  rolloutsTotal: z.number(),
  balance: z.number(),
  fill: z.number(),
  microSteps: z.number(),
  /** Generated tokens per second of generation time. */
  tokensPerSec: z.number(),
  lr: z.number(),
  loss: z.number(),
  clipFraction: z.number(),
  gradNorm: z.number(),
  difficultyHistogram: z.array(z.number()),
  familyAccuracy: shares,
  /** Seconds per phase, and `step` for the whole step. */
  timings: z.record(z.string(), z.number()),
  /** RLCS with rescoring: the likelihood → pass-rate map this step's rescored prompts used, and its pairs. */
  calibration: z.object({ slope: z.number(), intercept: z.number(), samples: z.number() }).optional(),
  heldout: HeldoutResult.optional(),
  expertLoad: z.array(ExpertLoad).optional(),
});
export type StepMetrics = z.infer<typeof StepMetrics>;

/** What the step's phases produced, as `stepFigures` reads it. */
export type StepOutcome = {
  step: number;
  /** Every group sampled this step, all rounds. */
  groups: readonly ScoredGroup[];
  /** The trained batch (`fillBatch`). */
  kept: readonly ScoredGroup[];
  batchPrompts: number;
  rounds: number;
  /** Response tokens generated over all rounds. */
  genTokens: number;
  /** The state after the step's bookkeeping: curriculum, ratio EMA, rollout count. */
  state: { prompts: ReadonlyMap<string, PromptStats>; ratioEma: { ema: number }; rolloutsTotal: number };
  curriculum: CurriculumOptions;
  packed: { balance: number; fill: number };
  update: UpdateMetrics;
  lr: number;
  timings: Record<string, number>;
  calibration?: StepMetrics["calibration"];
};

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Share of groups without signal (all right or all wrong): the `invalidRate` that drives the ratio EMA. */
export const invalidShare = (groups: readonly Pick<ScoredGroup, "signal">[]): number =>
  groups.length > 0 ? groups.filter((g) => !g.signal).length / groups.length : 0;

/**
 * A step's metrics record: the sampled groups' reward, accuracy and signal, the trained batch's signal share,
 * the packing and update figures, the curriculum's histogram, and the timings.
 * @example stepFigures(outcome).signalShare // e.g. 1
 */
export function stepFigures(o: StepOutcome): StepMetrics {
  const results = o.groups.flatMap((g) => g.payload.results);
  const invalid = invalidShare(o.groups);
  return {
    step: o.step,
    reward: mean(results.map((r) => r.reward)),
    accuracy: mean(results.map((r) => (r.correct ? 1 : 0))),
    signalShare: o.kept.filter((g) => g.signal).length / o.batchPrompts,
    sampledSignalRate: o.groups.length > 0 ? 1 - invalid : 0,
    invalidRate: invalid,
    verifierErrors: results.filter((r) => r.stage === "verifier_error").length,
    ratioEma: o.state.ratioEma.ema,
    promptsSampled: o.groups.length,
    rounds: o.rounds,
    rolloutsSampled: results.length,
    rolloutsTotal: o.state.rolloutsTotal,
    balance: o.packed.balance,
    fill: o.packed.fill,
    microSteps: o.update.microSteps,
    tokensPerSec: o.timings.gen ? o.genTokens / o.timings.gen : 0,
    lr: o.lr,
    loss: o.update.loss,
    clipFraction: o.update.clipFraction,
    gradNorm: o.update.gradNorm,
    difficultyHistogram: passRateHistogram(o.state.prompts, o.step, o.curriculum),
    familyAccuracy: familyAccuracy(o.groups),
    timings: o.timings,
    ...(o.calibration ? { calibration: o.calibration } : {}),
    ...(o.update.expertLoad ? { expertLoad: o.update.expertLoad } : {}),
  };
}
