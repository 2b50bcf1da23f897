/**
 * What `glmv serve trainer` needs from a model to serve the Tinker API (trainer-api.md §1): token-level sampling,
 * `forward_backward` with the Tinker losses, an Adam step, and weight save/load. The HTTP layer
 * (`trainer-server.ts`) owns sessions, futures and ordering; a backend only computes.
 */
import type {
  AdamParams,
  Datum,
  ForwardBackwardOutput,
  LossFn,
  ModelInputChunk,
  SampleResponse,
  SamplingParams,
} from "../rl/engines/tinker/tinker-protocol.ts";
import { GlmvError } from "../util/errors.ts";

/** What an `asample` request asks for besides the samples. */
export type SampleOptions = {
  /** Also return `prompt_logprobs`: per prompt position, the logprob of its token given the ones before (first null). */
  promptLogprobs?: boolean;
};

/** Frozen weights to sample from (what `save_weights_for_sampler` publishes). */
export type TrainerSampler = {
  sample(
    prompt: ModelInputChunk[],
    numSamples: number,
    params: SamplingParams,
    opts?: SampleOptions,
  ): Promise<SampleResponse>;
  dispose(): void;
};

/** One trainable model. Gradients accumulate over `forwardBackward` calls until `optimStep` applies them. */
export type TrainerModel = {
  forwardBackward(
    data: Datum[],
    lossFn: LossFn,
    config: Record<string, number>,
  ): Promise<ForwardBackwardOutput>;
  optimStep(adam: AdamParams): Promise<{ metrics: Record<string, number> }>;
  snapshot(): Promise<TrainerSampler>;
  save(path: string): Promise<void>;
  load(path: string, optimizer: boolean): Promise<void>;
  dispose(): void;
};

/** A model family the server offers. */
export type TrainerBackend = {
  baseModel: string;
  maxContextLength: number;
  createModel(opts: { loraRank: number; seed: number }): Promise<TrainerModel>;
};

/** Number of positions a chunk occupies: its tokens, or an image's placeholder count (which must be given). */
export function chunkLength(chunk: ModelInputChunk): number {
  if (chunk.type === "encoded_text") return chunk.tokens.length;
  if (chunk.expected_tokens === undefined) {
    throw new GlmvError("bad_input", "image chunk without expected_tokens", { where: "model_input" });
  }
  return chunk.expected_tokens;
}

/** Loss-function inputs of one datum, checked against the model input's length. */
export type LossInputs = { targets: number[]; weights: number[]; logprobs: number[]; advantages: number[] };

/**
 * Read and check `loss_fn_inputs`: every tensor must have one entry per model-input position. Missing weights are
 * 1; missing logprobs/advantages are 0 (cross-entropy needs neither).
 * @example
 * readLossInputs(datum, "ppo"); // { targets, weights, logprobs, advantages }
 */
export function readLossInputs(datum: Datum, lossFn: LossFn): LossInputs {
  const length = datum.model_input.chunks.reduce((a, c) => a + chunkLength(c), 0);
  const get = (name: string, required: boolean, fill: number): number[] => {
    const t = datum.loss_fn_inputs[name];
    if (!t) {
      if (required) throw new GlmvError("bad_input", `loss_fn_inputs.${name} is required by ${lossFn}`);
      return new Array<number>(length).fill(fill);
    }
    if (t.data.length !== length) {
      throw new GlmvError(
        "bad_input",
        `loss_fn_inputs.${name} has ${t.data.length} entries, model input ${length}`,
      );
    }
    return t.data;
  };
  const policy = lossFn !== "cross_entropy";
  return {
    targets: get("target_tokens", true, 0),
    weights: get("weights", false, 1),
    logprobs: get("logprobs", policy, 0),
    advantages: get("advantages", policy, 0),
  };
}

/**
 * Per-token loss and d(loss)/d(logprob) of the Tinker losses (tinker docs "losses"): cross-entropy −w·lp;
 * importance sampling −w·r·A with r = exp(lp − lp_sampler); ppo −w·min(r·A, clip(r, lo, hi)·A), whose gradient
 * vanishes where the clipped branch is the minimum.
 * @example
 * tokenLoss("ppo", -1, -1, 2, 1, { clip_low_threshold: 0.8, clip_high_threshold: 1.28 }); // { loss: -2, dLogprob: -2, clipped: false }
 */
export function tokenLoss(
  lossFn: LossFn,
  lp: number,
  oldLp: number,
  advantage: number,
  weight: number,
  config: Record<string, number>,
): { loss: number; dLogprob: number; clipped: boolean } {
  if (lossFn === "cross_entropy") return { loss: -weight * lp, dLogprob: -weight, clipped: false };
  const ratio = Math.exp(lp - oldLp);
  if (lossFn === "importance_sampling") {
    return { loss: -weight * ratio * advantage, dLogprob: -weight * ratio * advantage, clipped: false };
  }
  const lo = config.clip_low_threshold ?? 0.8;
  const hi = config.clip_high_threshold ?? 1.2;
  const unclipped = ratio * advantage;
  const clippedObj = Math.min(Math.max(ratio, lo), hi) * advantage;
  if (clippedObj < unclipped) return { loss: -weight * clippedObj, dLogprob: 0, clipped: true };
  return { loss: -weight * unclipped, dLogprob: -weight * unclipped, clipped: false };
}
