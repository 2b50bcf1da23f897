/**
 * The trainer core's one state object (trainer-core.ts): the weights, the optimiser state, the gradient and MoE
 * loads accumulated since the last step, and the compiled programs reused across calls. The core's primitives
 * (trainer-core-train.ts, trainer-core-score.ts) are functions over it; `createTrainerCore` holds one.
 */
import { join } from "node:path";
import { tree } from "@jax-js/jax";
import type { z } from "zod";
import { loadCheckpointDir, saveCheckpointDir } from "./checkpoint.ts";
import type { GlmvConfig } from "./config.ts";
import { toHfConfig } from "./config-hf.ts";
import { expectedTensors } from "./config-tensors.ts";
import type { ModelOptState } from "./model.ts";
import { moeLayerIndices } from "./moe-balance.ts";
import { loadOptimizerState, saveOptimizerState } from "./optimizer-state.ts";
import { type GlmvParams, paramsFromNamed, paramsToNamed } from "./params.ts";
import { OPTIMIZER_FILE, TrainerCoreConfig } from "./trainer-core-config.ts";
import { chosenBackend, disposeNative, installNativeBackend } from "./trainer-core-native.ts";
import type { TrainerState } from "./trainer-core-types.ts";

export type { Compiled, TrainerState } from "./trainer-core-types.ts";

/** A state owning `initial`, with the settings parsed (defaults filled in). */
export function createTrainerState(
  cfg: GlmvConfig,
  initial: GlmvParams,
  settings: z.input<typeof TrainerCoreConfig>,
): TrainerState {
  const { moeBalance, packing, backend, nativeThreads } = TrainerCoreConfig.parse(settings);
  const state: TrainerState = {
    cfg,
    moeBalance,
    packing,
    moeLayers: cfg.text.moe ? moeLayerIndices(cfg).length : 0,
    params: initial,
    opt: undefined,
    acc: undefined,
    accLoads: undefined,
    compiled: { grad: new Map(), apply: new Map() },
  };
  if (chosenBackend(backend) === "native") installNativeBackend(state, nativeThreads);
  return state;
}

/** Drop gradients (and MoE loads) accumulated since the last step. */
export function clearGradients(state: TrainerState): void {
  if (state.native) state.native.acc.clear();
  else if (state.acc) tree.dispose(state.acc);
  state.acc = undefined;
  state.accLoads = undefined;
}

/** Drop the optimiser state: the next step starts a fresh AdamW. */
export function resetOptimizer(state: TrainerState): void {
  if (state.native) state.native.opt.clear();
  else if (state.opt) tree.dispose(state.opt);
  state.opt = undefined;
}

/** Swap in new weights (the old ones are freed); accumulated gradients are dropped. */
export function replaceParams(state: TrainerState, next: GlmvParams): void {
  if (state.native) state.native.params.replace(next);
  else {
    if (next !== state.params) tree.dispose(state.params);
    state.params = next;
  }
  clearGradients(state);
}

/** Install another optimiser state and hand back the current one. */
export function swapOptimizer(
  state: TrainerState,
  next: ModelOptState | undefined,
): ModelOptState | undefined {
  const current = state.opt;
  state.opt = next;
  return current;
}

/** Weights as a checkpoint folder, plus `optimizer.safetensors` once there is optimiser state. */
export async function saveTrainerState(
  state: TrainerState,
  dir: string,
  extras: { tokenizerJson?: unknown },
): Promise<void> {
  await saveCheckpointDir(dir, {
    config: toHfConfig(state.cfg),
    tensors: paramsToNamed(state.params),
    ...(extras.tokenizerJson !== undefined ? { tokenizerJson: extras.tokenizerJson } : {}),
  });
  if (state.opt) await saveOptimizerState(join(dir, OPTIMIZER_FILE), state.opt);
}

/** Weights (and with `optimizer`, the optimiser state) from a checkpoint folder; gradients are dropped. */
export async function loadTrainerState(
  state: TrainerState,
  dir: string,
  opts: { optimizer: boolean },
): Promise<void> {
  const { tensors } = await loadCheckpointDir(dir, expectedTensors(state.cfg));
  replaceParams(state, paramsFromNamed(tensors, state.cfg));
  if (opts.optimizer) {
    resetOptimizer(state);
    state.opt = await loadOptimizerState(join(dir, OPTIMIZER_FILE), state.cfg);
  }
}

/** Free the compiled programs, the gradient, the optimiser state and the weights. */
export function disposeTrainerState(state: TrainerState): void {
  const { compiled } = state;
  for (const f of [...compiled.grad.values(), ...compiled.apply.values()]) f.dispose();
  compiled.grad.clear();
  compiled.apply.clear();
  compiled.score?.dispose();
  compiled.scoreNext?.dispose();
  clearGradients(state);
  resetOptimizer(state);
  if (state.native) disposeNative(state.native);
  else tree.dispose(state.params);
}
