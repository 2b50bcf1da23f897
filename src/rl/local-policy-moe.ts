/**
 * The glm4v_moe (tiny-moe) parts of local training (issue 7): the GRPO gradient that also returns each MoE
 * layer's expert load (and optionally adds the sequence balance loss), the loss-free correction-bias update on
 * the host after an optimiser step, and per-layer load figures for the step log. SFT (`runSft`) and RL updates
 * (`LocalPolicy.update`) both count load over the real tokens of their packed rows (`segmentValidity`), never
 * over padding slots.
 */
import { type Array as JaxArray, jit, numpy as np, valueAndGrad } from "@jax-js/jax";
import type { GlmvConfig } from "../model/config.ts";
import { forwardLogitsAndRouting } from "../model/model.ts";
import {
  expertLoadStats,
  moeLayerIndices,
  routingBalance,
  updateCorrectionBiasHost,
} from "../model/moe-balance.ts";
import type { GlmvParams, MoeLayerParams } from "../model/params.ts";
import { GlmvError } from "../util/errors.ts";
import { clippedSurrogate, type GrpoBatch, type GrpoLossConfig, tokenLogprobs } from "./grpo-loss.ts";

/** Per-layer balance figures of a step log: max/mean expert load (1 = even), experts that got no token. */
export type LayerLoad = { layer: number; maxOverMean: number; idleExperts: number };

/**
 * A GRPO batch for a MoE model: which slots are real tokens, and the weight of this call's balance loss
 * (its share of the update's non-empty rows, so the summed gradient carries the batch-mean balance loss once).
 */
export type MoeGrpoBatch = GrpoBatch & { valid: JaxArray; auxScale: JaxArray };

/** What the MoE gradient function returns (all owned by the caller). */
export type MoeGradOut = {
  /** The GRPO surrogate alone (the balance loss is left out of the reported loss). */
  loss: JaxArray;
  clipFraction: JaxArray;
  grads: GlmvParams;
  /** [moeLayers, E] (token, slot) assignments per expert over the valid tokens. */
  loads: JaxArray;
};

/**
 * The jitted GRPO gradient of a MoE policy: clipped surrogate + `auxScale` · Σ_layers sequence balance loss
 * (α = `auxLossCoef`, 0 leaves it out), with the expert loads as auxiliary output. Consumes its arguments.
 * @example const f = createMoeGrpoGradFn(cfg, { clipLow: 0.2, clipHigh: 0.28 }, 1e-4);
 * const { grads, loads } = f(tree.ref(params), batch) as MoeGradOut;
 */
export function createMoeGrpoGradFn(
  cfg: GlmvConfig,
  lossCfg: Pick<GrpoLossConfig, "clipLow" | "clipHigh">,
  auxLossCoef: number,
) {
  const moe = cfg.text.moe;
  if (!moe) throw new GlmvError("bad_config", "createMoeGrpoGradFn needs a glm4v_moe config");
  const numExperts = moe.numExperts;
  return jit((params: GlmvParams, batch: MoeGrpoBatch) => {
    const [[total, out], grads] = valueAndGrad(
      (q: GlmvParams) => {
        const { logits, routing } = forwardLogitsAndRouting(q, batch.inputs, cfg);
        const logp = tokenLogprobs(logits, batch.targets);
        const [loss, clipFraction] = clippedSurrogate(
          logp,
          batch.oldLogprobs,
          batch.advantages,
          batch.weights,
          lossCfg,
        );
        const { aux, loads } = routingBalance(routing, batch.valid, moe.topK, auxLossCoef);
        const stacked = loads.length > 0 ? np.stack(loads, 0) : np.zeros([0, numExperts]);
        return [loss.ref.add(aux.mul(batch.auxScale)), { loss, clipFraction, loads: stacked }] as [
          JaxArray,
          { loss: JaxArray; clipFraction: JaxArray; loads: JaxArray },
        ];
      },
      { hasAux: true },
    )(params);
    total.dispose();
    return { loss: out.loss, clipFraction: out.clipFraction, loads: out.loads, grads };
  });
}

/** Host load vectors per MoE layer from a flat [layers · E] buffer. */
export function splitLoads(flat: ArrayLike<number>, layers: number, numExperts: number): number[][] {
  return Array.from({ length: layers }, (_, j) =>
    Array.from({ length: numExperts }, (_, e) => flat[j * numExperts + e]!),
  );
}

/** Leafwise sum of host load vectors (`acc` may be empty: the first call). */
export function addLoads(acc: readonly number[][], more: readonly number[][]): number[][] {
  if (acc.length === 0) return more.map((l) => [...l]);
  return acc.map((l, j) => l.map((x, e) => x + (more[j]?.[e] ?? 0)));
}

/**
 * The loss-free update after an optimiser step, on the host: every MoE layer's correction bias moves by
 * `rate · sign(mean load − load)` (model-spec-glm45v §3.2). Replaces the bias arrays in `params` (the old ones
 * are freed); `rate = 0` leaves them as they are.
 * @param loads one [E] load vector per MoE layer, in `moeLayerIndices` order
 */
export async function applyBiasUpdate(
  params: GlmvParams,
  cfg: GlmvConfig,
  loads: readonly (readonly number[])[],
  rate: number,
): Promise<void> {
  if (rate === 0) return;
  const layers = moeLayerIndices(cfg);
  if (loads.length !== layers.length)
    throw new GlmvError("bad_input", `${loads.length} load vectors for ${layers.length} MoE layers`);
  for (const [j, l] of layers.entries()) {
    const layer = params.text.layers[l] as MoeLayerParams;
    const bias = (await layer.correctionBias.ref.data()) as Float32Array;
    const next = updateCorrectionBiasHost(bias, loads[j]!, rate);
    layer.correctionBias.dispose();
    layer.correctionBias = np.array(next);
  }
}

/** Per-layer max/mean of host load vectors (the figure a step log carries). */
export function layerLoadFigures(cfg: GlmvConfig, loads: readonly (readonly number[])[]): LayerLoad[] {
  return expertLoadStats(loads, moeLayerIndices(cfg)).map((s) => ({
    layer: s.layer,
    maxOverMean: s.maxOverMean,
    idleExperts: s.idleExperts.length,
  }));
}
