/**
 * The trainer core's native backend (issue 22): with `backend: "native"` (or GLMV_BACKEND=native) and
 * onnxruntime-node loadable, a gradient call and an AdamW step run as jax-js programs lowered to ONNX
 * (src/tensor/onnx/), one compiled session per (loss, α, argument shapes) and per AdamW config. Weights, AdamW
 * state and the accumulated gradient stay host arrays across steps; the state's `params`, `opt` and `acc` fields
 * become views (HostMirror) that rebuild the jax-js trees scoring, generation, save and load read only when read.
 * When onnxruntime-node does not load or a program does not lower, the core says why once and stays on jax-js.
 */
import { availableParallelism } from "node:os";
import { type Array as JaxArray, type JsTree, type JsTreeDef, numpy as np, tree } from "@jax-js/jax";
import { type AdamWConfig, adamwInit, adamwUpdate } from "../tensor/adamw.ts";
import { HostMirror, hostLeaves } from "../tensor/onnx/host-mirror.ts";
import { NativeSwitch } from "../tensor/onnx/native-switch.ts";
import { type HostArray, type NativeProgram, toHost } from "../tensor/onnx/program.ts";
import { GlmvError } from "../util/errors.ts";
import type { ModelOptState } from "./model.ts";
import { moeLayerIndices, updateCorrectionBiasHost } from "./moe-balance.ts";
import type { GlmvParams } from "./params.ts";
import { Backend, type TrainLoss } from "./trainer-core-config.ts";
import type { NativeBackend, TrainerState } from "./trainer-core-types.ts";

export type { NativeBackend } from "./trainer-core-types.ts";

import type { GradArgs } from "./trainer-objective.ts";

/** The figures of one native gradient call (host values; `loads` flat over MoE layers). */
export type NativeGradFigures = {
  loss: number;
  clipFraction: number;
  auxLoss: number;
  logprobs: Float32Array;
  loads: Float32Array;
};

/**
 * The backend a core runs on: its `backend` setting, else GLMV_BACKEND, else native (which still falls back to
 * jax-js, saying why, where onnxruntime-node does not load).
 */
export function chosenBackend(backend: Backend | undefined): Backend {
  const env = process.env.GLMV_BACKEND;
  if (backend === undefined && env && !Backend.safeParse(env).success)
    throw new GlmvError(
      "bad_argument",
      `GLMV_BACKEND=${env}: expected one of ${Backend.options.join(", ")}`,
      {
        where: "GLMV_BACKEND",
      },
    );
  return backend ?? ((env || "native") as Backend);
}

/** Make `state`'s params, opt and acc views over host mirrors and attach the native backend. */
export function installNativeBackend(state: TrainerState, threads = availableParallelism()): NativeBackend {
  const native: NativeBackend = {
    engine: new NativeSwitch(threads, "native training backend off, training on jax-js"),
    params: new HostMirror(state.params),
    opt: new HostMirror(state.opt),
    acc: new HostMirror(state.acc),
    grad: new Map(),
    apply: new Map(),
    score: new Map(),
    calls: 0,
    steps: 0,
    scores: 0,
  };
  for (const key of ["params", "opt", "acc"] as const) {
    const mirror = native[key] as HostMirror<JsTree<JaxArray>>;
    Object.defineProperty(state, key, {
      get: () => mirror.value,
      set: (next) => {
        mirror.value = next;
      },
      enumerable: true,
    });
  }
  (state as { native?: NativeBackend }).native = native;
  return native;
}

/** Whether this state trains natively now (loads onnxruntime-node on first ask). */
export async function nativeOn(state: TrainerState): Promise<boolean> {
  return (await state.native?.engine.on()) ?? false;
}

/** Output slots of a program: its result tree with each leaf replaced by the leaf's index. */
function outputSlots<T>(program: NativeProgram, count: number): T {
  return tree.unflatten(
    program.outTree,
    Array.from({ length: count }, (_, i) => i),
  ) as T;
}

const leafSlots = (t: unknown): number[] => tree.leaves(t as never) as unknown as number[];

/** fresh += acc, leafwise into `fresh` (this call's own outputs: the installed leaves are never written). */
function addInto(fresh: HostArray[], acc: readonly HostArray[]): void {
  for (const [i, a] of fresh.entries()) {
    const x = a.data as Float32Array;
    const y = acc[i]!.data as Float32Array;
    for (let k = 0; k < x.length; k++) x[k]! += y[k]!;
  }
}

/**
 * One native gradient call of `fn` (the core's gradStep for `loss` and α) on `args` (consumed unless it returns undefined: the program did not lower and the
 * caller runs jax-js on them); the gradient adds to the host accumulator.
 */
export async function nativeGradient(
  state: TrainerState,
  loss: TrainLoss,
  auxLossCoef: number,
  args: GradArgs,
  fn: (p: GlmvParams, b: GradArgs) => unknown,
): Promise<NativeGradFigures | undefined> {
  const native = state.native!;
  const params = (await native.params.host())!;
  const [argLeaves, argDef] = tree.flatten(args) as [JaxArray[], JsTreeDef];
  const shapes = argLeaves.map((a) => `${a.dtype}[${a.shape}]`);
  // the trees' structures are part of the key: inputs are fed in the traced order
  const structure = `${native.params.def}|${argDef}`;
  const key = JSON.stringify([loss, state.cfg.text.moe ? auxLossCoef : 0, shapes, structure]);
  // biome-ignore lint/suspicious/noExplicitAny: as above: the traced function's arguments are array trees of any shape
  const traced = fn as (...a: any[]) => JsTree<JaxArray>;
  const program = await native.engine.compile(native.grad, key, traced, () => ({
    args: [state.params, args],
  }));
  if (!program) return undefined;
  const outs = await program.run([...params, ...(await Promise.all(argLeaves.map(toHost)))]);
  const slots = outputSlots<Record<keyof NativeGradFigures | "grads", number>>(program, outs.length);
  const grads = leafSlots(slots.grads).map((i) => outs[i]!);
  const acc = await native.acc.host();
  if (acc) addInto(grads, acc);
  native.acc.setHost(grads, native.params.def);
  native.calls++;
  const scalar = (k: keyof NativeGradFigures) => outs[slots[k]]!.data[0] as number;
  return {
    loss: scalar("loss"),
    clipFraction: scalar("clipFraction"),
    auxLoss: scalar("auxLoss"),
    logprobs: outs[slots.logprobs]!.data as Float32Array,
    loads: outs[slots.loads]!.data as Float32Array,
  };
}

