/**
 * The tiny backend's samplers (tiny-backend.ts): sampling from a frozen snapshot of the weights on the
 * static-cache generator. A sampled request runs alone (its rows draw from its seed's streams). Greedy requests
 * (temperature 0: evaluation, force-answer continuations of it) do not depend on seeds, so requests that arrive
 * while the generator is busy share its fixed-size batch (continuous batching): a row's greedy output does not
 * depend on the other rows, and the generator's shape is the same either way.
 */
import { tree } from "@jax-js/jax";
import { concatFloat32, mediaTokenIds } from "../model/encode.ts";
import { GenerateOptions, type Generator, rowSeed, sampleAllowed } from "../model/generate.ts";
import type { GlmvParams } from "../model/params.ts";
import type { SamplingParams } from "../rl/engines/tinker/tinker-protocol.ts";
import { GlmvError } from "../util/errors.ts";
import { mulberry32 } from "../util/rng.ts";
import { type Expanded, expandChunks, type TinySettings } from "./tiny-inputs.ts";
import type { createPromptScorer } from "./tiny-scoring.ts";
import type { TrainerSampler } from "./trainer-backend.ts";

type Sequence = { tokens: number[]; logprobs: number[]; stop_reason: "stop" | "length" };

type PromptScorer = ReturnType<typeof createPromptScorer>;

/** What one sampler generates with: the settings, its frozen weights, the shared generators, banned ids. */
type SamplerContext = {
  s: TinySettings;
  params: GlmvParams;
  generator: (maxNewTokens: number) => Generator;
  /** Media placeholders: never sampled (as the local policy samples), so a response never holds an image slot. */
  mediaIds: number[];
};

/** A greedy request waiting for a batch: its rows (one per sample) and where its answer goes. */
type GreedyJob = {
  ex: Expanded;
  n: number;
  p: SamplingParams;
  resolve: (seqs: Sequence[]) => void;
  reject: (e: unknown) => void;
};

/** The generator seed of a sampled request's `chunk`-th batch of rows. */
const chunkSeed = (seed: number, chunk: number): number => (seed * 1_000_003 + chunk * 7919) | 0;

/** Generate `rows` (one batch of at most batchSize; spare rows repeat the first) with one seed. */
async function generateRows(
  ctx: SamplerContext,
  rows: readonly Expanded[],
  p: SamplingParams,
  seed: number,
): Promise<Sequence[]> {
  const { s } = ctx;
  const padded = [...rows, ...new Array<Expanded>(s.batchSize - rows.length).fill(rows[0]!)];
  const res = await ctx.generator(p.max_tokens).generate(
    ctx.params,
    {
      prompts: padded.map((r) => r.ids),
      imageGridThw: padded.flatMap((r) => r.grids),
      pixels: concatFloat32(padded.map((r) => r.pixels)),
    },
    {
      temperature: p.temperature ?? 1,
      topP: p.top_p ?? 1,
      stopIds: p.stop ?? [],
      // the model's vocabulary is padded past the tokenizer's; ids without text are never sampled
      allowedVocab: s.tok.vocabSize,
      bannedIds: ctx.mediaIds,
      seed,
    },
  );
  return rows.map((_, r) => ({
    tokens: res.tokens[r]!,
    logprobs: res.logprobs[r]!, // the policy's own logprob (temperature 1), what the ratio compares against
    stop_reason: res.finished[r] ? ("stop" as const) : ("length" as const),
  }));
}

/** Requests that can share a generator batch: same length budget and stop tokens. */
const sameBatch = (a: SamplingParams, b: SamplingParams) =>
  a.max_tokens === b.max_tokens && (a.stop ?? []).join() === (b.stop ?? []).join();

/** The queue's head and the later requests that fit its batch (same settings, at most batchSize rows in all). */
function nextGreedyBatch(queue: readonly GreedyJob[], batchSize: number): GreedyJob[] {
  const head = queue[0]!;
  const take: GreedyJob[] = [];
  let rows = 0;
  for (const j of queue) {
    if (!sameBatch(j.p, head.p) || (take.length > 0 && rows + j.n > batchSize)) continue;
    take.push(j);
    rows += j.n;
  }
  return take;
}

/** Run greedy requests together (batches of batchSize rows) and hand each its rows; a failure rejects them all. */
async function runGreedyBatch(ctx: SamplerContext, take: readonly GreedyJob[]): Promise<void> {
  const { batchSize } = ctx.s;
  try {
    const all = take.flatMap((j) => new Array<Expanded>(j.n).fill(j.ex));
    const out: Sequence[] = [];
    for (let at = 0; at < all.length; at += batchSize)
      out.push(...(await generateRows(ctx, all.slice(at, at + batchSize), take[0]!.p, 0)));
    let at = 0;
    for (const j of take) {
      j.resolve(out.slice(at, at + j.n));
      at += j.n;
    }
  } catch (e) {
    for (const j of take) j.reject(e);
  }
}

