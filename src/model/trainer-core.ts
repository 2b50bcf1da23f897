/**
 * The local trainer core (issue 17): the Tinker primitives on the in-process model, written once for every local
 * trainer (`LocalPolicy`, SFT, scoring, the trainer server's tiny backend, the benches).
 * - `forwardBackward(segments, loss)` packs sequences into [rowsPerCall, context] calls (packing.ts) and runs one
 *   jitted forward + backward per call; `forwardBackwardRows(rows, loss)` does one call on rows packed already.
 *   Gradients add up in an accumulator until `optimStep`.
 * - `optimStep(lr, adamw)` applies AdamW to the sum and, for a glm4v_moe model, the loss-free correction-bias
 *   update from the expert loads of the same rows.
 * - `logprobs(segments)` / `logprobsRows(rows)` score without gradients; `save` / `load` write and read weights
 *   with or without the optimiser state.
 *
 * The primitives are functions over one state object (trainer-core-state.ts): training in trainer-core-train.ts,
 * scoring in trainer-core-score.ts; this file holds the state and hands out the core's methods.
 *
 * Dense and MoE are chosen here, once, from the config: a MoE forward also returns its routing, adds
 * `auxScale` · Σ_layers sequence balance loss (α of `moeBalance`) to the objective and reports expert loads over
 * the valid slots. The forward gathers embeddings with `take` (model.ts `GatherMode`: the one-hot form cost most
 * of a step).
 */
import type { z } from "zod";
import type { AdamWConfig } from "../tensor/adamw.ts";
import type { GlmvConfig } from "./config.ts";
import type { ModelOptState } from "./model.ts";
import type { PackedSegment } from "./packed-inputs.ts";
import type { ScoreRows, TrainRows, TrainSegment } from "./packed-rows.ts";
import type { ScoringShape } from "./packed-scoring.ts";
import type { GlmvParams } from "./params.ts";
import type {
  Backend,
  ForwardBackwardResult,
  GradOptions,
  SegmentsResult,
  TrainerCoreConfig,
  TrainLoss,
} from "./trainer-core-config.ts";
import { logprobs, logprobsRows } from "./trainer-core-score.ts";
import {
  clearGradients,
  createTrainerState,
  disposeTrainerState,
  loadTrainerState,
  replaceParams,
  resetOptimizer,
  saveTrainerState,
  swapOptimizer,
} from "./trainer-core-state.ts";
import { forwardBackward, forwardBackwardRows, optimStep } from "./trainer-core-train.ts";

