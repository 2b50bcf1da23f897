/**
 * Expert load balancing for the glm4v_moe decoder (model-spec-glm45v §3):
 * - the loss-free bias update (Wang et al. 2408.15664; DeepSeek-V3): after every optimiser step,
 *   `b_i += u · sign(mean load − load_i)`, u = 1e-3 by default, u = 0 freezes the bias (slime's RL setting);
 * - the sequence-level auxiliary balance loss in DeepSeek-V3 form, weight α = 1e-4;
 * - per-layer expert load statistics (max/mean, experts that got no tokens);
 * - `routingBalance`, which the trainer core (trainer-core.ts) adds to its objective, then the bias update.
 */
import { type Array as JaxArray, numpy as np, tree } from "@jax-js/jax";
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import { type GlmvConfig, isMoeLayer } from "./config.ts";
import { type Routing, topKMask } from "./moe.ts";
import type { GlmvParams, MoeLayerParams } from "./params.ts";

/** Balancing knobs (training-time; not part of the model config). */
export const MoeBalanceConfig = z.object({
  /** u of the loss-free update; 0 freezes the correction bias (the usual choice in RL post-training). */
  biasUpdateRate: z.number().min(0).default(1e-3),
  /** α of the sequence-level balance loss; 0 turns it off. */
  auxLossCoef: z.number().min(0).default(1e-4),
});
export type MoeBalanceConfig = z.infer<typeof MoeBalanceConfig>;

/**
 * The loss-free update on host numbers (§3.2): under-loaded experts gain +u, over-loaded ones lose u, an
 * expert exactly at the mean keeps its bias. `load` counts (token, slot) assignments per expert.
 * @example updateCorrectionBiasHost([0, 0, 0], [4, 1, 1], 1e-3) // [-0.001, 0.001, 0.001]
 */
export function updateCorrectionBiasHost(
  bias: ArrayLike<number>,
  load: ArrayLike<number>,
  rate: number,
): Float32Array {
  let mean = 0;
  for (let i = 0; i < load.length; i++) mean += load[i]! / load.length;
  return Float32Array.from(bias, (b, i) => b + rate * Math.sign(mean - load[i]!));
}

/**
 * The same update in the graph. Consumes `bias` [E] and `load` [E].
 * @example layer.correctionBias = updateCorrectionBias(layer.correctionBias, load, 1e-3);
 */
export function updateCorrectionBias(bias: JaxArray, load: JaxArray, rate: number): JaxArray {
  if (rate === 0) {
    load.dispose();
    return bias;
  }
  const mean = load.ref.mean(-1, { keepdims: true });
  return bias.add(np.sign(mean.sub(load)).mul(rate));
}

/**
 * Which tokens are real, from the model's attention mask: a token is valid when any query attends to it
 * (padding keys are masked for every query). Consumes `mask` (bool [B, 1, S, S]); returns float [B, S].
 */
export function tokenValidity(mask: JaxArray): JaxArray {
  const [b, , , s] = mask.shape as [number, number, number, number];
  return np.greater(mask.astype(np.float32).sum(2), 0).astype(np.float32).reshape([b, s]);
}

/**
 * Expert load: Σ over valid tokens of the 0/1 selection. Consumes both.
 * @param selected [B·S, E] (or [B, S, E]) from `Routing.selected`
 * @param valid    [B, S] float
 * @returns [E]
 */
export function expertLoad(selected: JaxArray, valid: JaxArray): JaxArray {
  const e = selected.shape[selected.ndim - 1]!;
  return selected
    .reshape([-1, e])
    .mul(valid.reshape([-1, 1]))
    .sum(0);
}

/**
 * Sequence-level balance loss, DeepSeek-V3 form (§3.3), for one MoE layer, averaged over the B sequences:
 * `α · Σ_i f_i·P_i` with `f_i = E/(k·T) · #{t : i ∈ top-k(s_t)}` (unbiased scores, no gradient) and
 * `P_i = (1/T) Σ_t s_{t,i} / Σ_j s_{t,j}`; T = the sequence's valid tokens. A uniform router gives α.
 * Sequences with no valid token (empty packed rows) are left out of the mean. Consumes `scores` and `valid`.
 * @param scores [B·S, E] or [B, S, E] sigmoid scores (`Routing.scores`)
 * @param valid  [B, S] float
 */
