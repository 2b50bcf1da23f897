/**
 * The configuration of an RL run (`glmv rl`), validated once at the entry point and written to the run's
 * `config.yaml`. Every knob has a default, and the defaults are the embedded default run (design.md "What works at
 * tiny scale"): 16 prompts × 8 rollouts, lr 5e-4 with a fresh optimiser and a 10-step warm-up, 2 optimiser passes,
 * temperature 1 / top-p 1, groups without variance dropped with up to 3 refill rounds, clip 0.2 / 0.28, and 512
 * held-out items for evaluation.
 */
import { z } from "zod";
import { TASK_FAMILIES } from "../../data/tasks/types.ts";
import { STYLES } from "../../model/domains.ts";
import { MoeBalanceConfig } from "../../model/moe-balance.ts";
import { Backend } from "../../model/trainer-core-config.ts";
import { IouScheduleSchema } from "../../reward/detection-schedule.ts";
import { ADVANTAGES, type AdvantageName } from "../algorithm/advantages.ts";
import { CURRICULUM_DEFAULTS, RESCORED_DRAW_DEFAULTS } from "../algorithm/curriculum.ts";
import { RATIO_EMA_DEFAULTS } from "../algorithm/ratio-ema.ts";

const advantageNames = Object.keys(ADVANTAGES) as [AdvantageName, ...AdvantageName[]];

/** Which prompts each step draws: RLCS (curriculum weights) or uniform (the control). */
export const SAMPLERS = ["rlcs", "uniform"] as const;
export type SamplerName = (typeof SAMPLERS)[number];
/**
 * Where the curriculum's offline difficulty comes from (`curriculum.offline`); `auto` is `sft-likelihood` on an
 * engine that can score reference responses and `level` on one that cannot.
 */
export const OFFLINE_DIFFICULTIES = ["auto", "level", "sft-likelihood"] as const;
export type OfflineDifficulty = (typeof OFFLINE_DIFFICULTIES)[number];
/** The offline difficulty a run actually used. */
export type ResolvedOfflineDifficulty = Exclude<OfflineDifficulty, "auto">;

/** The synthetic suite the run trains and evaluates on. */
export const DataConfig = z.strictObject({
  /** Families with a steep SFT curve: counting only (the tiny model's chart SFT curve is flat). */
  families: z.array(z.enum(TASK_FAMILIES)).min(1).default(["counting"]),
  /** Difficulty levels drawn (round-robin) for training and held-out items; level 3's SFT curve is flat. */
  levels: z.array(z.number().int().positive()).min(1).default([1, 2]),
  /**
   * Levels of the labelled SFT set when it is a subset of the RL pool (paper §4–5: SFT on curated long-CoT data,
   * RL on a broader pool checked only by verifiers); unset: all of `levels`. The continued-SFT control always
   * trains on the whole pool with its labels, the strongest control there is.
   */
  sftLevels: z.array(z.number().int().positive()).min(1).optional(),
  /**
   * Size of the labelled SFT set: the first this many training items of each family (after `sftLevels`); the rest
   * of the pool is seen only through the verifier in RL. Small on purpose: a confident model whose perception has
   * not generalised leaves RL room (docs/experiments.md#sft-set-size).
   */
  sftItemsPerFamily: z.number().int().positive().default(32),
  /** Training prompts per family (the pool RLCS samples from). */
  trainPerFamily: z.number().int().positive().default(3000),
  /** Held-out items in total, split evenly over the families (design.md: 512; 256 is too noisy for 10 points). */
  heldoutItems: z.number().int().positive().default(512),
  /** Square image side; 56 px = 16 patches → 4 image tokens after the 2 × 2 merge. */
  imageSize: z.number().int().min(28).default(56),
});

/** Supervised fine-tuning on the format before RL (and the continued-SFT control). */
export const SftConfig = z.strictObject({
  /** 150 steps: long enough that the format is near-deterministic at T = 1 (see `data.sftItemsPerFamily`). */
  steps: z.number().int().min(0).default(150),
  /** design.md: AdamW, lr 3e-3 with warm-up; stop at a fixed step, not at a lucky evaluation. */
  lr: z.number().positive().default(3e-3),
  warmupSteps: z.number().int().min(0).default(20),
});

