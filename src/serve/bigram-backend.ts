/**
 * A bigram language model as a `TrainerBackend`: logits[prev][next] in plain JS, exact gradients, Adam. It is
 * small enough to train in milliseconds, so the trainer server, the Tinker client and `TinkerPolicy` are tested for
 * real (sampling, prompt logprobs, the Tinker losses, optimiser steps, save/load) without the tensor engine. An
 * image occupies `expected_tokens` positions of `imageTokenId`.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type {
  AdamParams,
  Datum,
  LossFn,
  ModelInputChunk,
  SamplingParams,
} from "../rl/engines/tinker/tinker-protocol.ts";
import { GlmvError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { mulberry32 } from "../util/rng.ts";
import {
  readLossInputs,
  type TrainerBackend,
  type TrainerModel,
  type TrainerSampler,
  tokenLoss,
} from "./trainer-backend.ts";

export type BigramOptions = {
  vocabSize: number;
  imageTokenId: number;
  baseModel?: string;
  initScale?: number;
};

/**
 * @example
 * const backend = bigramBackend({ vocabSize: 64, imageTokenId: 63 });
 * const model = await backend.createModel({ loraRank: 0, seed: 1 });
 */
export function bigramBackend(opts: BigramOptions): TrainerBackend {
  const v = opts.vocabSize;
  if (!(opts.imageTokenId >= 0 && opts.imageTokenId < v))
    throw new GlmvError("bad_config", "imageTokenId outside vocab");
  return {
    baseModel: opts.baseModel ?? "glmv-bigram",
    maxContextLength: 1 << 20,
    async createModel({ seed }) {
      const rand = mulberry32(seed);
      const scale = opts.initScale ?? 0.5;
      const logits = Float64Array.from({ length: v * v }, () => (rand() * 2 - 1) * scale);
      return createBigramModel(v, opts.imageTokenId, logits);
    },
  };
}

/** The token at each model-input position (images expanded to their placeholder count). */
function flatten(chunks: readonly ModelInputChunk[], imageTokenId: number): number[] {
  const ids: number[] = [];
  for (const c of chunks) {
    if (c.type === "encoded_text") ids.push(...c.tokens);
    else ids.push(...new Array<number>(c.expected_tokens ?? 1).fill(imageTokenId));
  }
  return ids;
}

/** log-softmax of row `prev` (at temperature 1). */
function logSoftmaxRow(logits: Float64Array, v: number, prev: number, temperature = 1): Float64Array {
  const row = new Float64Array(v);
  let max = -Infinity;
  for (let j = 0; j < v; j++) {
    row[j] = logits[prev * v + j]! / temperature;
    max = Math.max(max, row[j]!);
  }
  let sum = 0;
  for (let j = 0; j < v; j++) sum += Math.exp(row[j]! - max);
  const lse = max + Math.log(sum);
  for (let j = 0; j < v; j++) row[j] = row[j]! - lse;
  return row;
}

function checkToken(id: number, v: number): void {
  if (!(Number.isInteger(id) && id >= 0 && id < v))
    throw new GlmvError("bad_input", `token ${id} outside vocab ${v}`);
}

/** Adam moments and step count of one bigram model. */
type AdamState = { m: Float64Array; s: Float64Array; step: number };

