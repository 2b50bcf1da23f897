/**
 * The local trainer core (issue 17): the Tinker primitives on the in-process model, written once for every local
 * trainer. `forwardBackward(rows, loss)` runs one jitted forward + backward on packed rows and adds the gradient
 * to an accumulator; `optimStep(lr, adamw)` applies AdamW to the sum and, for a glm4v_moe model, the loss-free
 * correction-bias update from the expert loads of the same rows; `logprobs(rows)` scores without gradients;
 * `save` / `load` write and read weights with or without the optimiser state.
 *
 * Dense and MoE are chosen here, once, from the config: a MoE forward also returns its routing, adds
 * `auxScale` · Σ_layers sequence balance loss (α of `moeBalance`) to the objective and reports expert loads over
 * the valid slots. The forward gathers embeddings with `take` (model.ts `GatherMode`: the one-hot form cost most
 * of a step).
 */
import { join } from "node:path";
import { type Array as JaxArray, jit, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { z } from "zod";
import { type AdamWConfig, adamwInit, adamwUpdate } from "../tensor/adamw.ts";
import { GlmvError } from "../util/errors.ts";
import { loadCheckpointDir, saveCheckpointDir } from "./checkpoint.ts";
import type { GlmvConfig } from "./config.ts";
import { toHfConfig } from "./config-hf.ts";
import { expectedTensors } from "./config-tensors.ts";
import { forwardLogits, forwardLogitsAndRouting, type ModelInputs, type ModelOptState } from "./model.ts";
import {
  MoeBalanceConfig,
  moeLayerIndices,
  routingBalance,
  tokenValidity,
  updateCorrectionBias,
} from "./moe-balance.ts";
import { loadOptimizerState, saveOptimizerState } from "./optimizer-state.ts";
import { type GlmvParams, type MoeLayerParams, paramsFromNamed, paramsToNamed } from "./params.ts";
import { type ClipBounds, clippedSurrogate, tokenLogprobs } from "./policy-loss.ts";

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

/** Settings of a core that do not change between steps (AdamW's come with each `optimStep`). */
export const TrainerCoreConfig = z.object({
  /** glm4v_moe only: bias update rate u (0 freezes the bias) and balance loss weight α (0 leaves it out). */
  moeBalance: MoeBalanceConfig.prefault({}),
});
export type TrainerCoreConfig = z.infer<typeof TrainerCoreConfig>;

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

/** What one `forwardBackward` reports (host values). */
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

/** The optimiser state's file inside a checkpoint folder. */
export const OPTIMIZER_FILE = "optimizer.safetensors";

/** The arguments of a jitted gradient call (only the keys its loss and the model kind use). */
type GradArgs = TrainRows & { auxScale?: JaxArray };
type GradOut = {
  loss: JaxArray;
  clipFraction: JaxArray;
  auxLoss: JaxArray;
  logprobs: JaxArray;
  loads: JaxArray;
  grads: GlmvParams;
};

/** Ratio bounds of a policy loss; `importance_sampling`'s never bind (the ratio is positive). */
function clipBounds(loss: Exclude<TrainLoss, { kind: "cross_entropy" }>): ClipBounds {
  return loss.kind === "ppo"
    ? { clipLow: loss.clipLow, clipHigh: loss.clipHigh }
    : { clipLow: 1, clipHigh: 1e30 };
}

/** Leafwise a + b (consumes both). */
function addTrees(a: GlmvParams, b: GlmvParams): GlmvParams {
  return tree.map((x: JaxArray, y: JaxArray) => x.add(y), a, b) as GlmvParams;
}

/** Leafwise sum of host load vectors (`acc` undefined: the first call). */
function addLoads(acc: number[][] | undefined, more: readonly (readonly number[])[]): number[][] {
  if (!acc) return more.map((l) => [...l]);
  return acc.map((l, j) => l.map((x, e) => x + (more[j]?.[e] ?? 0)));
}

/**
 * The loss-free update after an optimiser step (model-spec-glm45v §3.2): every MoE layer's correction bias moves
 * by `rate · sign(mean load − load)`, through the same array op as `createMoeTrainStep` (so the float32 result is
 * the same). Replaces the bias arrays in `params` (the old ones are consumed).
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

/** A trainer core; see `createTrainerCore`. */
export type TrainerCore = ReturnType<typeof createTrainerCore>;

/**
 * A trainer on `params` (the core owns them from here on).
 * @example
 * const core = createTrainerCore(cfg, initParams(cfg, 1));
 * const { loss, logprobs } = await core.forwardBackward(rows, { kind: "ppo", clipLow: 0.2, clipHigh: 0.28 });
 * const { gradNorm } = await core.optimStep(1e-3, AdamWConfig.parse({}));
 */
export function createTrainerCore(
  cfg: GlmvConfig,
  initial: GlmvParams,
  settings: z.input<typeof TrainerCoreConfig> = {},
) {
  const { moeBalance } = TrainerCoreConfig.parse(settings);
  const moe = cfg.text.moe;
  const moeLayers = moe ? moeLayerIndices(cfg).length : 0;
  let params = initial;
  let opt: ModelOptState | undefined;
  let acc: GlmvParams | undefined;
  let accLoads: number[][] | undefined;
  const gradFns = new Map<string, ReturnType<typeof jit>>();
  const applyFns = new Map<string, ReturnType<typeof jit>>();
  let scoreFn: ReturnType<typeof jit> | undefined;

  /** The objective of `loss` on `b` for params `q`, with the reported figures as auxiliary output. */
  const objective = (q: GlmvParams, b: GradArgs, loss: TrainLoss): [JaxArray, Omit<GradOut, "grads">] => {
    let logits: JaxArray;
    let routing: ReturnType<typeof forwardLogitsAndRouting>["routing"] = [];
    if (moe) ({ logits, routing } = forwardLogitsAndRouting(q, b.inputs, cfg));
    else logits = forwardLogits(q, b.inputs, cfg);
    const logprobs = tokenLogprobs(logits, b.targets);
    let value: JaxArray;
    let clipFraction: JaxArray;
    if (loss.kind === "cross_entropy") {
      value = logprobs.ref.mul(b.weights).sum().neg();
      clipFraction = np.zeros([]);
    } else {
      [value, clipFraction] = clippedSurrogate(
        logprobs.ref,
        b.oldLogprobs!,
        b.advantages!,
        b.weights,
        clipBounds(loss),
      );
    }
    if (!moe) {
      const figures = {
        loss: value.ref,
        clipFraction,
        logprobs,
        auxLoss: np.zeros([]),
        loads: np.zeros([0]),
      };
      return [value, figures];
    }
    const { aux, loads } = routingBalance(routing, b.valid!, moe.topK, moeBalance.auxLossCoef);
    const stacked = loads.length > 0 ? np.stack(loads, 0) : np.zeros([0, moe.numExperts]);
    const total = value.ref.add(aux.ref.mul(b.auxScale!));
    return [total, { loss: value, clipFraction, logprobs, auxLoss: aux, loads: stacked }];
  };

  const gradFn = (loss: TrainLoss) => {
    const key = JSON.stringify(loss);
    let f = gradFns.get(key);
    if (!f) {
      f = jit((p: GlmvParams, b: GradArgs): GradOut => {
        const [[total, figures], grads] = valueAndGrad((q: GlmvParams) => objective(q, b, loss), {
          hasAux: true,
        })(p) as [[JaxArray, Omit<GradOut, "grads">], GlmvParams];
        total.dispose();
        return { ...figures, grads };
      });
      gradFns.set(key, f);
    }
    return f;
  };

  /** The jitted call's arguments: the rows' arrays its loss reads (the rest are freed), MoE validity and scale. */
  const gradArgs = (rows: TrainRows, loss: TrainLoss, auxScale: number): GradArgs => {
    const { oldLogprobs, advantages, valid, ...base } = rows;
    const args: GradArgs = base;
    if (loss.kind === "cross_entropy") tree.dispose([oldLogprobs, advantages].filter((x) => x !== undefined));
    else {
      if (!oldLogprobs || !advantages)
        throw new GlmvError("bad_input", `the ${loss.kind} loss needs oldLogprobs and advantages`, {
          where: "forwardBackward",
        });
      Object.assign(args, { oldLogprobs, advantages });
    }
    if (moe) {
      args.valid = valid ?? tokenValidity(rows.inputs.mask.ref);
      args.auxScale = np.array(auxScale);
    } else valid?.dispose();
    return args;
  };

  /** Drop gradients (and MoE loads) accumulated since the last step. */
  const clearGradients = (): void => {
    if (acc) tree.dispose(acc);
    acc = undefined;
    accLoads = undefined;
  };
  /** Drop the optimiser state: the next step starts a fresh AdamW. */
  const resetOptimizer = (): void => {
    if (opt) tree.dispose(opt);
    opt = undefined;
  };
  /** Swap in new weights (the old ones are freed); accumulated gradients are dropped. */
  const replaceParams = (next: GlmvParams): void => {
    if (next !== params) tree.dispose(params);
    params = next;
    clearGradients();
  };

  return {
    /** The current weights (borrowed: take `tree.ref` to keep them past the next step). */
    get params(): GlmvParams {
      return params;
    },

    replaceParams,
    resetOptimizer,
    clearGradients,

    /** The gradient accumulated since the last step (borrowed), or undefined. */
    gradients(): GlmvParams | undefined {
      return acc;
    },

    /**
     * Forward and backward on packed rows (consumed): the gradient of `loss` adds to the accumulator.
     * `auxScale` weighs a MoE call's balance loss (its share of the step's rows, so the step sums it once).
     */
    async forwardBackward(
      rows: TrainRows,
      loss: TrainLoss,
      opts: { auxScale?: number } = {},
    ): Promise<ForwardBackwardResult> {
      const out = gradFn(loss)(tree.ref(params), gradArgs(rows, loss, opts.auxScale ?? 1)) as GradOut;
      acc = acc ? addTrees(acc, out.grads) : out.grads;
      const result: ForwardBackwardResult = {
        loss: (await out.loss.jsAsync()) as number,
        clipFraction: (await out.clipFraction.jsAsync()) as number,
        auxLoss: (await out.auxLoss.jsAsync()) as number,
        logprobs: (await out.logprobs.data()) as Float32Array,
      };
      const flat = (await out.loads.data()) as Float32Array;
      if (moe) {
        const loads = Array.from({ length: moeLayers }, (_, j) =>
          Array.from(flat.subarray(j * moe.numExperts, (j + 1) * moe.numExperts)),
        );
        accLoads = addLoads(accLoads, loads);
        result.loads = loads;
      }
      return result;
    },

    /**
     * AdamW on the accumulated gradient, then (MoE) the correction-bias update from the loads of the same rows.
     * Without gradients it does nothing and reports a norm of 0.
     */
    async optimStep(lr: number, adamw: AdamWConfig): Promise<{ gradNorm: number }> {
      if (!acc) return { gradNorm: 0 };
      const key = JSON.stringify(adamw);
      let apply = applyFns.get(key);
      if (!apply) {
        apply = jit((p: GlmvParams, g: GlmvParams, o: ModelOptState, rate: JaxArray) =>
          adamwUpdate(p, g, o, rate, adamw),
        );
        applyFns.set(key, apply);
      }
      opt ??= adamwInit(params);
      const up = apply(params, acc, opt, np.array(lr)) as {
        params: GlmvParams;
        state: ModelOptState;
        gradNorm: JaxArray;
      };
      params = up.params;
      opt = up.state;
      acc = undefined;
      const loads = accLoads;
      accLoads = undefined;
      if (moe && loads) applyCorrectionBiasUpdate(params, cfg, loads, moeBalance.biasUpdateRate);
      return { gradNorm: (await up.gradNorm.jsAsync()) as number };
    },

    /** log π(target) per slot [B · S] under the current weights, no gradient. Consumes `rows`. */
    async logprobs(rows: ScoreRows): Promise<Float32Array> {
      scoreFn ??= jit((p: GlmvParams, b: ScoreRows) =>
        tokenLogprobs(forwardLogits(p, b.inputs, cfg), b.targets),
      );
      const lp = scoreFn(tree.ref(params), rows) as JaxArray;
      return (await lp.data()) as Float32Array;
    },

    /** Weights as a checkpoint folder, plus `optimizer.safetensors` once there is optimiser state. */
    async save(dir: string, extras: { tokenizerJson?: unknown } = {}): Promise<void> {
      await saveCheckpointDir(dir, {
        config: toHfConfig(cfg),
        tensors: paramsToNamed(params),
        ...(extras.tokenizerJson !== undefined ? { tokenizerJson: extras.tokenizerJson } : {}),
      });
      if (opt) await saveOptimizerState(join(dir, OPTIMIZER_FILE), opt);
    },

    /**
     * Weights from a checkpoint folder (accumulated gradients are dropped). `optimizer`: also take its optimiser
     * state (a folder without one starts a fresh AdamW); otherwise the current state stays.
     */
    async load(dir: string, opts: { optimizer: boolean }): Promise<void> {
      const { tensors } = await loadCheckpointDir(dir, expectedTensors(cfg));
      replaceParams(paramsFromNamed(tensors, cfg));
      if (opts.optimizer) {
        resetOptimizer();
        opt = await loadOptimizerState(join(dir, OPTIMIZER_FILE), cfg);
      }
    },

    dispose(): void {
      for (const f of [...gradFns.values(), ...applyFns.values()]) f.dispose();
      gradFns.clear();
      applyFns.clear();
      scoreFn?.dispose();
      clearGradients();
      resetOptimizer();
      tree.dispose(params);
    },
  };
}