/** The RLCS-GRPO loop. */
export const RlLoopConfig = z.strictObject({
  /** 30 steps keep the whole main job near 11 minutes on 2 cores (docs/experiments.md#rl-loop-defaults). */
  steps: z.number().int().min(0).default(30),
  /** Prompts per trained batch (B); the batch holds B × groupSize rollouts. */
  batchPrompts: z.number().int().positive().default(16),
  /** Rollouts per prompt (G). */
  groupSize: z.number().int().min(2).default(8),
  /** 5e-4 goes with 16 × 8; smaller batches need less (docs/experiments.md#rl-loop-defaults). */
  lr: z.number().positive().default(5e-4),
  /** A fresh optimiser state is created for RL; its warm-up in steps. */
  warmupSteps: z.number().int().min(0).default(10),
  /** Optimiser passes over each batch (one pass learned less; docs/experiments.md#rl-loop-defaults). */
  passes: z.number().int().positive().default(2),
  clipLow: z.number().positive().default(0.2),
  /** Clip-higher (§5.3): the upper bound is looser so rare good tokens can gain probability. */
  clipHigh: z.number().positive().default(0.28),
  aggregation: z.enum(["sample", "token"]).default("sample"),
  advantage: z.enum(advantageNames).default("grpo"),
  temperature: z.number().positive().default(1),
  topP: z.number().gt(0).max(1).default(1),
  maxNewTokens: z.number().int().positive().default(40),
  /** New tokens before force-answering injects `</think>`. */
  thinkBudget: z.number().int().min(0).default(30),
  style: z.enum(STYLES).default("4.1v"),
  /**
   * Thinking on (the default) or off (GLM-4.5V/4.6V non-thinking mode, whose prompt pre-fills an empty
   * `<think></think>`): off, the reward pool scores a rollout without a think block as if it had that one.
   */
  thinking: z.boolean().default(true),
  /** Grounding rewards: the IoU threshold by step (a number, or `{stages: [{fromStep, threshold}]}`); items' own win. */
  iouSchedule: IouScheduleSchema.optional(),
  sampler: z.enum(SAMPLERS).default("rlcs"),
  /** Extra sampling rounds when too few groups have signal (design.md: up to 3). */
  refillRounds: z.number().int().min(0).default(3),
  /** A group has signal when the std of its rewards exceeds this (continuous rewards make `std != 0` too lax). */
  signalEps: z.number().min(0).default(1e-6),
  /** Simulated data-parallel ranks for length balancing (§5.4); the local engine runs them in turn. */
  ranks: z.number().int().positive().default(2),
  /** Context of one packed micro-batch in tokens (raised to the longest sequence if shorter). */
  packContext: z.number().int().positive().default(256),
  /** Most sequences in one micro-batch: the local engine's packed row has this many image slots. */
  maxSeqsPerMicroBatch: z.number().int().positive().default(8),
  checkpointEvery: z.number().int().positive().default(10),
  /** Held-out evaluation every this many steps (0: only at the end); feeds the curves and `--compare`. */
  evalEvery: z.number().int().min(0).default(5),
  /** Per-item reward deadline in ms (a timeout is a recorded zero). */
  rewardDeadlineMs: z.number().int().positive().default(2000),
  rewardWorkers: z.number().int().positive().default(1),
  curriculum: z
    .strictObject({
      /**
       * Where each prompt's offline difficulty comes from: its task `level`, or `sft-likelihood`, 1 − the SFT
       * model's probability of the item's reference response (a pass@1 estimate without generation, one
       * teacher-forced forward per prompt; curriculum.ts). `auto` (the default) takes `sft-likelihood` where the
       * engine can score and `level` elsewhere (docs/experiments.md#offline-difficulty).
       */
      offline: z.enum(OFFLINE_DIFFICULTIES).default("auto"),
      /**
       * With the likelihood difficulty: training prompts drawn at random and rescored under the current policy
       * before each RLCS step, which then samples from them first (0 = score once, from the SFT checkpoint):
       * SFT-time scores go stale within a few steps (docs/experiments.md#fresh-rescoring).
       */
      rescorePerStep: z.number().int().min(0).default(300),
      /**
       * Steps of (likelihood, group pass rate) pairs from which the rescored likelihood is calibrated to a pass
       * rate (calibration.ts; docs/experiments.md#calibration); 0 = use 1 − likelihood as it is.
       */
      calibrationSteps: z.number().int().min(0).default(3),
      /** Pull of that fit toward the identity, in units of the binomial log-likelihood's curvature. */
      calibrationPrior: z.number().positive().default(2),
      decay: z.number().gt(0).max(1).default(CURRICULUM_DEFAULTS.decay),
      priorWeight: z.number().min(0).default(CURRICULUM_DEFAULTS.priorWeight),
      /** Exponent on a prompt's signal probability in its weight, for draws from the (mostly stale) pool. */
      sharpness: z.number().positive().default(CURRICULUM_DEFAULTS.sharpness),
      /** Least weight of any prompt in the pool, so that a stale estimate can be corrected. */
      floor: z.number().min(0).default(CURRICULUM_DEFAULTS.floor),
      /**
       * The same two for the draw from the prompts rescored this step: their estimates are fresh, so the draw can
       * be nearly best-first (`RESCORED_DRAW_DEFAULTS`; docs/experiments.md#sharp-draw).
       */
      freshSharpness: z.number().positive().default(RESCORED_DRAW_DEFAULTS.sharpness),
      freshFloor: z.number().min(0).default(RESCORED_DRAW_DEFAULTS.floor),
    })
    .prefault({}),
  ratioEma: z
    .strictObject({
      alpha: z.number().gt(0).max(1).default(RATIO_EMA_DEFAULTS.alpha),
      maxExpansion: z.number().min(1).default(RATIO_EMA_DEFAULTS.maxExpansion),
    })
    .prefault({}),
});

