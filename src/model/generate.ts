/**
 * Batched generation with a static-shape KV cache, host-side sampling, stop tokens and force-answering.
 *
 * Shapes never change during a run: prompts are left-padded to `promptLen` (pad slots masked out), the cache is
 * preallocated at Tmax = promptLen + maxNewTokens per layer ([B, Tmax, K, hd]) and written through a one-hot
 * placement matrix, and every decode step feeds [B, 1] tokens with a [B, 1, 1, Tmax] mask. So prefill compiles
 * once per prompt/image shape and the decode step compiles once for the generator's lifetime.
 *
 * Positions (model-spec §3.3): prefill uses the 3-D ids of `getRopeIndex`; decode step at cache slot c uses
 * `c + ropeDelta[b]` on all three components. With left padding, ropeDelta already absorbs the pad count.
 *
 * Force-answering (design.md, RL rollouts): when a row has produced `thinkBudget` new tokens without `</think>`,
 * the next tokens are `</think>` (and `<answer>` in the 4.1V style), marked `injected` with logprob 0 so the RL loss
 * can mask them; generation then continues to a stop token or the maximum.
 *
 * Engines: the step functions (generate-native.ts `stepFunctions`) run jitted on jax-js (generate-jax.ts) or, with
 * `backend: "native"`, lowered to ONNX with the cache kept as host arrays (generate-native.ts); this file holds the
 * sampling loop both share.
 */
import { availableParallelism } from "node:os";
import { jit } from "@jax-js/jax";
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import { mulberry32 } from "../util/rng.ts";
import type { GlmvConfig } from "./config.ts";
import { cacheMask, type JaxGeneration, jaxSteps } from "./generate-jax.ts";
import {
  type BatchStart,
  type BatchSteps,
  createNativeGeneration,
  stepFunctions,
} from "./generate-native.ts";
import { buildInputs, textRotateMatrix } from "./model.ts";
import type { GlmvParams } from "./params.ts";
import type { GridThw } from "./position-ids.ts";
import { logSoftmax, type SampledToken, SamplingConfig, sampleToken } from "./sampling.ts";

/** Fixed shapes of a generator: every call uses exactly these. */
export type GeneratorShape = { batchSize: number; promptLen: number; maxNewTokens: number };

/**
 * The generator's engine: jax-js (default) or native (onnxruntime-node with `threads` intra-op threads, default
 * all cores; jax-js when it does not load, see generate-native.ts). Results are the same either way.
 */
export type GeneratorEngine = { backend?: "jax" | "native"; threads?: number };

/** One batch of prompts (unpadded token ids, media placeholders already expanded) and its media. */
export type GenerateInputs = {
  prompts: number[][];
  imageGridThw?: GridThw[];
  videoGridThw?: GridThw[];
  /** Patch rows of all images then all videos, as `HostBatch.pixels`. */
  pixels?: Float32Array;
};

/** Generation settings: sampling plus stop tokens, seed, padding and force-answering. */
export const GenerateOptions = SamplingConfig.extend({
  /** A row finishes at the first sampled stop token (which is kept in its output). */
  stopIds: z.array(z.number().int().nonnegative()).default([]),
  /** Row b draws from its own stream `mulberry32(seed, b)`, so a row's sample does not depend on its batch. */
  seed: z.number().int().default(0),
  /**
   * Only ids below this are ever sampled (a model's vocabulary is often padded past its tokenizer's). `logprobs`
   * stay the log-softmax over the full vocabulary; `samplerLogprobs` are over the allowed ids.
   */
  allowedVocab: z.number().int().positive().optional(),
  /**
   * Ids never sampled (e.g. media placeholders: a response that samples `<|image|>` has no image behind it and
   * cannot be replayed by a packed update). Same logprob rule as `allowedVocab`.
   */
  bannedIds: z.array(z.number().int().nonnegative()).default([]),
  /** Token fed into masked pad slots (its value never matters). */
  padId: z.number().int().nonnegative().default(0),
  /** New tokens a row may spend before `</think>` is forced; needs `forceAnswer`. */
  thinkBudget: z.number().int().min(0).optional(),
  forceAnswer: z
    .object({
      style: z.enum(["4.1v", "4.5v"]),
      thinkEndId: z.number().int().nonnegative(),
      /** Injected after `</think>` in the 4.1V style only. */
      answerStartId: z.number().int().nonnegative().optional(),
    })
    .optional(),
});
export type GenerateOptions = z.input<typeof GenerateOptions>;

/**
 * Per row: the new tokens (stop token included), `logprobs` = log-softmax of the raw logits (temperature 1, no
 * filtering: the policy's logprob, what the RL loss needs), `samplerLogprobs` = logprob under the processed
 * distribution actually sampled (0 for greedy), `injected` (forced tokens, logprobs 0), and `finished` (stopped
 * by a stop token rather than the length limit).
 */
export type GenerateResult = {
  tokens: number[][];
  logprobs: number[][];
  samplerLogprobs: number[][];
  injected: boolean[][];
  finished: boolean[];
};