export function sequenceBalanceLoss(
  scores: JaxArray,
  valid: JaxArray,
  topK: number,
  alpha: number,
): JaxArray {
  const [b, s] = valid.shape as [number, number];
  const e = scores.shape[scores.ndim - 1]!;
  const flat = scores.reshape([b * s, e]);
  const chosen = topKMask(flat.ref, topK).reshape([b, s, e]);
  const probs = flat.ref.div(flat.sum(-1, { keepdims: true })).reshape([b, s, e]); // s' (carries the gradient)
  const w = valid.reshape([b, s, 1]);
  const tokens = w.ref.sum(1); // [B, 1]
  // an all-padding row (a packed batch's unused rows) has T = 0: it adds 0 and is not counted in the mean
  const rows = np.greater(tokens.ref, 0).astype(np.float32).sum();
  const safeTokens = np.maximum(tokens, 1);
  const f = chosen
    .mul(w.ref)
    .sum(1)
    .mul(e / topK)
    .div(safeTokens.ref); // [B, E]
  const p = probs.mul(w).sum(1).div(safeTokens); // [B, E]
  return f.mul(p).sum().div(np.maximum(rows, 1)).mul(alpha);
}

/** One layer's balance figures: max/mean load (1 = perfectly even) and the experts that got no tokens. */
export type LayerLoadStats = { layer: number; load: number[]; maxOverMean: number; idleExperts: number[] };

/**
 * Per-layer load statistics from host load vectors.
 * @example expertLoadStats([[4, 0, 2, 2]], [1])[0] // { layer: 1, maxOverMean: 2, idleExperts: [1], ... }
 */
export function expertLoadStats(
  loads: readonly (readonly number[])[],
  layers: readonly number[],
): LayerLoadStats[] {
  return loads.map((load, i) => {
    const mean = load.reduce((a, x) => a + x, 0) / load.length;
    const max = Math.max(...load);
    return {
      layer: layers[i] ?? i,
      load: [...load],
      maxOverMean: mean > 0 ? max / mean : 0,
      idleExperts: load.flatMap((x, e) => (x === 0 ? [e] : [])),
    };
  });
}

/** Indices of the MoE layers of a config. */
export function moeLayerIndices(cfg: GlmvConfig): number[] {
  return Array.from({ length: cfg.text.numLayers }, (_, i) => i).filter((i) => isMoeLayer(cfg.text, i));
}

/** Leafwise sum of host load vectors (`acc` undefined or empty: the first call). */
export function addLoads(
  acc: readonly number[][] | undefined,
  more: readonly (readonly number[])[],
): number[][] {
  if (!acc || acc.length === 0) return more.map((l) => [...l]);
  return acc.map((l, j) => l.map((x, e) => x + (more[j]?.[e] ?? 0)));
}

/**
 * The loss-free update after an optimiser step (model-spec-glm45v §3.2): every MoE layer's correction bias moves
 * by `rate · sign(mean load − load)` in float32 (`updateCorrectionBias`). Replaces the bias arrays in `params`
 * (the old ones are consumed); `rate = 0` leaves them as they are.
 * @param loads one [E] vector per MoE layer, in `moeLayerIndices` order
 * @example applyCorrectionBiasUpdate(params, cfg, [[4, 0, 2, 2]], 1e-3);
 */
export function applyCorrectionBiasUpdate(
  params: GlmvParams,
  cfg: GlmvConfig,
  loads: readonly (readonly number[])[],
  rate: number,
): void {
  if (rate === 0) return;
  const layers = moeLayerIndices(cfg);
  if (loads.length !== layers.length)
    throw new GlmvError("bad_input", `${loads.length} load vectors for ${layers.length} MoE layers`);
  for (const [j, l] of layers.entries()) {
    const layer = params.text.layers[l] as MoeLayerParams;
    layer.correctionBias = updateCorrectionBias(
      layer.correctionBias,
      np.array(Float32Array.from(loads[j]!)),
      rate,
    );
  }
}

/**
 * The balance terms of one forward's routing: Σ over MoE layers of the sequence balance loss (a 0 scalar when
 * α = 0) and each layer's expert load over the valid tokens. Consumes `routing` and `valid`.
 * @param valid [B, S] float
 * @returns aux: scalar; loads: one [E] per MoE layer
 */
export function routingBalance(
  routing: readonly Routing[],
  valid: JaxArray,
  topK: number,
  alpha: number,
): { aux: JaxArray; loads: JaxArray[] } {
  let aux: JaxArray = np.zeros([]);
  const loads: JaxArray[] = [];
  for (const r of routing) {
    if (alpha > 0) aux = aux.add(sequenceBalanceLoss(r.scores, valid.ref, topK, alpha));
    else r.scores.dispose();
    loads.push(expertLoad(r.selected, valid.ref));
    tree.dispose([r.logits, r.weights]);
  }
  valid.dispose();
  return { aux, loads };
}
