/**
 * Supervised fine-tuning on the response format (§4: SFT before RL). Teacher forcing on `sftTarget` with the loss
 * on the response only, sequences truly packed into `rows` fixed rows of `context` tokens (the step's shape never
 * changes, so it compiles once), AdamW with linear warm-up and cosine decay, and periodic held-out accuracy by
 * greedy decoding. design.md: lr 3e-3 with warm-up learns the template in ~20 steps; stop at a fixed step.
 */
import { tree } from "@jax-js/jax";
import { z } from "zod";
import { encodeSftExample } from "../../data/task-encoding.ts";
import type { TaskItem } from "../../data/tasks/types.ts";
import { STYLES } from "../../model/domains.ts";
import type { EncodedExample } from "../../model/encode.ts";
import {
  expertLoadStats,
  type LayerLoadStats,
  MoeBalanceConfig,
  moeLayerIndices,
} from "../../model/moe-balance.ts";
import { packTrainRows, type TrainRows } from "../../model/packed-rows.ts";
import { createPackedStream, type PackShape } from "../../model/packing.ts";
import { AdamWConfig, warmupCosine } from "../../tensor/adamw.ts";
import type { LocalPolicy } from "../engines/local/local-policy.ts";
import { SftConfig } from "../loop/config.ts";
import { type AccuracyReport, evaluateAccuracy } from "../loop/evaluate.ts";

/**
 * What `runSft` takes: the run config's SFT schedule (`SftConfig` in config.ts, the one SFT schema: steps, lr,
 * warm-up and their defaults) plus how examples are packed, evaluated and balanced. Callers (the main job, `glmv sft`)
 * pass their own steps, lr and warm-up explicitly.
 */
export const SftRunConfig = SftConfig.extend({
  /** Packed rows per step; with context 256 a row holds 3–5 tiny task sequences, so 12 rows ≈ 48 samples. */
  rows: z.number().int().positive().default(12),
  context: z.number().int().positive().default(256),
  /**
   * Images per step (vision input is padded to this many); packing stops a step early when they run out.
   * Default rows × ⌈context / 40⌉: tiny task sequences (one image each) are at least ~40 tokens.
   */
  imageSlots: z.number().int().min(0).optional(),
  minLr: z.number().min(0).default(3e-4),
  /** Evaluate held-out accuracy every this many steps (0: only at the end). */
  evalEvery: z.number().int().min(0).default(0),
  /** Generation length of the held-out evaluation. */
  evalMaxNewTokens: z.number().int().positive().default(48),
  seed: z.number().int().default(0),
  style: z.enum(STYLES).default("4.1v"),
  adamw: AdamWConfig.default(AdamWConfig.parse({})),
  /**
   * MoE configs only: loss-free bias update rate u after each step (0 freezes it) and balance loss weight α.
   * Measured on tiny-moe (100 steps of 12 × 256, all families, seed 1; max/mean per MoE layer averaged over the
   * last 10 steps): u = 0 → 2.79 / 2.67, u = 1e-3 → 1.74 / 1.73, u = 1e-2 → 1.15 / 1.14; no idle experts;
   * final loss 0.365 / 0.378 / 0.371.
   */
  moeBalance: MoeBalanceConfig.prefault({}),
});
export type SftRunConfig = z.infer<typeof SftRunConfig>;

/** One logged step. */
export type SftStepLog = {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  samples: number;
  /** Tokens in the packed rows (prompt + response) / (rows × context). */
  fill: number;
  tokensPerSecond: number;
  seconds: number;
  /** MoE configs: per MoE layer, this step's expert load (max/mean, idle experts) over the real tokens. */
  expertLoad?: LayerLoadStats[];
  /** MoE configs: the step's Σ_layers sequence balance loss (included in `loss`). */
  auxLoss?: number;
};

export type SftResult = {
  logs: SftStepLog[];
  evals: { step: number; report: AccuracyReport }[];
  /** Mean fill ratio over all steps. */
  fill: number;
  /** Packed (non-padding) tokens per second over the whole run, evaluation excluded. */
  tokensPerSecond: number;
};

export type SftHooks = {
  onStep?: (log: SftStepLog) => void;
  onEval?: (step: number, report: AccuracyReport) => void;
};

/**
 * The packed training batch of one step: targets and loss weights on response tokens (normalised to sum 1 over
 * the step); for a MoE config also `valid` (real tokens, for expert load and the balance loss).
 */
export function sftBatch(
  policy: Pick<LocalPolicy, "cfg">,
  examples: readonly EncodedExample[],
  rows: readonly (readonly number[])[],
  shape: PackShape,
): { batch: TrainRows; tokens: number } {
  // a segment's first token is never predicted, so its loss mask does not count
  const learned = rows
    .flat()
    .reduce((a, i) => a + examples[i]!.lossMask.reduce((x, m, k) => x + (k > 0 ? m : 0), 0), 0);
  const segments = rows.map((r) =>
    r.map((i) => ({
      ...examples[i]!,
      weights: examples[i]!.lossMask.map((m) => (learned > 0 ? m / learned : m)),
    })),
  );
  const tokens = rows.reduce((a, r) => a + r.reduce((x, i) => x + examples[i]!.ids.length, 0), 0);
  return { batch: packTrainRows(policy.cfg, segments, shape).rows, tokens };
}