/** A generator bound to one config and one set of shapes. */
export type Generator = {
  /**
   * Generate for one batch. Borrows `params` (the caller keeps them). `onToken` sees each row's tokens as they
   * are chosen (for streaming).
   */
  generate(
    params: GlmvParams,
    inputs: GenerateInputs,
    opts?: GenerateOptions,
    onToken?: OnToken,
  ): Promise<GenerateResult>;
  /** How many times each jitted function was traced (= compiled, one per distinct input shape). */
  traces(): { prefill: number; decode: number };
  /** The engine: "native" while onnxruntime-node is untried or in use, "jax" otherwise (the reason went to stderr). */
  readonly backend: "jax" | "native";
  dispose(): void;
};

/** Streaming hook: called once per chosen token, in row order within a step. */
export type OnToken = (row: number, token: number, injected: boolean) => void;

/**
 * Left-pad prompts to `promptLen`; returns padded rows and their 0/1 attention masks.
 * @example leftPad([[5, 6]], 4, 0) // { tokens: [[0,0,5,6]], attention: [[0,0,1,1]] }
 */
export function leftPad(prompts: readonly (readonly number[])[], promptLen: number, padId: number) {
  const tokens: number[][] = [];
  const attention: number[][] = [];
  prompts.forEach((p, b) => {
    if (p.length === 0 || p.length > promptLen)
      throw new GlmvError("bad_input", `prompt length ${p.length} not in 1..${promptLen}`, {
        where: `row ${b}`,
      });
    const pad = promptLen - p.length;
    tokens.push([...new Array<number>(pad).fill(padId), ...p]);
    attention.push([...new Array<number>(pad).fill(0), ...p.map(() => 1)]);
  });
  return { tokens, attention };
}

export { cacheMask, cacheWriteAt } from "./generate-jax.ts";

/**
 * Build a generator. Prefill runs once per batch (one compiled shape per prompt/image geometry), then one decode
 * step per token with unchanging shapes, on jax-js's jit or (`engine.backend: "native"`) natively.
 * @example
 * const gen = createGenerator(cfg, { batchSize: 2, promptLen: 32, maxNewTokens: 64 });
 * const out = await gen.generate(params, { prompts }, { temperature: 1, stopIds: [eos], seed: 1 });
 * gen.dispose();
 */
export function createGenerator(
  cfg: GlmvConfig,
  shape: GeneratorShape,
  engine: GeneratorEngine = {},
): Generator {
  const { batchSize: b, promptLen, maxNewTokens } = shape;
  if (b < 1 || promptLen < 1 || maxNewTokens < 1)
    throw new GlmvError("bad_argument", "batchSize, promptLen and maxNewTokens must be ≥ 1");
  const t = cfg.text;
  const tmax = promptLen + maxNewTokens;
  const counts = { prefill: 0, decode: 0 };
  const fns = stepFunctions(cfg, b, counts);
  const prefill = jit(fns.prefill);
  const decode = jit(fns.decode);
  const rotate = textRotateMatrix(t);
  const native =
    engine.backend === "native"
      ? createNativeGeneration(cfg, { b, promptLen, tmax }, fns, engine.threads ?? availableParallelism())
      : undefined;

  const jitted: JaxGeneration = { t, b, promptLen, tmax, prefill, decode, rotate };

  async function generate(
    params: GlmvParams,
    batch: GenerateInputs,
    options: GenerateOptions = {},
    onToken?: OnToken,
  ): Promise<GenerateResult> {
    const o = GenerateOptions.parse(options);
    if (batch.prompts.length !== b)
      throw new GlmvError("bad_input", `got ${batch.prompts.length} prompts for batch size ${b}`);
    if (o.thinkBudget !== undefined && !o.forceAnswer)
      throw new GlmvError("bad_argument", "thinkBudget needs forceAnswer (the </think> id)");
    const forced = forcedTokens(o);
    const start: BatchStart = { params, ...prefillInputs(cfg, batch, o.padId, promptLen, tmax) };
    const rows = Array.from({ length: b }, (_, r) => new RowState(mulberry32(rowSeed(o.seed, r))));
    const steps = (await native?.open(start)) ?? jaxSteps(jitted, start);
    try {
      await decodeRows(steps, rows, { vocab: t.vocabSize, promptLen, maxNewTokens }, o, forced, onToken);
    } finally {
      steps.close();
    }
    return {
      tokens: rows.map((r) => r.tokens),
      logprobs: rows.map((r) => r.logprobs),
      samplerLogprobs: rows.map((r) => r.samplerLogprobs),
      injected: rows.map((r) => r.injected),
      finished: rows.map((r) => r.finished),
    };
  }

  return {
    generate,
    traces: () => ({ ...counts }),
    get backend() {
      return native?.on ? "native" : "jax";
    },
    dispose() {
      prefill.dispose();
      decode.dispose();
      rotate.dispose();
      native?.dispose();
    },
  };
}

