/**
 * The GRPO policy objective (§5.3): PPO-style ratio clipping with clip-higher (separate low and high epsilon),
 * no KL term, no entropy term. Tokens the policy did not choose (the prompt, padding, and tokens injected by
 * force-answering) carry zero weight, so they never receive gradient. The per-token math lives in
 * `model/policy-loss.ts` (the trainer core uses it); it is re-exported here for the rl modules that import it. The training step itself is the trainer core's
 * (`createTrainerCore`).
 */
import type { Array as JaxArray } from "@jax-js/jax";
import { z } from "zod";
import type { GlmvConfig } from "../model/config.ts";
import { forwardLogits, type ModelInputs } from "../model/model.ts";
import type { GlmvParams } from "../model/params.ts";
import { clippedSurrogate, tokenLogprobs } from "../model/policy-loss.ts";

export { clippedSurrogate, tokenLogprobs };

export const GrpoLossConfig = z.object({
  /** Lower clip: the ratio may fall to 1 − clipLow. */
  clipLow: z.number().min(0).max(1).default(0.2),
  /** Upper clip (clip-higher): the ratio may rise to 1 + clipHigh; larger than clipLow keeps rare tokens alive. */
  clipHigh: z.number().min(0).max(10).default(0.28),
  /** "sample": mean over each sample's tokens, then over samples (the paper's per-sample loss); "token": one mean. */
  aggregation: z.enum(["sample", "token"]).default("sample"),
});
export type GrpoLossConfig = z.infer<typeof GrpoLossConfig>;

/** One packed micro-batch for the policy update. Every [B, S] array is aligned with next-token targets. */
export type GrpoBatch = {
  inputs: ModelInputs;
  targets: JaxArray; // int32 [B, S]: the token at s + 1
  oldLogprobs: JaxArray; // float [B, S]: the sampler's log-probability of that token
  advantages: JaxArray; // float [B, S]: the sample's group advantage on each of its tokens
  weights: JaxArray; // float [B, S]: aggregation weights, 0 on tokens without gradient (see `lossWeights`)
};

/**
 * Per-token aggregation weights from a host mask (1 on tokens the policy sampled).
 * "sample": each sample's tokens share 1 / (its token count · number of samples), so long and short answers
 * weigh the same; "token": every token weighs 1 / (total tokens). `numSamples` lets a batch split across
 * micro-batches keep the normalisation of the whole batch.
 */
export function lossWeights(
  mask: readonly (readonly number[])[],
  aggregation: GrpoLossConfig["aggregation"],
  numSamples = mask.length,
  totalTokens = mask.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0),
): number[][] {
  return mask.map((row) => {
    const count = row.reduce((a, b) => a + b, 0);
    const scale =
      aggregation === "sample"
        ? count > 0
          ? 1 / (count * numSamples)
          : 0
        : totalTokens > 0
          ? 1 / totalTokens
          : 0;
    return row.map((m) => m * scale);
  });
}

/** The GRPO loss of the model on a batch, with the clip fraction as auxiliary output. Consumes its arguments. */
export function grpoLoss(
  params: GlmvParams,
  batch: GrpoBatch,
  cfg: GlmvConfig,
  loss: GrpoLossConfig,
): [JaxArray, JaxArray] {
  const logits = forwardLogits(params, batch.inputs, cfg);
  const logp = tokenLogprobs(logits, batch.targets);
  return clippedSurrogate(logp, batch.oldLogprobs, batch.advantages, batch.weights, loss);
}
