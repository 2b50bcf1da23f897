/**
 * Packed rows for the trainer core: sequences with per-token values (loss weight, and for the policy losses the
 * sampler's logprob and the advantage) laid out in fixed [rows, context] arrays by the packer (packed-inputs.ts),
 * every value moved to the slot that predicts its token. RL updates, SFT and the trainer server build their rows
 * here.
 */
import type { Array as JaxArray } from "@jax-js/jax";
import { numpy as np } from "@jax-js/jax";
import type { GlmvConfig } from "./config.ts";
import type { ModelInputs } from "./model.ts";
import {
  alignToTargets,
  layoutPacked,
  type PackedLayout,
  type PackedSegment,
  packedInputs,
  packedTargets,
  segmentValidity,
} from "./packed-inputs.ts";
import type { PackShape } from "./packing.ts";

/** Packed rows to train on; every [B, S] array is aligned with the next-token targets. */
export type TrainRows = {
  inputs: ModelInputs;
  targets: JaxArray; // int32 [B, S]: the token at s + 1
  weights: JaxArray; // float [B, S]: loss weight per position, 0 where nothing is learned
  oldLogprobs?: JaxArray; // float [B, S]: the sampler's logprob of the target (policy losses)
  advantages?: JaxArray; // float [B, S] (policy losses)
  /** MoE: 1 on slots holding real tokens (float [B, S]); default from the attention mask, which counts padding. */
  valid?: JaxArray;
};

/** Rows to score: inputs and next-token targets. */
export type ScoreRows = Pick<TrainRows, "inputs" | "targets">;

/**
 * A sequence to train on: its segment and one value per token of `ids` (the value of token j is learned where
 * token j is predicted, so a segment's first value is never read). `oldLogprobs` and `advantages` feed the policy
 * losses.
 */
export type TrainSegment = PackedSegment & {
  weights: readonly number[];
  oldLogprobs?: readonly number[];
  advantages?: readonly number[];
};

/**
 * Lay `rows` (segments per row) out in `shape` and build the core's arrays: inputs, targets, weights, the policy
 * arrays when every segment carries them, and for a glm4v_moe config which slots are real tokens. The caller owns
 * the arrays (the core consumes them).
 * @example const { rows } = packTrainRows(cfg, [[a, b], [c]], { rows: 8, context: 256, imageSlots: 64 });
 */
export function packTrainRows(
  cfg: GlmvConfig,
  rows: readonly (readonly TrainSegment[])[],
  shape: PackShape,
): { rows: TrainRows; layout: PackedLayout } {
  const layout = layoutPacked(cfg, rows, shape, 0);
  const dims = [shape.rows, shape.context];
  const aligned = (pick: (q: TrainSegment) => readonly number[]) =>
    np.array(
      alignToTargets(
        layout,
        rows.map((row) => row.map(pick)),
      ),
      { shape: dims },
    );
  const all = rows.flat();
  const policy = all.length > 0 && all.every((q) => q.oldLogprobs && q.advantages);
  return {
    rows: {
      inputs: packedInputs(cfg, layout),
      targets: np.array(packedTargets(layout), { shape: dims, dtype: np.int32 }),
      weights: aligned((q) => q.weights),
      ...(policy
        ? { oldLogprobs: aligned((q) => q.oldLogprobs!), advantages: aligned((q) => q.advantages!) }
        : {}),
      // MoE: expert load and the balance loss count real tokens only, not the padding slots
      ...(cfg.text.moe ? { valid: segmentValidity(layout) } : {}),
    },
    layout,
  };
}
