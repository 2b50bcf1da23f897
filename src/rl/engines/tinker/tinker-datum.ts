/**
 * Training data for the Tinker trainer API: each example becomes a next-token-aligned `Datum` (input prompt +
 * response[:-1], position p predicts the token at p + 1), with weights 0 on the prompt. A GRPO sample also carries
 * its sampler logprobs and group advantage, with the aggregation folded into its weights and 0 on injected tokens;
 * a supervised example weighs each response token 1 / all response tokens of the batch.
 */
import type { UpdateBatch, UpdateParams, UpdateSample } from "../../loop/policy.ts";
import type { ChunkedPrompt } from "./tinker-prompt.ts";
import type { Datum, ModelInputChunk } from "./tinker-protocol.ts";

const tensor = (data: number[], dtype: "int64" | "float32") => ({ data, dtype, shape: [data.length] });

/** The model input of prompt + response[:-1] (the last response token is only a target). */
function inputChunks(enc: ChunkedPrompt, response: readonly number[]): ModelInputChunk[] {
  const head = response.slice(0, -1);
  return head.length > 0 ? [...enc.chunks, { type: "encoded_text", tokens: head }] : enc.chunks;
}

/** Targets with the prompt's own next tokens filled in (ignored: weight 0), sized for prompt + response[:-1]. */
function promptTargets(enc: ChunkedPrompt, responseLength: number): number[] {
  const targets = new Array<number>(enc.length + responseLength - 1).fill(0);
  for (let p = 0; p < enc.length - 1; p++) targets[p] = enc.textIds[p + 1] ?? 0;
  return targets;
}

/**
 * One GRPO sample as a datum for `forward_backward("ppo" | "importance_sampling")`; `positions` are the
 * model-input positions that carry gradient (the response tokens the policy drew, not injected ones).
 * @example const { datum, positions } = grpoDatum(enc, batch.samples[0], batch, params);
 */
export function grpoDatum(
  enc: ChunkedPrompt,
  s: UpdateSample,
  batch: UpdateBatch,
  params: UpdateParams,
): { datum: Datum; positions: number[] } {
  const { rollout } = s;
  const trained = rollout.injected.filter((x) => !x).length;
  const totalTrained = batch.samples.reduce((a, x) => a + x.rollout.injected.filter((y) => !y).length, 0);
  const w =
    params.aggregation === "sample"
      ? trained > 0
        ? 1 / (trained * batch.samples.length)
        : 0
      : totalTrained > 0
        ? 1 / totalTrained
        : 0;
  const targets = promptTargets(enc, rollout.tokens.length);
  const weights = new Array<number>(targets.length).fill(0);
  const logprobs = new Array<number>(targets.length).fill(0);
  const advantages = new Array<number>(targets.length).fill(0);
  const positions: number[] = [];
  rollout.tokens.forEach((t, k) => {
    const p = enc.length - 1 + k;
    targets[p] = t;
    logprobs[p] = rollout.logprobs[k] ?? 0;
    advantages[p] = s.advantage;
    if (!rollout.injected[k]) {
      weights[p] = w;
      positions.push(p);
    }
  });
  const datum: Datum = {
    model_input: { chunks: inputChunks(enc, rollout.tokens) },
    loss_fn_inputs: {
      target_tokens: tensor(targets, "int64"),
      weights: tensor(weights, "float32"),
      logprobs: tensor(logprobs, "float32"),
      advantages: tensor(advantages, "float32"),
    },
  };
  return { datum, positions };
}

/**
 * One supervised example as a `cross_entropy` datum: the loss on response tokens only, each weighing
 * 1 / `totalResponseTokens` (the token mean over the batch).
 * @example const datum = supervisedDatum(enc, tok.encode(target), 42);
 */
export function supervisedDatum(
  enc: ChunkedPrompt,
  response: readonly number[],
  totalResponseTokens: number,
): Datum {
  const targets = promptTargets(enc, response.length);
  const weights = new Array<number>(targets.length).fill(0);
  response.forEach((t, k) => {
    targets[enc.length - 1 + k] = t;
    weights[enc.length - 1 + k] = 1 / totalResponseTokens;
  });
  return {
    model_input: { chunks: inputChunks(enc, response) },
    loss_fn_inputs: { target_tokens: tensor(targets, "int64"), weights: tensor(weights, "float32") },
  };
}