function createBigramModel(v: number, imageTokenId: number, logits: Float64Array): TrainerModel {
  const grad = new Float64Array(v * v);
  const adam: AdamState = { m: new Float64Array(v * v), s: new Float64Array(v * v), step: 0 };
  return {
    async forwardBackward(data: Datum[], lossFn: LossFn, config: Record<string, number>) {
      return bigramForwardBackward({ logits, grad, v, imageTokenId }, data, lossFn, config);
    },

    async optimStep(params: AdamParams) {
      return bigramAdamStep(logits, grad, adam, params);
    },

    async snapshot() {
      return createBigramSampler(v, imageTokenId, Float64Array.from(logits));
    },

    async save(path: string) {
      await mkdir(path, { recursive: true });
      const state = { vocabSize: v, step: adam.step, logits: [...logits], m: [...adam.m], s: [...adam.s] };
      await writeFileAtomic(join(path, "bigram.json"), JSON.stringify(state));
    },

    async load(path: string, optimizer: boolean) {
      let state: { vocabSize: number; step: number; logits: number[]; m: number[]; s: number[] };
      try {
        state = JSON.parse(await readFile(join(path, "bigram.json"), "utf8"));
      } catch (e) {
        throw new GlmvError("not_found", `no bigram weights at ${path}`, { cause: e });
      }
      if (state.vocabSize !== v)
        throw new GlmvError("checkpoint_mismatch", `vocab ${state.vocabSize} ≠ ${v}`);
      logits.set(state.logits);
      grad.fill(0);
      if (optimizer) {
        adam.m = Float64Array.from(state.m);
        adam.s = Float64Array.from(state.s);
        adam.step = state.step;
      }
    },

    dispose() {},
  };
}

/** The bigram table a forward/backward pass reads and the gradient it accumulates into, over vocabulary `v`. */
type BigramTable = { logits: Float64Array; grad: Float64Array; v: number; imageTokenId: number };

/** Per datum, the logprob and loss of each target under the table; the gradient is added to `grad`. */
function bigramForwardBackward(
  { logits, grad, v, imageTokenId }: BigramTable,
  data: Datum[],
  lossFn: LossFn,
  config: Record<string, number>,
) {
  const check = (id: number) => checkToken(id, v);
  let total = 0;
  let clippedWeight = 0;
  let weight = 0;
  const outputs = data.map((datum) => {
    const input = flatten(datum.model_input.chunks, imageTokenId);
    const li = readLossInputs(datum, lossFn);
    const lps: number[] = [];
    const losses: number[] = [];
    input.forEach((prev, i) => {
      const target = li.targets[i]!;
      check(prev);
      check(target);
      const row = logSoftmaxRow(logits, v, prev);
      const lp = row[target]!;
      const w = li.weights[i]!;
      const t =
        w === 0
          ? { loss: 0, dLogprob: 0, clipped: false }
          : tokenLoss(lossFn, lp, li.logprobs[i]!, li.advantages[i]!, w, config);
      lps.push(lp);
      losses.push(t.loss);
      total += t.loss;
      weight += Math.abs(w);
      if (t.clipped) clippedWeight += Math.abs(w);
      // d lp / d logits[prev][j] = 1[j = target] − softmax_j
      if (t.dLogprob !== 0) {
        for (let j = 0; j < v; j++) grad[prev * v + j]! -= t.dLogprob * Math.exp(row[j]!);
        grad[prev * v + target]! += t.dLogprob;
      }
    });
    return {
      logprobs: { data: lps, dtype: "float32" as const },
      elementwise_loss: { data: losses, dtype: "float32" as const },
    };
  });
  const metrics = { "loss:sum": total, "clip_fraction:mean": weight > 0 ? clippedWeight / weight : 0 };
  return { loss_fn_output_type: lossFn, loss_fn_outputs: outputs, metrics };
}

/** One Adam step on the table from the accumulated gradient (clipped to its global norm), which it then zeroes. */
function bigramAdamStep(logits: Float64Array, grad: Float64Array, st: AdamState, adam: AdamParams) {
  const {
    learning_rate: lr,
    beta1 = 0.9,
    beta2 = 0.95,
    eps = 1e-12,
    weight_decay = 0,
    grad_clip_norm = 0,
  } = adam;
  let sq = 0;
  for (const g of grad) sq += g * g;
  const norm = Math.sqrt(sq);
  const scale = grad_clip_norm > 0 && norm > grad_clip_norm ? grad_clip_norm / norm : 1;
  st.step++;
  const c1 = 1 - beta1 ** st.step;
  const c2 = 1 - beta2 ** st.step;
  const { m, s } = st;
  for (let k = 0; k < grad.length; k++) {
    const g = grad[k]! * scale;
    m[k] = beta1 * m[k]! + (1 - beta1) * g;
    s[k] = beta2 * s[k]! + (1 - beta2) * g * g;
    logits[k] = logits[k]! - lr * (m[k]! / c1 / (Math.sqrt(s[k]! / c2) + eps) + weight_decay * logits[k]!);
  }
  grad.fill(0);
  return { metrics: { grad_norm: norm, step: st.step } };
}

