/**
 * The trainer core's state types in one module of types alone, so the state (trainer-core-state.ts) and its native
 * backend (trainer-core-native.ts) can both name them without importing each other.
 */
import type { jit } from "@jax-js/jax";
import type { HostMirror } from "../tensor/onnx/host-mirror.ts";
import type { NativeSwitch } from "../tensor/onnx/native-switch.ts";
import type { NativeProgram } from "../tensor/onnx/program.ts";
import type { GlmvConfig } from "./config.ts";
import type { ModelOptState } from "./model.ts";
import type { GlmvParams } from "./params.ts";
import type { TrainerCoreConfig } from "./trainer-core-config.ts";

/** A compiled program (jit's result). */
export type Compiled = ReturnType<typeof jit>;

/** Everything a trainer core holds between calls. */
export type TrainerState = {
  readonly cfg: GlmvConfig;
  readonly moeBalance: TrainerCoreConfig["moeBalance"];
  readonly packing: TrainerCoreConfig["packing"];
  /** MoE layers of the config (0 for a dense model). */
  readonly moeLayers: number;
  /** The current weights (owned). */
  params: GlmvParams;
  /** AdamW's state; undefined until the first step (or after a reset). */
  opt: ModelOptState | undefined;
  /** The gradient summed since the last step. */
  acc: GlmvParams | undefined;
  /** MoE: expert loads summed since the last step, for the correction-bias update. */
  accLoads: number[][] | undefined;
  /** Compiled programs: one gradient program per (loss, α), one AdamW update per AdamW config, two scorers. */
  readonly compiled: {
    grad: Map<string, Compiled>;
    apply: Map<string, Compiled>;
    score?: Compiled;
    scoreNext?: Compiled;
  };
  /** The native training backend, when asked for (params, opt and acc are then views over its host mirrors). */
  readonly native?: NativeBackend;
};

/** The native side of a trainer state. */
export type NativeBackend = {
  /** On, off (jax-js, with the reason) or not tried yet; compiles the programs below. */
  readonly engine: NativeSwitch;
  readonly params: HostMirror<GlmvParams>;
  readonly opt: HostMirror<ModelOptState>;
  readonly acc: HostMirror<GlmvParams>;
  readonly grad: Map<string, NativeProgram>;
  readonly apply: Map<string, NativeProgram>;
  /** Scoring forwards, one per (argument shapes, with or without last logits). */
  readonly score: Map<string, NativeProgram>;
  /** Gradient calls, AdamW steps and scoring calls run natively. */
  calls: number;
  steps: number;
  scores: number;
};
