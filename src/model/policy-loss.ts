/**
 * The per-token policy losses on log-probabilities, without the model (GRPO §5.3, the Tinker losses): the target
 * log-probability of each position, and the PPO clipped surrogate with clip-higher (separate low and high ε),
 * no KL and no entropy term. Tokens with zero weight (prompt, padding, force-answer injections) get no gradient.
 */
import { type Array as JaxArray, nn, numpy as np } from "@jax-js/jax";

/** Ratio bounds of the clipped surrogate as ε: the ratio may fall to 1 − clipLow and rise to 1 + clipHigh. */
export type ClipBounds = { clipLow: number; clipHigh: number };

/**
 * log π(target) per position: [B, S, V] logits and int32 [B, S] targets → [B, S]. Consumes both.
 * @example const logp = tokenLogprobs(forwardLogits(params, inputs, cfg), targets); // [B, S]
 */
export function tokenLogprobs(logits: JaxArray, targets: JaxArray): JaxArray {
  const vocab = logits.shape[logits.ndim - 1]!;
  return nn.logSoftmax(logits, -1).mul(nn.oneHot(targets, vocab)).sum(-1);
}

/**
 * The clipped surrogate on given log-probabilities (the math without the model, so it can be tested alone).
 * loss = −Σ w · min(r·A, clip(r, 1 − εlow, 1 + εhigh)·A), r = exp(logp − oldLogp). Consumes its arrays.
 * @returns [loss, clipFraction] where clipFraction is the weighted share of tokens whose ratio was clipped.
 * @example const [loss, clip] = clippedSurrogate(logp, old, adv, w, { clipLow: 0.2, clipHigh: 0.28 });
 */
export function clippedSurrogate(
  logp: JaxArray,
  oldLogprobs: JaxArray,
  advantages: JaxArray,
  weights: JaxArray,
  cfg: ClipBounds,
): [JaxArray, JaxArray] {
  const ratio = np.exp(logp.sub(oldLogprobs));
  const unclipped = ratio.ref.mul(advantages.ref);
  const clipped = np.clip(ratio, 1 - cfg.clipLow, 1 + cfg.clipHigh).mul(advantages);
  const wasClipped = np.less(clipped.ref, unclipped.ref).astype(np.float32);
  const objective = np.minimum(unclipped, clipped);
  const loss = objective.mul(weights.ref).sum().neg();
  const clipFraction = wasClipped.mul(weights.ref).sum().div(np.maximum(weights.sum(), 1e-12));
  return [loss, clipFraction];
}
