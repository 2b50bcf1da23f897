/**
 * The trainer core's training primitives over its state (trainer-core-state.ts): `forwardBackwardRows` (one jitted
 * forward + backward on packed rows), `forwardBackward` (sequences packed into calls first) and `optimStep` (AdamW
 * on the accumulated gradient, then the MoE correction-bias update from the loads of the same rows).
 */
import { type Array as JaxArray, jit, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { type AdamWConfig, adamwInit, adamwUpdate } from "../tensor/adamw.ts";
import { GlmvError } from "../util/errors.ts";
import type { GlmvConfig } from "./config.ts";
import type { ModelOptState } from "./model.ts";
import { addLoads, applyCorrectionBiasUpdate, tokenValidity } from "./moe-balance.ts";
import type { PackedLayout } from "./packed-inputs.ts";
import { packTrainRows, type TrainRows, type TrainSegment } from "./packed-rows.ts";
import { packSequences, planCalls } from "./packing.ts";
import type { GlmvParams } from "./params.ts";
import type { ForwardBackwardResult, GradOptions, SegmentsResult, TrainLoss } from "./trainer-core-config.ts";
import { type NativeGradFigures, nativeGradient, nativeOn, nativeOptimStep } from "./trainer-core-native.ts";
import type { Compiled, TrainerState } from "./trainer-core-state.ts";
import { type GradArgs, type GradOut, trainObjective } from "./trainer-objective.ts";

/** Leafwise a + b (consumes both). */
function addTrees(a: GlmvParams, b: GlmvParams): GlmvParams {
  return tree.map((x: JaxArray, y: JaxArray) => x.add(y), a, b) as GlmvParams;
}

/** The compiled value-and-gradient of `loss` (one per loss and, for MoE, balance weight α). */
function gradProgram(state: TrainerState, loss: TrainLoss, auxLossCoef: number): Compiled {
  const { cfg, compiled } = state;
  const key = JSON.stringify([loss, cfg.text.moe ? auxLossCoef : 0]);
  let f = compiled.grad.get(key);
  if (!f) {
    f = jit(gradStep(cfg, loss, auxLossCoef));
    compiled.grad.set(key, f);
  }
  return f;
}

/** The value-and-gradient function a gradient call runs (jitted here; lowered to ONNX by the native engine). */
export function gradStep(
  cfg: GlmvConfig,
  loss: TrainLoss,
  auxLossCoef: number,
): (p: GlmvParams, b: GradArgs) => GradOut {
  return (p, b) => {
    const [[total, figures], grads] = valueAndGrad(
      (q: GlmvParams) => trainObjective(cfg, q, b, loss, auxLossCoef),
      { hasAux: true },
    )(p) as [[JaxArray, Omit<GradOut, "grads">], GlmvParams];
    total.dispose();
    return { ...figures, grads };
  };
}

/** The jitted call's arguments: the rows' arrays its loss reads (the rest are freed), MoE validity and scale. */
export function gradArgs(state: TrainerState, rows: TrainRows, loss: TrainLoss, auxScale: number): GradArgs {
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
  if (state.cfg.text.moe) {
    args.valid = valid ?? tokenValidity(rows.inputs.mask.ref);
    args.auxScale = np.array(auxScale);
  } else valid?.dispose();
  return args;
}

/** The host figures of one jax-js gradient call. */
async function readGradOut(out: GradOut): Promise<NativeGradFigures> {
  return {
    loss: (await out.loss.jsAsync()) as number,
    clipFraction: (await out.clipFraction.jsAsync()) as number,
    auxLoss: (await out.auxLoss.jsAsync()) as number,
    logprobs: (await out.logprobs.data()) as Float32Array,
    loads: (await out.loads.data()) as Float32Array,
  };
}

/** One gradient call's result; a MoE call's expert loads also add to the step's. */
function gradResult(state: TrainerState, figures: NativeGradFigures): ForwardBackwardResult {
  const { loads: flat, ...figuresOnly } = figures;
  const result: ForwardBackwardResult = figuresOnly;
  const moe = state.cfg.text.moe;
  if (moe) {
    const loads = Array.from({ length: state.moeLayers }, (_, j) =>
      Array.from(flat.subarray(j * moe.numExperts, (j + 1) * moe.numExperts)),
    );
    state.accLoads = addLoads(state.accLoads, loads);
    result.loads = loads;
  }
  return result;
}

/** One gradient call on packed rows (consumed); the gradient adds to the accumulator. */
export async function forwardBackwardRows(
  state: TrainerState,
  rows: TrainRows,
  loss: TrainLoss,
  opts: GradOptions = {},
): Promise<ForwardBackwardResult> {
  const auxLossCoef = opts.auxLossCoef ?? state.moeBalance.auxLossCoef;
  const args = gradArgs(state, rows, loss, opts.auxScale ?? 1);
  if (await nativeOn(state)) {
    const fn = gradStep(state.cfg, loss, auxLossCoef);
    const figures = await nativeGradient(state, loss, auxLossCoef, args, fn);
    if (figures) return gradResult(state, figures);
  }
  const out = gradProgram(state, loss, auxLossCoef)(tree.ref(state.params), args) as GradOut;
  state.acc = state.acc ? addTrees(state.acc, out.grads) : out.grads;
  return gradResult(state, await readGradOut(out));
}

/** Sequence indices per packed row, grouped into calls of `rowsPerCall` rows with room for their images. */
function planTrainCalls(
  state: TrainerState,
  segments: readonly TrainSegment[],
  microBatches: readonly (readonly number[])[] | undefined,
): number[][][] {
  const { context, imagesPerRow, rowsPerCall } = state.packing;
  const micro =
    microBatches ??
    packSequences(
      segments.map((q) => q.ids.length),
      context,
    ).microBatches;
  return planCalls(micro, (i) => segments[i]!.grids?.length ?? 0, { rowsPerCall, imagesPerRow });
}

/** Σ |loss weight| of the sequences of one call (the call's share in the clip fraction). */
const lossWeightOf = (chosen: readonly (readonly TrainSegment[])[]): number =>
  chosen.flat().reduce((a, q) => a + q.weights.reduce((x, y) => x + Math.abs(y), 0), 0);

/** Each sequence's logprobs cut out of its call's slots (entry j: token j + 1). */
function scatterLogprobs(
  into: Float32Array[],
  call: readonly (readonly number[])[],
  layout: PackedLayout,
  slots: Float32Array,
  context: number,
): void {
  for (const [r, row] of call.entries())
    for (const [k, i] of row.entries()) {
      const place = layout.places[r]![k]!;
      const at = r * context + place.start;
      into[i] = slots.slice(at, at + place.length - 1);
    }
}

/**
 * Forward and backward on sequences packed into calls (`planTrainCalls`); each call's MoE balance loss weighs
 * its share of the rows. Gradients add to the accumulator.
 */
export async function forwardBackward(
  state: TrainerState,
  segments: readonly TrainSegment[],
  loss: TrainLoss,
  opts: { microBatches?: readonly (readonly number[])[]; auxLossCoef?: number },
): Promise<SegmentsResult> {
  const { context, imagesPerRow, rowsPerCall } = state.packing;
  const calls = planTrainCalls(state, segments, opts.microBatches);
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
    const { rows, layout } = packTrainRows(state.cfg, chosen, shape);
    // auxScale = this call's share of the rows: the summed balance loss is the batch mean
    const auxScale = call.length / total;
    const out = await forwardBackwardRows(state, rows, loss, {
      auxScale,
      ...(opts.auxLossCoef !== undefined ? { auxLossCoef: opts.auxLossCoef } : {}),
    });
    const w = lossWeightOf(chosen);
    result.loss += out.loss;
    result.auxLoss += out.auxLoss * auxScale;
    clipped += out.clipFraction * w;
    weight += w;
    if (out.loads) result.loads = addLoads(result.loads, out.loads);
    scatterLogprobs(result.logprobs, call, layout, out.logprobs, context);
  }
  result.clipFraction = weight > 0 ? clipped / weight : 0;
  return result;
}