/**
 * Per prompt position, the logprob of its token after the previous one (null for the first: nothing precedes it),
 * read from the bigram table at temperature 1, images as `imageTokenId` positions (as `forwardBackward` sees them).
 */
function bigramPromptLogprobs(logits: Float64Array, v: number, ids: readonly number[]): (number | null)[] {
  for (const id of ids) checkToken(id, v);
  return ids.map((id, i) => (i === 0 ? null : logSoftmaxRow(logits, v, ids[i - 1]!)[id]!));
}

function createBigramSampler(v: number, imageTokenId: number, logits: Float64Array): TrainerSampler {
  return {
    async sample(prompt, numSamples, params: SamplingParams, opts = {}) {
      const start = flatten(prompt, -1).at(-1);
      if (start === undefined || start < 0)
        throw new GlmvError("bad_input", "prompt must end with a text token");
      const stop = new Set(params.stop ?? []);
      const sequences = Array.from({ length: numSamples }, (_, k) => {
        const rand = mulberry32(((params.seed ?? 0) * 1_000_003 + k * 7919) >>> 0);
        const tokens: number[] = [];
        const logprobs: number[] = [];
        let prev = start;
        let stopped = false;
        while (tokens.length < params.max_tokens && !stopped) {
          const { token, logprob } = drawToken(logits, v, prev, params, rand);
          tokens.push(token);
          logprobs.push(logprob);
          prev = token;
          stopped = stop.has(token);
        }
        return { tokens, logprobs, stop_reason: stopped ? ("stop" as const) : ("length" as const) };
      });
      const promptLogprobs = opts.promptLogprobs
        ? bigramPromptLogprobs(logits, v, flatten(prompt, imageTokenId))
        : null;
      return { type: "sample" as const, sequences, prompt_logprobs: promptLogprobs };
    },
    dispose() {},
  };
}

/** One token from row `prev` with temperature, top-k and top-p; its logprob under the distribution drawn from. */
function drawToken(logits: Float64Array, v: number, prev: number, p: SamplingParams, rand: () => number) {
  const temperature = p.temperature ?? 1;
  if (temperature === 0) {
    const row = logSoftmaxRow(logits, v, prev);
    let best = 0;
    for (let j = 1; j < v; j++) if (row[j]! > row[best]!) best = j;
    return { token: best, logprob: row[best]! };
  }
  const row = logSoftmaxRow(logits, v, prev, temperature);
  let order = Array.from({ length: v }, (_, j) => j).sort((a, b) => row[b]! - row[a]! || a - b);
  if (p.top_k !== undefined && p.top_k > 0) order = order.slice(0, p.top_k);
  const topP = p.top_p ?? 1;
  if (topP < 1) {
    let mass = 0;
    const kept: number[] = [];
    for (const j of order) {
      kept.push(j);
      mass += Math.exp(row[j]!);
      if (mass >= topP) break;
    }
    order = kept;
  }
  const z = order.reduce((a, j) => a + Math.exp(row[j]!), 0);
  let u = rand() * z;
  for (const j of order) {
    u -= Math.exp(row[j]!);
    if (u <= 0) return { token: j, logprob: row[j]! - Math.log(z) };
  }
  const last = order[order.length - 1]!;
  return { token: last, logprob: row[last]! - Math.log(z) };
}
