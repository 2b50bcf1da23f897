/**
 * The GRPO policy objective's settings (§5.3): PPO-style ratio clipping with clip-higher (separate low and high
 * epsilon), no KL term, no entropy term, and how per-token losses aggregate. Tokens the policy did not choose (the
 * prompt, padding, and tokens injected by force-answering) carry zero weight, so they never receive gradient. The
 * per-token math lives in `model/policy-loss.ts` and the training step is the trainer core's
 * (`model/trainer-core.ts`, loss `{ kind: "ppo", clipLow, clipHigh }`).
 */
import { z } from "zod";

export const GrpoLossConfig = z.object({
  /** Lower clip: the ratio may fall to 1 − clipLow. */
  clipLow: z.number().min(0).max(1).default(0.2),
  /** Upper clip (clip-higher): the ratio may rise to 1 + clipHigh; larger than clipLow keeps rare tokens alive. */
  clipHigh: z.number().min(0).max(10).default(0.28),
  /** "sample": mean over each sample's tokens, then over samples (the paper's per-sample loss); "token": one mean. */
  aggregation: z.enum(["sample", "token"]).default("sample"),
});
export type GrpoLossConfig = z.infer<typeof GrpoLossConfig>;

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
