/**
 * The trainer core's settings and what its calls report (trainer-core.ts): the Tinker API's losses as a zod
 * schema, the core's packing and MoE balance config, and the host-side results of `forwardBackward`.
 */
import { z } from "zod";
import { MoeBalanceConfig } from "./moe-balance.ts";

/**
 * The losses of the Tinker API. `cross_entropy`: −Σ w·log π(target). `ppo`: the clipped surrogate with ratio
 * bounds [1 − clipLow, 1 + clipHigh] (clip-higher when clipHigh > clipLow). `importance_sampling`: the same
 * surrogate with bounds that never bind, −Σ w·r·A.
 */
export const TrainLoss = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("cross_entropy") }),
  z.object({ kind: z.literal("importance_sampling") }),
  z.object({
    kind: z.literal("ppo"),
    clipLow: z.number().min(0).max(1).default(0.2),
    clipHigh: z.number().min(0).default(0.28),
  }),
]);
export type TrainLoss = z.infer<typeof TrainLoss>;

/** The in-process engines: native kernels (onnxruntime-node; the default) or jax-js (the reference). */
export const Backend = z.enum(["native", "jax"]);
export type Backend = z.infer<typeof Backend>;

/** Settings of a core that do not change between steps (AdamW's come with each `optimStep`). */
export const TrainerCoreConfig = z.object({
  /** glm4v_moe only: bias update rate u (0 freezes the bias) and balance loss weight α (0 leaves it out). */
  moeBalance: MoeBalanceConfig.prefault({}),
  /** How `forwardBackward` and `logprobs` pack sequences: one [rowsPerCall, context] program per call. */
  packing: z
    .object({
      context: z.number().int().positive().default(256),
      /** Images one row may hold; unused slots get blank images. */
      imagesPerRow: z.number().int().min(0).default(8),
      rowsPerCall: z.number().int().positive().default(8),
    })
    .prefault({}),
  /**
   * The engine of the training step and scoring: "native" lowers them to ONNX and runs them on onnxruntime-node
   * (jax-js when that does not load), "jax" runs jax-js (the reference); unset: GLMV_BACKEND, else "native".
   */
  backend: Backend.optional(),
  /** The native engine's intra-op threads (default: the machine's available parallelism). */
  nativeThreads: z.number().int().positive().optional(),
});
export type TrainerCoreConfig = z.infer<typeof TrainerCoreConfig>;

/** What one `forwardBackwardRows` reports (host values). */
export type ForwardBackwardResult = {
  /** The loss of these rows (without the MoE balance term). */
  loss: number;
  /** Weighted share of clipped tokens (0 for cross-entropy). */
  clipFraction: number;
  /** MoE: the summed sequence balance loss before `auxScale` (0 for a dense model). */
  auxLoss: number;
  /** log π(target) per slot, [B · S], from the same forward. */
  logprobs: Float32Array;
  /** MoE: (token, slot) assignments per expert of each MoE layer over the valid slots. */
  loads?: number[][];
};

/** What one `forwardBackward` over sequences reports (host values). */
export type SegmentsResult = {
  /** The loss summed over the calls (without the MoE balance term). */
  loss: number;
  /** Share of clipped tokens, weighted by |loss weight| over all calls (0 for cross-entropy). */
  clipFraction: number;
  /** MoE: Σ over calls of auxScale · balance loss, the batch-mean balance loss (0 for a dense model). */
  auxLoss: number;
  /** Per sequence, `ids.length − 1` values: entry j is log π(token j + 1 | tokens before). */
  logprobs: Float32Array[];
  /** MoE: expert loads summed over the calls. */
  loads?: number[][];
  /** Packed rows that ran (micro-steps). */
  rows: number;
};

/** Options of a gradient call: `auxScale` weighs its MoE balance loss; `auxLossCoef` overrides the core's α. */
export type GradOptions = { auxScale?: number; auxLossCoef?: number };

/** The optimiser state's file inside a checkpoint folder. */
export const OPTIMIZER_FILE = "optimizer.safetensors";