/** A trainer core (see `createTrainerCore`): the Tinker primitives on one model's weights and optimiser state. */
export type TrainerCore = {
  /** The current weights (borrowed: take `tree.ref` to keep them past the next step). */
  readonly params: GlmvParams;
  /**
   * The training step's engine: "native" once a native step ran or while onnxruntime-node is untried, "jax"
   * otherwise (not asked for, or fallen back: the reason went to stderr).
   */
  readonly backend: Backend;
  /**
   * What ran natively so far: gradient calls, AdamW steps, scoring calls, and jax-js rebuilds of the weights
   * (each read of `params` after a native step makes one); undefined when the core is not native.
   */
  nativeStats(): { calls: number; steps: number; scores: number; weightRebuilds: number } | undefined;
  /** The packing of `forwardBackward` and `logprobs`. */
  readonly packing: TrainerCoreConfig["packing"];
  /** Swap in new weights (the old ones are freed); accumulated gradients are dropped. */
  replaceParams(next: GlmvParams): void;
  /** Drop the optimiser state: the next step starts a fresh AdamW. */
  resetOptimizer(): void;
  /** Drop gradients (and MoE loads) accumulated since the last step. */
  clearGradients(): void;
  /**
   * Install another optimiser state (undefined: a fresh AdamW at the next step) and hand back the current one,
   * so a phase with its own AdamW (SFT) can leave the trainer's state as it was.
   */
  swapOptimizer(next: ModelOptState | undefined): ModelOptState | undefined;
  /** The gradient accumulated since the last step (borrowed), or undefined. */
  gradients(): GlmvParams | undefined;
  /**
   * Forward and backward on packed rows (consumed): the gradient of `loss` adds to the accumulator.
   * `auxScale` weighs a MoE call's balance loss (its share of the step's rows, so the step sums it once).
   */
  forwardBackwardRows(rows: TrainRows, loss: TrainLoss, opts?: GradOptions): Promise<ForwardBackwardResult>;
  /**
   * Forward and backward on sequences: packed first-fit into rows of the context (or into the given
   * `microBatches` of sequence indices), cut to the image slots of a row and run `rowsPerCall` rows per call;
   * each call's MoE balance loss weighs its share of the rows. Gradients add to the accumulator.
   */
  forwardBackward(
    segments: readonly TrainSegment[],
    loss: TrainLoss,
    opts?: { microBatches?: readonly (readonly number[])[]; auxLossCoef?: number },
  ): Promise<SegmentsResult>;
  /**
   * AdamW on the accumulated gradient, then (MoE) the correction-bias update from the loads of the same rows
   * (`biasUpdateRate` overrides the core's u). Without gradients it does nothing and reports a norm of 0.
   */
  optimStep(
    lr: number,
    adamw: AdamWConfig,
    opts?: { biasUpdateRate?: number },
  ): Promise<{ gradNorm: number }>;
  /** log π(target) per slot [B · S] under the current weights, no gradient. Consumes `rows`. */
  logprobsRows(rows: ScoreRows): Promise<Float32Array>;
  /**
   * Per-token logprobs of whole sequences, packed as `forwardBackward` packs them (`shape` overrides the core's
   * packing), under the current weights or the given `params` (borrowed; e.g. a sampler's snapshot).
   * `lastLogits` (needs `shape.segmentsPerRow`): also the logits after each sequence's last token.
   * @returns per sequence, `ids.length − 1` logprobs (entry j: token j + 1), and the last logits when asked
   */
  logprobs(
    segments: readonly PackedSegment[],
    opts?: { shape?: Partial<ScoringShape>; params?: GlmvParams; lastLogits?: boolean },
  ): Promise<{ logprobs: Float32Array[]; last?: Float32Array[] }>;
  /** Weights as a checkpoint folder, plus `optimizer.safetensors` once there is optimiser state. */
  save(dir: string, extras?: { tokenizerJson?: unknown }): Promise<void>;
  /**
   * Weights from a checkpoint folder (accumulated gradients are dropped). `optimizer`: also take its optimiser
   * state (a folder without one starts a fresh AdamW); otherwise the current state stays.
   */
  load(dir: string, opts: { optimizer: boolean }): Promise<void>;
  /** Free the weights, optimiser state, gradients and compiled programs. */
  dispose(): void;
};

/**
 * A trainer on `params` (the core owns them from here on): one state object (trainer-core-state.ts) and the
 * primitives over it.
 * @example
 * const core = createTrainerCore(cfg, initParams(cfg, 1));
 * const { loss, logprobs } = await core.forwardBackward(segments, { kind: "ppo", clipLow: 0.2, clipHigh: 0.28 });
 * const { gradNorm } = await core.optimStep(1e-3, AdamWConfig.parse({}));
 */
export function createTrainerCore(
  cfg: GlmvConfig,
  initial: GlmvParams,
  settings: z.input<typeof TrainerCoreConfig> = {},
): TrainerCore {
  const state = createTrainerState(cfg, initial, settings);
  return {
    get params() {
      return state.params;
    },
    get backend() {
      return state.native && state.native.engine.status !== "off" ? "native" : "jax";
    },
    nativeStats: () => {
      const n = state.native;
      return n && { calls: n.calls, steps: n.steps, scores: n.scores, weightRebuilds: n.params.rebuilds };
    },
    packing: state.packing,
    replaceParams: (next) => replaceParams(state, next),
    resetOptimizer: () => resetOptimizer(state),
    clearGradients: () => clearGradients(state),
    swapOptimizer: (next) => swapOptimizer(state, next),
    gradients: () => state.acc,
    forwardBackwardRows: (rows, loss, opts = {}) => forwardBackwardRows(state, rows, loss, opts),
    forwardBackward: (segments, loss, opts = {}) => forwardBackward(state, segments, loss, opts),
    optimStep: (lr, adamw, opts = {}) => optimStep(state, lr, adamw, opts),
    logprobsRows: (rows) => logprobsRows(state, rows),
    logprobs: (segments, opts = {}) => logprobs(state, segments, opts),
    save: (dir, extras = {}) => saveTrainerState(state, dir, extras),
    load: (dir, opts) => loadTrainerState(state, dir, opts),
    dispose: () => disposeTrainerState(state),
  };
}