/** Prefill, then choose a token per row and decode until every row is done or the budget is spent. */
async function decodeRows(
  steps: BatchSteps,
  rows: RowState[],
  size: { vocab: number; promptLen: number; maxNewTokens: number },
  o: z.output<typeof GenerateOptions>,
  forced: number[] | undefined,
  onToken: OnToken | undefined,
): Promise<void> {
  const { vocab, promptLen, maxNewTokens } = size;
  let host = await steps.prefill();
  for (let step = 0; step < maxNewTokens; step++) {
    const fed = rows.map((row, r) => {
      if (row.done) return o.padId;
      const token = row.choose(host.subarray(r * vocab, (r + 1) * vocab), o, forced);
      onToken?.(r, token, row.injected[row.injected.length - 1]!);
      return token;
    });
    if (rows.every((row) => row.done) || step + 1 === maxNewTokens) break;
    host = await steps.decode(promptLen + step, fed); // fed at the slot after the prompt's and earlier steps'
  }
}

/** A batch's prefill inputs: prompts left-padded to `promptLen`, the mask over the whole cache ([B, 1, P, Tmax]). */
function prefillInputs(
  cfg: GlmvConfig,
  batch: GenerateInputs,
  padId: number,
  promptLen: number,
  tmax: number,
) {
  const { tokens: padded, attention } = leftPad(batch.prompts, promptLen, padId);
  const { inputs, info } = buildInputs(cfg, {
    tokens: padded,
    attentionMask: attention,
    ...(batch.imageGridThw ? { imageGridThw: batch.imageGridThw } : {}),
    ...(batch.videoGridThw ? { videoGridThw: batch.videoGridThw } : {}),
    ...(batch.pixels ? { pixels: batch.pixels } : {}),
  });
  inputs.mask.dispose();
  inputs.mask = cacheMask(attention, 0, promptLen, tmax);
  return { inputs, ropeDeltas: info.ropeDeltas, attention };
}

/** The tokens force-answering injects, or undefined when it is off. */
function forcedTokens(o: z.output<typeof GenerateOptions>): number[] | undefined {
  if (o.thinkBudget === undefined || !o.forceAnswer) return undefined;
  const f = o.forceAnswer;
  if (f.style === "4.5v") return [f.thinkEndId];
  if (f.answerStartId === undefined)
    throw new GlmvError("bad_argument", "4.1V force-answering needs answerStartId (<answer>)");
  return [f.thinkEndId, f.answerStartId];
}

/** A per-row seed derived from the run seed (golden-ratio mixing keeps neighbouring rows apart). */
export function rowSeed(seed: number, row: number): number {
  return (seed ^ Math.imul(row + 1, 0x9e3779b1)) >>> 0;
}

/** One row's progress: its outputs, whether it stopped, and queued forced tokens. */
class RowState {
  tokens: number[] = [];
  logprobs: number[] = [];
  samplerLogprobs: number[] = [];
  injected: boolean[] = [];
  finished = false;
  done = false;
  #sawThinkEnd = false;
  #forced = false;
  #queue: number[] = [];
  readonly #rand: () => number;

  constructor(rand: () => number) {
    this.#rand = rand;
  }

  /** Pick this step's token (forced or sampled), record it, and return it. */
  choose(logits: Float32Array, o: z.output<typeof GenerateOptions>, forced: number[] | undefined): number {
    if (forced && !this.#sawThinkEnd && !this.#forced && this.tokens.length >= o.thinkBudget!) {
      this.#forced = true; // budget spent without </think>: the next tokens are the forced ones
      this.#queue = [...forced];
    }
    const queued = this.#queue.shift();
    const pick =
      queued !== undefined
        ? { token: queued, logprob: 0, samplerLogprob: 0 }
        : sampleAllowed(logits, o, this.#rand);
    this.tokens.push(pick.token);
    this.logprobs.push(pick.logprob);
    this.samplerLogprobs.push(pick.samplerLogprob);
    this.injected.push(queued !== undefined);
    if (forced && pick.token === forced[0]) this.#sawThinkEnd = true;
    if (queued === undefined && o.stopIds.includes(pick.token)) {
      this.finished = true;
      this.done = true;
    }
    return pick.token;
  }
}

/**
 * Draw one token from a row of logits under the generation options' sampling rules: only ids below `allowedVocab`,
 * never `bannedIds`; `logprob` stays the log-softmax over the full vocabulary (the policy's own, see
 * `GenerateOptions.allowedVocab`).
 * @example sampleAllowed(logits, GenerateOptions.parse({ bannedIds: [5] }), mulberry32(1)).token
 */
export function sampleAllowed(
  logits: Float32Array,
  o: z.output<typeof GenerateOptions>,
  rand: () => number,
): SampledToken {
  const limit = Math.min(o.allowedVocab ?? logits.length, logits.length);
  if (limit === logits.length && o.bannedIds.length === 0) return sampleToken(logits, o, rand);
  // copy only when ids must be masked; a vocabulary bound alone is a view
  const allowed = o.bannedIds.length > 0 ? logits.slice(0, limit) : logits.subarray(0, limit);
  for (const id of o.bannedIds) if (id < limit) allowed[id] = Number.NEGATIVE_INFINITY;
  const pick = sampleToken(allowed, o, rand);
  return { ...pick, logprob: logSoftmax(logits)[pick.token]! };
}