/** A queue of greedy requests: whatever is waiting when the generator is free shares its batch. */
function createGreedyQueue(ctx: SamplerContext) {
  let queue: GreedyJob[] = [];
  let busy = false;
  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length > 0) {
        const take = nextGreedyBatch(queue, ctx.s.batchSize);
        queue = queue.filter((j) => !take.includes(j));
        await runGreedyBatch(ctx, take);
      }
    } finally {
      busy = false;
    }
  };
  return {
    /** The `n` greedy samples of one request. */
    enqueue(ex: Expanded, n: number, p: SamplingParams): Promise<Sequence[]> {
      return new Promise<Sequence[]>((resolve, reject) => {
        queue.push({ ex, n, p, resolve, reject });
        // a short window lets requests sent together (one per prompt) share the first batch too
        setTimeout(() => void pump(), 2);
      });
    },
  };
}

type GreedyQueue = ReturnType<typeof createGreedyQueue>;

/** The samples of a request from the generator (greedy ones batched with other requests). */
async function generateSamples(
  ctx: SamplerContext,
  greedy: GreedyQueue,
  ex: Expanded,
  numSamples: number,
  p: SamplingParams,
): Promise<Sequence[]> {
  const { s } = ctx;
  if (ex.ids.length > s.promptLen)
    throw new GlmvError("bad_input", `prompt of ${ex.ids.length} tokens exceeds ${s.promptLen}`);
  if (p.max_tokens === 0)
    return Array.from({ length: numSamples }, () => ({ tokens: [], logprobs: [], stop_reason: "length" }));
  if (p.temperature === 0) return greedy.enqueue(ex, numSamples, p);
  const sequences: Sequence[] = [];
  for (let start = 0, chunk = 0; start < numSamples; start += s.batchSize, chunk++) {
    const rows = new Array<Expanded>(Math.min(s.batchSize, numSamples - start)).fill(ex);
    sequences.push(...(await generateRows(ctx, rows, p, chunkSeed(p.seed ?? 0, chunk))));
  }
  return sequences;
}

/**
 * One-token samples drawn from the scoring forward's next-token logits, with the generator's rules (allowed
 * vocabulary, no media placeholders, temperature and top-p) and its random streams: sample k draws what row
 * k mod batchSize of chunk ⌊k / batchSize⌋ would, so asking for prompt logprobs does not change the sample.
 */
function drawNext(
  ctx: SamplerContext,
  next: Float32Array,
  numSamples: number,
  p: SamplingParams,
): Sequence[] {
  const { s } = ctx;
  const o = GenerateOptions.parse({
    temperature: p.temperature ?? 1,
    topP: p.top_p ?? 1,
    allowedVocab: s.tok.vocabSize,
    bannedIds: ctx.mediaIds,
  });
  const stop = new Set(p.stop ?? []);
  return Array.from({ length: numSamples }, (_, k) => {
    const seed = chunkSeed(p.seed ?? 0, Math.floor(k / s.batchSize));
    const pick = sampleAllowed(next, o, mulberry32(rowSeed(seed, k % s.batchSize)));
    const stopped = stop.has(pick.token);
    return { tokens: [pick.token], logprobs: [pick.logprob], stop_reason: stopped ? "stop" : "length" };
  });
}

/**
 * Sampling from frozen weights (`params`, owned: freed on dispose); prompt logprobs come from `scorer`'s packed
 * forward, and a one-token sample of such a request from the same forward's logits.
 */
export function createTinySampler(
  s: TinySettings,
  params: GlmvParams,
  generator: (maxNewTokens: number) => Generator,
  scorer: PromptScorer,
): TrainerSampler {
  const ctx: SamplerContext = { s, params, generator, mediaIds: mediaTokenIds(s.tok) };
  const greedy = createGreedyQueue(ctx);
  return {
    async sample(prompt, numSamples, p: SamplingParams, opts = {}) {
      const ex = await expandChunks(s, prompt);
      if (!opts.promptLogprobs) {
        const sequences = await generateSamples(ctx, greedy, ex, numSamples, p);
        return { type: "sample" as const, sequences, prompt_logprobs: null };
      }
      const scored = await scorer.score(ex);
      const sequences =
        p.max_tokens === 1
          ? drawNext(ctx, scored.next, numSamples, p)
          : await generateSamples(ctx, greedy, ex, numSamples, p);
      return { type: "sample" as const, sequences, prompt_logprobs: scored.logprobs };
    },
    dispose() {
      tree.dispose(params);
    },
  };
}