/** The compiled AdamW update for one AdamW config. */
function adamwProgram(state: TrainerState, adamw: AdamWConfig): Compiled {
  const key = JSON.stringify(adamw);
  let apply = state.compiled.apply.get(key);
  if (!apply) {
    apply = jit((p: GlmvParams, g: GlmvParams, o: ModelOptState, rate: JaxArray) =>
      adamwUpdate(p, g, o, rate, adamw),
    );
    state.compiled.apply.set(key, apply);
  }
  return apply;
}

/**
 * AdamW on the accumulated gradient, then (MoE) the correction-bias update from the loads of the same rows
 * (`biasUpdateRate` overrides the core's u). Without gradients it does nothing and reports a norm of 0.
 */
export async function optimStep(
  state: TrainerState,
  lr: number,
  adamw: AdamWConfig,
  opts: { biasUpdateRate?: number },
): Promise<{ gradNorm: number }> {
  const rate = opts.biasUpdateRate ?? state.moeBalance.biasUpdateRate;
  if (state.native?.acc.present && (await nativeOn(state))) {
    const stepped = await nativeOptimStep(state, lr, adamw, rate);
    if (stepped) return stepped;
  }
  if (!state.acc) return { gradNorm: 0 };
  const apply = adamwProgram(state, adamw);
  state.opt ??= adamwInit(state.params);
  const up = apply(state.params, state.acc, state.opt, np.array(lr)) as {
    params: GlmvParams;
    state: ModelOptState;
    gradNorm: JaxArray;
  };
  state.params = up.params;
  state.opt = up.state;
  state.acc = undefined;
  const loads = state.accLoads;
  state.accLoads = undefined;
  if (state.cfg.text.moe && loads) applyCorrectionBiasUpdate(state.params, state.cfg, loads, rate);
  return { gradNorm: (await up.gradNorm.jsAsync()) as number };
}
