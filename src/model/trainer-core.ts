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
 * Dense and MoE are chosen here, once, from the config: a MoE forward also returns its routing, adds
 * `auxScale` · Σ_layers sequence balance loss (α of `moeBalance`) to the objective and reports expert loads over
 * the valid slots. The forward gathers embeddings with `take` (model.ts `GatherMode`: the one-hot form cost most
 * of a step).
 */
import { join } from "node:path";
import { type Array as JaxArray, jit, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import type { z } from "zod";
import { type AdamWConfig, adamwInit, adamwUpdate } from "../tensor/adamw.ts";
import { GlmvError } from "../util/errors.ts";
import { loadCheckpointDir, saveCheckpointDir } from "./checkpoint.ts";
import type { GlmvConfig } from "./config.ts";
import { toHfConfig } from "./config-hf.ts";
import { expectedTensors } from "./config-tensors.ts";
import { forwardLogits, type ModelOptState } from "./model.ts";
import { addLoads, applyCorrectionBiasUpdate, moeLayerIndices, tokenValidity } from "./moe-balance.ts";
import { loadOptimizerState, saveOptimizerState } from "./optimizer-state.ts";
import type { PackedSegment } from "./packed-inputs.ts";
import { packTrainRows, type ScoreRows, type TrainRows, type TrainSegment } from "./packed-rows.ts";
import { packedLogprobs, type ScoringShape } from "./packed-scoring.ts";
import { packSequences, planCalls } from "./packing.ts";
import { type GlmvParams, paramsFromNamed, paramsToNamed } from "./params.ts";
import { tokenLogprobs } from "./policy-loss.ts";
import {
  type ForwardBackwardResult,
  type GradOptions,
  OPTIMIZER_FILE,
  type SegmentsResult,
  TrainerCoreConfig,
  type TrainLoss,
} from "./trainer-core-config.ts";
import { type GradArgs, type GradOut, trainObjective } from "./trainer-objective.ts";

/** Leafwise a + b (consumes both). */
function addTrees(a: GlmvParams, b: GlmvParams): GlmvParams {
  return tree.map((x: JaxArray, y: JaxArray) => x.add(y), a, b) as GlmvParams;
}

/** A trainer core; see `createTrainerCore`. */
export type TrainerCore = ReturnType<typeof createTrainerCore>;

/**
 * A trainer on `params` (the core owns them from here on).
 * @example
 * const core = createTrainerCore(cfg, initParams(cfg, 1));
 * const { loss, logprobs } = await core.forwardBackward(segments, { kind: "ppo", clipLow: 0.2, clipHigh: 0.28 });
 * const { gradNorm } = await core.optimStep(1e-3, AdamWConfig.parse({}));
 */
export function createTrainerCore(
  cfg: GlmvConfig,
  initial: GlmvParams,
  settings: z.input<typeof TrainerCoreConfig> = {},
) {
  const { moeBalance, packing } = TrainerCoreConfig.parse(settings);
  const moe = cfg.text.moe;
  const moeLayers = moe ? moeLayerIndices(cfg).length : 0;
  let params = initial;
  let opt: ModelOptState | undefined;
  let acc: GlmvParams | undefined;
  let accLoads: number[][] | undefined;
  const gradFns = new Map<string, ReturnType<typeof jit>>();
  const applyFns = new Map<string, ReturnType<typeof jit>>();
  let scoreFn: ReturnType<typeof jit> | undefined;
  let scoreNextFn: ReturnType<typeof jit> | undefined;

  const gradFn = (loss: TrainLoss, auxLossCoef: number) => {
    const key = JSON.stringify([loss, moe ? auxLossCoef : 0]);
    let f = gradFns.get(key);
    if (!f) {
      f = jit((p: GlmvParams, b: GradArgs): GradOut => {
        const [[total, figures], grads] = valueAndGrad(
          (q: GlmvParams) => trainObjective(cfg, q, b, loss, auxLossCoef),
          { hasAux: true },
        )(p) as [[JaxArray, Omit<GradOut, "grads">], GlmvParams];
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

  /** One gradient call on packed rows (consumed); the gradient adds to the accumulator. */
  const forwardBackwardRows = async (
    rows: TrainRows,
    loss: TrainLoss,
    opts: GradOptions = {},
  ): Promise<ForwardBackwardResult> => {
    const auxLossCoef = opts.auxLossCoef ?? moeBalance.auxLossCoef;
    const out = gradFn(loss, auxLossCoef)(
      tree.ref(params),
      gradArgs(rows, loss, opts.auxScale ?? 1),
    ) as GradOut;
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
  };

  /** The jitted scoring forward: per-slot target logprobs, and with `ends` the logits [slots, V] at those slots. */
  const score = (
    p: GlmvParams,
    rows: ScoreRows,
    ends?: JaxArray,
  ): { logprobs: JaxArray; next?: JaxArray } => {
    if (!ends) {
      scoreFn ??= jit((q: GlmvParams, b: ScoreRows) =>
        tokenLogprobs(forwardLogits(q, b.inputs, cfg), b.targets),
      );
      return { logprobs: scoreFn(p, rows) as JaxArray };
    }
    scoreNextFn ??= jit((q: GlmvParams, b: ScoreRows & { ends: JaxArray }) => {
      const logits = forwardLogits(q, b.inputs, cfg);
      const [r, c, v] = logits.shape as [number, number, number];
      const next = np.take(logits.ref.reshape([r * c, v]), b.ends, 0);
      return { logprobs: tokenLogprobs(logits, b.targets), next };
    });
    return scoreNextFn(p, { ...rows, ends }) as { logprobs: JaxArray; next: JaxArray };
  };

  return {
    /** The current weights (borrowed: take `tree.ref` to keep them past the next step). */
    get params(): GlmvParams {
      return params;
    },
    /** The packing of `forwardBackward` and `logprobs`. */
    packing,

    replaceParams,
    resetOptimizer,
    clearGradients,

    /**
     * Install another optimiser state (undefined: a fresh AdamW at the next step) and hand back the current one,
     * so a phase with its own AdamW (SFT) can leave the trainer's state as it was.
     */
    swapOptimizer(next: ModelOptState | undefined): ModelOptState | undefined {
      const current = opt;
      opt = next;
      return current;
    },

    /** The gradient accumulated since the last step (borrowed), or undefined. */
    gradients(): GlmvParams | undefined {
      return acc;
    },

    /**
     * Forward and backward on packed rows (consumed): the gradient of `loss` adds to the accumulator.
     * `auxScale` weighs a MoE call's balance loss (its share of the step's rows, so the step sums it once).
     */
    forwardBackwardRows,

    /**
     * Forward and backward on sequences: packed first-fit into rows of the context (or into the given
     * `microBatches` of sequence indices), cut to the image slots of a row and run `rowsPerCall` rows per call;
     * each call's MoE balance loss weighs its share of the rows. Gradients add to the accumulator.
     */
    async forwardBackward(
      segments: readonly TrainSegment[],
      loss: TrainLoss,
      opts: { microBatches?: readonly (readonly number[])[]; auxLossCoef?: number } = {},
    ): Promise<SegmentsResult> {
      const { context, imagesPerRow, rowsPerCall } = packing;
      const micro =
        opts.microBatches ??
        packSequences(
          segments.map((q) => q.ids.length),
          context,
        ).microBatches;
      const calls = planCalls(micro, (i) => segments[i]!.grids?.length ?? 0, { rowsPerCall, imagesPerRow });
      const total = calls.reduce((a, c) => a + c.length, 0);
      const shape = { rows: rowsPerCall, context, imageSlots: rowsPerCall * imagesPerRow };
      const result: SegmentsResult = {
        loss: 0,
        clipFraction: 0,
        auxLoss: 0,
        logprobs: segments.map(() => new Float32Array(0)),
        rows: total,
      };
      let clipped = 0;
      let weight = 0;
      for (const call of calls) {
        const chosen = call.map((row) => row.map((i) => segments[i]!));
        const { rows, layout } = packTrainRows(cfg, chosen, shape);
        // auxScale = this call's share of the rows: the summed balance loss is the batch mean
        const auxScale = call.length / total;
        const out = await forwardBackwardRows(rows, loss, {
          auxScale,
          ...(opts.auxLossCoef !== undefined ? { auxLossCoef: opts.auxLossCoef } : {}),
        });
        const w = chosen.flat().reduce((a, q) => a + q.weights.reduce((x, y) => x + Math.abs(y), 0), 0);
        result.loss += out.loss;
        result.auxLoss += out.auxLoss * auxScale;
        clipped += out.clipFraction * w;
        weight += w;
        if (out.loads) result.loads = addLoads(result.loads, out.loads);
        for (const [r, row] of call.entries())
          for (const [k, i] of row.entries()) {
            const place = layout.places[r]![k]!;
            const at = r * context + place.start;
            result.logprobs[i] = out.logprobs.slice(at, at + place.length - 1);
          }
      }
      result.clipFraction = weight > 0 ? clipped / weight : 0;
      return result;
    },

    /**
     * AdamW on the accumulated gradient, then (MoE) the correction-bias update from the loads of the same rows
     * (`biasUpdateRate` overrides the core's u). Without gradients it does nothing and reports a norm of 0.
     */
    async optimStep(
      lr: number,
      adamw: AdamWConfig,
      opts: { biasUpdateRate?: number } = {},
    ): Promise<{ gradNorm: number }> {
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
      const rate = opts.biasUpdateRate ?? moeBalance.biasUpdateRate;
      if (moe && loads) applyCorrectionBiasUpdate(params, cfg, loads, rate);
      return { gradNorm: (await up.gradNorm.jsAsync()) as number };
    },

    /** log π(target) per slot [B · S] under the current weights, no gradient. Consumes `rows`. */
    async logprobsRows(rows: ScoreRows): Promise<Float32Array> {
      return (await score(tree.ref(params), rows).logprobs.data()) as Float32Array;
    },

    /**
     * Per-token logprobs of whole sequences, packed as `forwardBackward` packs them (`shape` overrides the core's
     * packing), under the current weights or the given `params` (borrowed; e.g. a sampler's snapshot).
     * `lastLogits` (needs `shape.segmentsPerRow`): also the logits after each sequence's last token.
     * @returns per sequence, `ids.length − 1` logprobs (entry j: token j + 1), and the last logits when asked
     */
    async logprobs(
      segments: readonly PackedSegment[],
      opts: { shape?: Partial<ScoringShape>; params?: GlmvParams; lastLogits?: boolean } = {},
    ): Promise<{ logprobs: Float32Array[]; last?: Float32Array[] }> {
      const shape: ScoringShape = { ...packing, ...opts.shape };
      const weights = opts.params ?? params;
      const slots = shape.rowsPerCall * (shape.segmentsPerRow ?? 0);
      if (opts.lastLogits && slots === 0)
        throw new GlmvError("bad_input", "last logits need a fixed segmentsPerRow", { where: "logprobs" });
      const vocab = cfg.text.vocabSize;
      const last: Float32Array[] = [];
      const logprobs = await packedLogprobs(cfg, segments, shape, async (batch, layout, rows) => {
        if (!opts.lastLogits) return (await score(tree.ref(weights), batch).logprobs.data()) as Float32Array;
        const ends = new Int32Array(slots);
        const order: number[] = [];
        for (const [r, rowPlaces] of layout.places.entries())
          for (const [k, place] of rowPlaces.entries()) {
            ends[order.length] = r * shape.context + place.start + place.length - 1;
            order.push(rows[r]![k]!);
          }
        const out = score(tree.ref(weights), batch, np.array(ends, { shape: [slots], dtype: np.int32 }));
        const logits = (await out.next!.data()) as Float32Array;
        for (const [k, i] of order.entries()) last[i] = logits.slice(k * vocab, (k + 1) * vocab);
        return (await out.logprobs.data()) as Float32Array;
      });
      return opts.lastLogits ? { logprobs, last } : { logprobs };
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
      scoreNextFn?.dispose();
      clearGradients();
      resetOptimizer();
      tree.dispose(params);
    },
  };
}