/**
 * One native scoring call of `fn` (the core's scoring forward) on `inputs` (consumed unless it returns undefined:
 * the program did not lower and the caller runs jax-js), under the core's weights or `weights` (borrowed; e.g. a
 * sampler's snapshot). Returns the result's leaves as host arrays, in the order of `fn`'s result tree.
 */
export async function nativeScore(
  state: TrainerState,
  weights: GlmvParams | undefined,
  inputs: JsTree<JaxArray>,
  fn: (p: GlmvParams, b: never) => unknown,
): Promise<HostArray[] | undefined> {
  const native = state.native!;
  const [leaves, def] = tree.flatten(inputs) as [JaxArray[], JsTreeDef];
  const weightLeaves = weights ? await hostLeaves(weights) : (await native.params.host())!;
  const weightDef = weights ? tree.structure(weights) : native.params.def;
  const shapes = leaves.map((a) => `${a.dtype}[${a.shape}]`);
  const key = JSON.stringify([shapes, `${weightDef}|${def}`]);
  // biome-ignore lint/suspicious/noExplicitAny: the traced function's arguments are array trees of any shape
  const traced = fn as (...a: any[]) => JsTree<JaxArray>;
  const program = await native.engine.compile(native.score, key, traced, () => ({
    args: [weights ?? state.params, inputs],
  }));
  if (!program) return undefined;
  native.scores++;
  return program.run([...weightLeaves, ...(await Promise.all(leaves.map(toHost)))]);
}

/** The MoE correction-bias update on new host weights (the rule of applyCorrectionBiasUpdate). */
function correctionBiasOnHost(
  state: TrainerState,
  weights: HostArray[],
  def: JsTreeDef,
  loads: number[][],
  rate: number,
): void {
  const layers = moeLayerIndices(state.cfg);
  if (rate === 0) return;
  if (loads.length !== layers.length)
    throw new GlmvError("bad_input", `${loads.length} load vectors for ${layers.length} MoE layers`, {
      where: "optimStep",
    });
  const slots = tree.unflatten(
    def,
    Array.from({ length: def.size }, (_, i) => i),
  ) as unknown as { text: { layers: { correctionBias?: number }[] } };
  for (const [j, l] of layers.entries()) {
    const at = slots.text.layers[l]!.correctionBias!;
    weights[at] = { ...weights[at]!, data: updateCorrectionBiasHost(weights[at]!.data, loads[j]!, rate) };
  }
}

/**
 * AdamW on the host gradient accumulator, then (MoE) the correction-bias update on the host weights. Undefined
 * when the update does not lower (the caller runs jax-js's; the backend is off).
 */
export async function nativeOptimStep(
  state: TrainerState,
  lr: number,
  adamw: AdamWConfig,
  biasUpdateRate: number,
): Promise<{ gradNorm: number } | undefined> {
  const native = state.native!;
  if (!native.opt.present) native.opt.value = adamwInit(state.params);
  const params = (await native.params.host())!;
  const opt = (await native.opt.host())!;
  const key = `${JSON.stringify(adamw)}|${native.params.def}|${native.opt.def}`;
  const fn = (p: GlmvParams, g: GlmvParams, o: ModelOptState, rate: JaxArray) =>
    adamwUpdate(p, g, o, rate, adamw) as unknown as JsTree<JaxArray>;
  let program = native.apply.get(key);
  if (!program) {
    const rate = np.array(lr);
    program = await native.engine.compile(native.apply, key, fn, () => ({
      args: [state.params, state.params, state.opt!, rate],
    }));
    rate.dispose();
    if (!program) return undefined;
  }
  const lrHost: HostArray = { data: Float32Array.of(lr), shape: [], dtype: "float32" };
  const outs = await program.run([...params, ...(await native.acc.host())!, ...opt, lrHost]);
  const slots = outputSlots<{ params: unknown; state: unknown; gradNorm: number }>(program, outs.length);
  const weights = leafSlots(slots.params).map((i) => outs[i]!);
  const loads = state.accLoads;
  state.accLoads = undefined;
  const def = tree.structure(slots.params as never);
  if (state.cfg.text.moe && loads) correctionBiasOnHost(state, weights, def, loads, biasUpdateRate);
  native.params.setHost(weights, def);
  native.opt.setHost(
    leafSlots(slots.state).map((i) => outs[i]!),
    tree.structure(slots.state as never),
  );
  native.acc.clear();
  native.steps++;
  return { gradNorm: outs[slots.gradNorm]!.data[0] as number };
}

/** Free the native sessions and both sides of the mirrored trees (nothing rebuilt). */
export function disposeNative(native: NativeBackend): void {
  for (const p of [...native.grad.values(), ...native.apply.values(), ...native.score.values()])
    void p.dispose();
  native.grad.clear();
  native.apply.clear();
  native.score.clear();
  native.params.clear();
  native.opt.clear();
  native.acc.clear();
}