/** The whole run. `z.input<typeof RlConfig>` is what a user writes; `RlConfig` is the parsed, complete value. */
export const RlConfig = z.strictObject({
  seed: z.number().int().default(1),
  model: z.enum(["tiny", "small", "tiny-moe"]).default("tiny"),
  /**
   * The in-process engine of training, scoring and generation (local policy): native (onnxruntime-node's CPU
   * kernels) or jax (jax-js, the reference the native programs are checked against). Unset: GLMV_BACKEND, else
   * native. Results agree to float rounding, so a run resumes on either.
   */
  backend: Backend.optional(),
  /** One batch size for SFT, evaluation, rollouts and updates (design.md: the run then compiles once). */
  batchSize: z.number().int().positive().default(64),
  data: DataConfig.prefault({}),
  sft: SftConfig.prefault({}),
  /** MoE balancing (tiny-moe only): the loss-free bias update rate u and the aux-loss α, for SFT and RL alike. */
  moeBalance: MoeBalanceConfig.strict().prefault({}),
  /** Run the continued-SFT control (same wall time as RL from the same checkpoint); off only for quick tests. */
  control: z.boolean().default(true),
  rl: RlLoopConfig.prefault({}),
});
export type RlConfig = z.infer<typeof RlConfig>;
export type RlConfigInput = z.input<typeof RlConfig>;
export type RlLoopConfig = z.infer<typeof RlLoopConfig>;

/**
 * Parse a (partial) config into a complete one; unknown keys, sampler or advantage names are rejected here.
 * @example parseRlConfig({ rl: { steps: 5 } }).rl.batchPrompts // 16
 */
export function parseRlConfig(input: unknown): RlConfig {
  return RlConfig.parse(input ?? {});
}

/**
 * Keys that earlier versions wrote into a run's config.yaml and that no longer exist: a resumed or re-read run
 * drops them (they have no effect now) instead of being refused as unknown. A user's own config file is strict.
 */
export const RETIRED_KEYS: readonly (readonly string[])[] = [
  // the per-answer share cap, dropped (docs/experiments.md#answer-share-cap)
  ["rl", "curriculum", "answerShare"],
];

/** A copy of `raw` without the retired keys. */
function dropRetiredKeys(raw: unknown): unknown {
  if (raw === null || typeof raw !== "object") return raw;
  const copy = structuredClone(raw) as Record<string, unknown>;
  for (const path of RETIRED_KEYS) {
    const parent = path
      .slice(0, -1)
      .reduce<unknown>(
        (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
        copy,
      );
    if (parent && typeof parent === "object") delete (parent as Record<string, unknown>)[path.at(-1)!];
  }
  return copy;
}

/**
 * The schema of a run's own config.yaml: `RlConfig` after dropping `RETIRED_KEYS`, so run folders written by older
 * versions still open.
 * @example store.readConfig(StoredRlConfig).rl.steps
 */
export const StoredRlConfig = z.preprocess(dropRetiredKeys, RlConfig);
