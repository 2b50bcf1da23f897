/**
 * The reference the trainer core is tested against: one training step written plainly, without the core or any
 * training code of the project. The objective is −Σ w·log π(target) (cross-entropy) or the clipped surrogate
 * −Σ w·min(r·A, clip(r, 1 − εlow, 1 + εhigh)·A) spelled out here; for glm4v_moe + auxScale · Σ_layers sequence
 * balance loss, and after AdamW the loss-free bias update on the host from the expert loads.
 */
import { type Array as JaxArray, jit, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { type AdamWConfig, adamwInit, adamwUpdate } from "../tensor/adamw.ts";
import type { GlmvConfig } from "./config.ts";
import { forwardLogitsAndRouting, type ModelOptState } from "./model.ts";
import { expertLoad, moeLayerIndices, sequenceBalanceLoss, updateCorrectionBiasHost } from "./moe-balance.ts";
import type { TrainRows } from "./packed-rows.ts";
import type { GlmvParams, MoeLayerParams } from "./params.ts";

/** The loss of the reference: cross-entropy, or the clipped surrogate with the given ε bounds. */
export type ReferenceLoss = { kind: "cross_entropy" } | { kind: "ppo"; clipLow: number; clipHigh: number };

type Out = { loss: JaxArray; clipFraction: JaxArray; auxLoss: JaxArray; loads: JaxArray; grads: GlmvParams };

/**
 * Loss, clip fraction, balance loss, expert loads and gradient of `rows` (consumed) at `params` (borrowed).
 * `valid` defaults to the rows' `valid`.
 */
export async function referenceGradient(
  cfg: GlmvConfig,
  params: GlmvParams,
  rows: TrainRows,
  loss: ReferenceLoss,
  balance: { auxLossCoef: number; auxScale?: number } = { auxLossCoef: 0 },
) {
  const moe = cfg.text.moe;
  const f = jit((p: GlmvParams, b: TrainRows & { auxScale: JaxArray }): Out => {
    const [[total, aux], grads] = valueAndGrad(
      (q: GlmvParams) => {
        const { logits, routing } = forwardLogitsAndRouting(q, b.inputs, cfg);
        const logp = nn.logSoftmax(logits, -1).mul(nn.oneHot(b.targets, cfg.text.vocabSize)).sum(-1);
        let value: JaxArray;
        let clipFraction: JaxArray = np.zeros([]);
        if (loss.kind === "cross_entropy") {
          value = logp.mul(b.weights.ref).sum().neg();
          tree.dispose([b.oldLogprobs, b.advantages].filter((x) => x !== undefined));
        } else {
          const ratio = np.exp(logp.sub(b.oldLogprobs!));
          const adv = b.advantages!;
          const clipped = np.clip(ratio.ref, 1 - loss.clipLow, 1 + loss.clipHigh).mul(adv.ref);
          const unclipped = ratio.mul(adv);
          clipFraction = np
            .less(clipped.ref, unclipped.ref)
            .astype(np.float32)
            .mul(b.weights.ref)
            .sum()
            .div(b.weights.ref.sum());
          value = np.minimum(unclipped, clipped).mul(b.weights.ref).sum().neg();
        }
        b.weights.dispose();
        let auxLoss: JaxArray = np.zeros([]);
        const loads: JaxArray[] = [];
        for (const r of routing) {
          if (balance.auxLossCoef > 0)
            auxLoss = auxLoss.add(
              sequenceBalanceLoss(r.scores, b.valid!.ref, moe!.topK, balance.auxLossCoef),
            );
          else r.scores.dispose();
          loads.push(expertLoad(r.selected, b.valid!.ref));
          tree.dispose([r.logits, r.weights]);
        }
        b.valid?.dispose();
        const total = value.ref.add(auxLoss.ref.mul(b.auxScale));
        const stacked = loads.length > 0 ? np.stack(loads, 0) : np.zeros([0]);
        return [total, { loss: value, clipFraction, auxLoss, loads: stacked }];
      },
      { hasAux: true },
    )(p) as [[JaxArray, Omit<Out, "grads">], GlmvParams];
    total.dispose();
    return { ...aux, grads };
  });
  const out = f(tree.ref(params), { ...rows, auxScale: np.array(balance.auxScale ?? 1) }) as Out;
  f.dispose();
  const e = moe?.numExperts ?? 0;
  const flat = (await out.loads.data()) as Float32Array;
  return {
    loss: (await out.loss.jsAsync()) as number,
    clipFraction: (await out.clipFraction.jsAsync()) as number,
    auxLoss: (await out.auxLoss.jsAsync()) as number,
    loads: moeLayerIndices(cfg).map((_, j) => Array.from(flat.subarray(j * e, (j + 1) * e))),
    grads: out.grads,
  };
}

/**
 * AdamW on `grads` (consumed) from `params` and `opt` (consumed; default a fresh state), then for glm4v_moe every layer's correction
 * bias moved by `biasUpdateRate · sign(mean load − load)` on the host.
 * @returns the new weights, the grad norm and the optimiser state
 */
export async function referenceStep(
  cfg: GlmvConfig,
  params: GlmvParams,
  grads: GlmvParams,
  loads: readonly (readonly number[])[],
  opts: { lr: number; adamw: AdamWConfig; biasUpdateRate?: number; opt?: ModelOptState },
): Promise<{ params: GlmvParams; gradNorm: number; opt: ModelOptState }> {
  const apply = jit((p: GlmvParams, g: GlmvParams, o: ModelOptState, lr: JaxArray) =>
    adamwUpdate(p, g, o, lr, opts.adamw),
  );
  const up = apply(params, grads, opts.opt ?? adamwInit(params), np.array(opts.lr)) as {
    params: GlmvParams;
    state: ModelOptState;
    gradNorm: JaxArray;
  };
  apply.dispose();
  for (const [j, l] of moeLayerIndices(cfg).entries()) {
    if (!opts.biasUpdateRate) break;
    const layer = up.params.text.layers[l] as MoeLayerParams;
    const bias = (await layer.correctionBias.data()) as Float32Array;
    layer.correctionBias = np.array(updateCorrectionBiasHost(bias, loads[j]!, opts.biasUpdateRate));
  }
  return { params: up.params, gradNorm: (await up.gradNorm.jsAsync()) as number, opt: up.state };
}

/**
 * |a − b| relative to |b|: what "equal within float tolerance" means for a loss or norm the default (native)
 * core sums in another order than the jax-js reference (float32 summation order moves the 6th digit).
 */
export const relativeDiff = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/** Largest |a − b| over every leaf, relative to the largest |b| (consumes both trees). */
export function treeDiff(a: GlmvParams, b: GlmvParams): number {
  const xs = tree.leaves(a) as JaxArray[];
  const ys = tree.leaves(b) as JaxArray[];
  let diff = 0;
  let scale = 0;
  xs.forEach((x, i) => {
    const u = x.dataSync() as Float32Array;
    const v = ys[i]!.dataSync() as Float32Array;
    for (let k = 0; k < u.length; k++) {
      diff = Math.max(diff, Math.abs(u[k]! - v[k]!));
      scale = Math.max(scale, Math.abs(v[k]!));
    }
  });
  return diff / Math.max(scale, 1e-30);
}