/** What the steps of one SFT run draw from: the encoded examples, the fixed step shape and its packed stream. */
type SftData = {
  examples: EncodedExample[];
  shape: PackShape;
  /** The next step's rows (sequence indices per packed row). */
  next: () => number[][];
  /** MoE configs: the MoE layers' indices (for expert load statistics). */
  moeLayers: number[];
};

/** Encode the training items in the run's style and open the seeded stream of packed steps. */
function prepareSftData(policy: LocalPolicy, train: readonly TaskItem[], c: SftRunConfig): SftData {
  const enc = { ...policy.encoder, style: c.style };
  const examples = train.map((item) => encodeSftExample(enc, item, c.style));
  const imageSlots = c.imageSlots ?? c.rows * Math.ceil(c.context / 40);
  const shape: PackShape = { rows: c.rows, context: c.context, imageSlots };
  const next = createPackedStream(
    examples.map((e) => e.ids.length),
    examples.map((e) => e.grids.length),
    shape,
    c.seed,
  );
  const moeLayers = policy.cfg.text.moe ? moeLayerIndices(policy.cfg) : [];
  return { examples, shape, next, moeLayers };
}

/**
 * One SFT step on the next packed rows: the gradient of the response loss, AdamW at the scheduled lr and (MoE) the
 * balance loss and correction-bias update. Returns the step's log and its packed tokens.
 */
async function sftStep(
  policy: LocalPolicy,
  c: SftRunConfig,
  data: SftData,
  step: number,
): Promise<{ log: SftStepLog; tokens: number }> {
  const t0 = performance.now();
  const rows = data.next();
  const { batch, tokens } = sftBatch(policy, data.examples, rows, data.shape);
  const lr = warmupCosine(step, {
    peakLr: c.lr,
    warmupSteps: c.warmupSteps,
    totalSteps: c.steps,
    minLr: c.minLr,
  });
  // a MoE config trains with the balance loss and moves the router's correction bias after every step
  const out = await policy.core.forwardBackwardRows(
    batch,
    { kind: "cross_entropy" },
    { auxLossCoef: c.moeBalance.auxLossCoef },
  );
  const { gradNorm } = await policy.core.optimStep(lr, c.adamw, {
    biasUpdateRate: c.moeBalance.biasUpdateRate,
  });
  const moe = policy.cfg.text.moe;
  const loss = moe ? out.loss + out.auxLoss : out.loss;
  const balance: Pick<SftStepLog, "expertLoad" | "auxLoss"> =
    moe && out.loads ? { expertLoad: expertLoadStats(out.loads, data.moeLayers), auxLoss: out.auxLoss } : {};
  const seconds = (performance.now() - t0) / 1000;
  const log: SftStepLog = {
    step: step + 1,
    loss,
    lr,
    gradNorm,
    samples: rows.reduce((a, r) => a + r.length, 0),
    fill: tokens / (c.rows * c.context),
    tokensPerSecond: tokens / seconds,
    seconds,
    ...balance,
  };
  return { log, tokens };
}

/**
 * Fine-tune `policy`'s weights in place on `train` (one sftTarget per item), evaluating on `heldout`.
 * The policy's RL optimiser state is left untouched (SFT has its own AdamW state, dropped at the end).
 * @example
 * const result = await runSft(policy, train, heldout, { steps: 80, lr: 3e-3 });
 * result.evals.at(-1)?.report.perFamily.counting.accuracy
 */
export async function runSft(
  policy: LocalPolicy,
  train: readonly TaskItem[],
  heldout: readonly TaskItem[],
  config: z.input<typeof SftRunConfig> = {},
  hooks: SftHooks = {},
): Promise<SftResult> {
  const c = SftRunConfig.parse(config);
  const data = prepareSftData(policy, train, c);
  // SFT runs on the policy's trainer core with an AdamW state of its own; the policy's comes back at the end
  const core = policy.core;
  const policyOpt = core.swapOptimizer(undefined);
  const logs: SftStepLog[] = [];
  const evals: SftResult["evals"] = [];
  let trainSeconds = 0;
  let trainTokens = 0;
  const evaluate = async (step: number) => {
    if (heldout.length === 0) return;
    const report = await evaluateAccuracy(policy, heldout, {
      style: c.style,
      maxNewTokens: c.evalMaxNewTokens,
      seed: c.seed,
    });
    evals.push({ step, report });
    hooks.onEval?.(step, report);
  };
  try {
    for (let step = 0; step < c.steps; step++) {
      const { log, tokens } = await sftStep(policy, c, data, step);
      trainSeconds += log.seconds;
      trainTokens += tokens;
      logs.push(log);
      hooks.onStep?.(log);
      if (c.evalEvery > 0 && (step + 1) % c.evalEvery === 0 && step + 1 < c.steps) await evaluate(step + 1);
    }
    await evaluate(c.steps);
  } finally {
    core.clearGradients();
    const sftOpt = core.swapOptimizer(policyOpt);
    if (sftOpt) tree.dispose(sftOpt);
  }
  return {
    logs,
    evals,
    fill: logs.reduce((a, l) => a + l.fill, 0) / Math.max(1, logs.length),
    tokensPerSecond: trainSeconds > 0 ? trainTokens / trainSeconds : 0,
  };
}
