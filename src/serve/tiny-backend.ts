/**
 * glmv's in-process GLM-V model (the `tiny` preset by default) as a `TrainerBackend`, so `glmv serve trainer
 * --preset tiny` serves the Tinker API from the real architecture on the tensor engine.
 *
 * - sampling: the static-cache generator (`createGenerator`) on a snapshot of the weights; an image chunk is a
 *   PNG run through glmv's processor, and its placeholder count must equal `expected_tokens`. Media placeholders
 *   are never sampled (as in the local policy); greedy requests arriving together share a batch.
 * - prompt logprobs (`asample` with `prompt_logprobs`): packed teacher-forced forwards shared by the requests that
 *   arrive together (tiny-scoring.ts); a one-token sample is drawn from the same forward.
 * - forward_backward: datums go to the trainer core's `forwardBackward` (model/trainer-core.ts), which packs them
 *   into rows of `context` tokens as it packs `LocalPolicy`'s updates, computes the loss and gradient on the fast gather
 *   path and accumulates gradients until `optim_step`: "ppo" with the given ratio bounds (clip-higher),
 *   "importance_sampling" (bounds that never bind), "cross_entropy" (SFT through the API).
 * - optim_step: the core's AdamW with the request's hyper-parameters; save/load: the core's checkpoint folder.
 */
import { tree } from "@jax-js/jax";
import type { GlmvConfig } from "../model/config.ts";
import { concatFloat32, mediaTokenIds, processImageFor } from "../model/encode.ts";
import {
  createGenerator,
  GenerateOptions,
  type Generator,
  rowSeed,
  sampleAllowed,
} from "../model/generate.ts";
import { type GlmvParams, initParams } from "../model/params.ts";
import type { GridThw } from "../model/position-ids.ts";
import { decodeImage } from "../model/processor.ts";
import type { GlmvTokenizer } from "../model/tokenizer.ts";
import { createTrainerCore } from "../model/trainer-core.ts";
import type { TrainLoss } from "../model/trainer-core-config.ts";
import type {
  AdamParams,
  Datum,
  LossFn,
  ModelInputChunk,
  SamplingParams,
} from "../rl/engines/tinker/tinker-protocol.ts";
import type { AdamWConfig } from "../tensor/adamw.ts";
import { GlmvError } from "../util/errors.ts";
import { mulberry32 } from "../util/rng.ts";
import { createPromptScorer } from "./tiny-scoring.ts";
import {
  readLossInputs,
  type TrainerBackend,
  type TrainerModel,
  type TrainerSampler,
} from "./trainer-backend.ts";

export type TinyBackendOptions = {
  cfg: GlmvConfig;
  tok: GlmvTokenizer;
  baseModel?: string;
  /** Generator rows per call; a request's samples run in chunks of this many. */
  batchSize?: number;
  /** Longest prompt a sample request may carry (a force-answer continuation includes the think budget). */
  promptLen?: number;
  /** Tokens per packed training row, and images per row. */
  context?: number;
  imagesPerRow?: number;
  /** Rows of one prompt-logprob scoring call ([scoreRows, context]); concurrent requests share its rows. */
  scoreRows?: number;
};

/** A model input as the model sees it: ids with image placeholders expanded, patch rows and grids. */
type Expanded = { ids: number[]; pixels: Float32Array; grids: GridThw[] };

/**
 * @example
 * const backend = tinyBackend({ cfg: presetConfig("tiny"), tok: await loadTinyTokenizer() });
 */
export function tinyBackend(opts: TinyBackendOptions): TrainerBackend {
  const settings = { batchSize: 8, promptLen: 96, context: 256, imagesPerRow: 8, scoreRows: 4, ...opts };
  return {
    baseModel: opts.baseModel ?? "glmv-tiny",
    maxContextLength: settings.context,
    async createModel({ seed }) {
      return createTinyModel(settings, initParams(opts.cfg, seed));
    },
  };
}

type Settings = Required<Omit<TinyBackendOptions, "baseModel">>;

async function expand(s: Settings, chunks: readonly ModelInputChunk[]): Promise<Expanded> {
  const ids: number[] = [];
  const pixels: Float32Array[] = [];
  const grids: GridThw[] = [];
  const m2 = s.cfg.vision.spatialMergeSize ** 2;
  for (const c of chunks) {
    if (c.type === "encoded_text") {
      ids.push(...c.tokens);
      continue;
    }
    const img = await decodeImage(new Uint8Array(Buffer.from(c.data, "base64")));
    const { pixels: rows, grid } = processImageFor(s.cfg, img);
    const count = (grid[0] * grid[1] * grid[2]) / m2;
    if (c.expected_tokens !== undefined && c.expected_tokens !== count) {
      throw new GlmvError(
        "bad_input",
        `image becomes ${count} tokens, expected_tokens says ${c.expected_tokens}`,
      );
    }
    ids.push(...new Array<number>(count).fill(s.tok.special.image));
    pixels.push(rows);
    grids.push(grid);
  }
  return { ids, pixels: concatFloat32(pixels), grids };
}

function createTinyModel(s: Settings, initial: GlmvParams): TrainerModel {
  const { cfg } = s;
  // one packed row per forward_backward call: a request's rows each carry their share of the MoE balance loss
  const core = createTrainerCore(cfg, initial, {
    packing: { context: s.context, imagesPerRow: s.imagesPerRow, rowsPerCall: 1 },
  });
  // Generators depend only on shapes (weights are an argument), so every sampler snapshot shares them: one compile.
  const generators = new Map<number, Generator>();
  const generator = (maxNewTokens: number) => {
    let g = generators.get(maxNewTokens);
    if (!g) {
      g = createGenerator(cfg, { batchSize: s.batchSize, promptLen: s.promptLen, maxNewTokens });
      generators.set(maxNewTokens, g);
    }
    return g;
  };

  // Likewise the core's one scoring forward (prompt logprobs) for every snapshot: weights are its argument.
  const scorer = (params: GlmvParams) => {
    const shape = {
      rowsPerCall: s.scoreRows,
      context: s.context,
      imagesPerRow: s.imagesPerRow,
      segmentsPerRow: SEGMENTS_PER_SCORING_ROW,
    };
    return createPromptScorer(core, shape, params);
  };

  return {
    async forwardBackward(data: Datum[], lossFn: LossFn, config: Record<string, number>) {
      const loss = trainLoss(lossFn, config);
      const segs = await Promise.all(
        data.map(async (d) => {
          const li = readLossInputs(d, lossFn);
          const ex = await expand(s, d.model_input.chunks);
          // Trained positions must predict the next input token (elsewhere, e.g. before image slots, targets are moot).
          li.targets.forEach((t, i) => {
            const next = ex.ids[i + 1];
            if (li.weights[i] !== 0 && next !== undefined && next !== t) {
              throw new GlmvError("bad_input", `target_tokens[${i}] is not the next input token`, {
                where: "datum",
              });
            }
          });
          // values per token of the full sequence: the value of token j is the datum's value at position j − 1
          const ids = [...ex.ids, li.targets.at(-1) ?? 0];
          const perToken = (v: number[]) => [0, ...v];
          return {
            ex: { ...ex, ids },
            weights: perToken(li.weights),
            old: perToken(li.logprobs),
            adv: perToken(li.advantages),
          };
        }),
      );
      const policy = loss.kind !== "cross_entropy";
      const out = await core.forwardBackward(
        segs.map((q) => ({
          ...q.ex,
          weights: q.weights,
          ...(policy ? { oldLogprobs: q.old, advantages: q.adv } : {}),
        })),
        loss,
      );
      return {
        loss_fn_output_type: lossFn,
        loss_fn_outputs: out.logprobs.map((lp) => ({
          logprobs: { data: Array.from(lp), dtype: "float32" as const },
        })),
        metrics: { "loss:sum": out.loss, "clip_fraction:mean": out.clipFraction },
      };
    },

    async optimStep(adam: AdamParams) {
      const optCfg: AdamWConfig = {
        beta1: adam.beta1 ?? 0.9,
        beta2: adam.beta2 ?? 0.95,
        eps: adam.eps ?? 1e-12,
        weightDecay: adam.weight_decay ?? 0,
        clipNorm: adam.grad_clip_norm ?? 0,
      };
      const { gradNorm } = await core.optimStep(adam.learning_rate, optCfg);
      return { metrics: { grad_norm: gradNorm } };
    },

    async snapshot() {
      const weights = tree.ref(core.params);
      return createTinySampler(s, weights, generator, scorer(weights));
    },

    save: (dir: string) => core.save(dir),

    load: (dir: string, optimizer: boolean) => core.load(dir, { optimizer }),

    dispose() {
      for (const g of generators.values()) g.dispose();
      core.dispose();
    },
  };
}

/**
 * The core's loss for a Tinker loss name: "ppo" with the request's ratio thresholds (as ε below and above 1),
 * "importance_sampling" and "cross_entropy" as they are.
 */
function trainLoss(lossFn: LossFn, config: Record<string, number>): TrainLoss {
  if (lossFn !== "ppo") return { kind: lossFn };
  return {
    kind: "ppo",
    clipLow: 1 - (config.clip_low_threshold ?? 0.8),
    clipHigh: (config.clip_high_threshold ?? 1.2) - 1,
  };
}

type Sequence = { tokens: number[]; logprobs: number[]; stop_reason: "stop" | "length" };

/** Prompts one scoring row may hold (task sequences are 40–75 tokens: 3–6 fill a row of 256). */
const SEGMENTS_PER_SCORING_ROW = 16;

/** The generator seed of a sampled request's `chunk`-th batch of rows. */
const chunkSeed = (seed: number, chunk: number): number => (seed * 1_000_003 + chunk * 7919) | 0;

type PromptScorer = ReturnType<typeof createPromptScorer>;
/** A greedy request waiting for a batch: its rows (one per sample) and where its answer goes. */
type GreedyJob = {
  ex: Expanded;
  n: number;
  p: SamplingParams;
  resolve: (seqs: Sequence[]) => void;
  reject: (e: unknown) => void;
};

/**
 * Sampling from frozen weights. A sampled request runs alone (its rows draw from its seed's streams). Greedy
 * requests (temperature 0: evaluation, force-answer continuations of it) do not depend on seeds, so requests that
 * arrive while the generator is busy share its fixed-size batch (continuous batching): a row's greedy output does
 * not depend on the other rows, and the generator's shape is the same either way.
 */
function createTinySampler(
  s: Settings,
  params: GlmvParams,
  generator: (maxNewTokens: number) => Generator,
  scorer: PromptScorer,
): TrainerSampler {
  const mediaIds = mediaTokenIds(s.tok);
  /** Generate `rows` (one batch of at most batchSize; spare rows repeat the first) with one seed. */
  const run = async (rows: readonly Expanded[], p: SamplingParams, seed: number): Promise<Sequence[]> => {
    const padded = [...rows, ...new Array<Expanded>(s.batchSize - rows.length).fill(rows[0]!)];
    const res = await generator(p.max_tokens).generate(
      params,
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
        // nor are media placeholders (as the local policy samples): a response never holds an image slot
        bannedIds: mediaIds,
        seed,
      },
    );
    return rows.map((_, r) => ({
      tokens: res.tokens[r]!,
      logprobs: res.logprobs[r]!, // the policy's own logprob (temperature 1), what the ratio compares against
      stop_reason: res.finished[r] ? ("stop" as const) : ("length" as const),
    }));
  };

  let queue: GreedyJob[] = [];
  let busy = false;
  const sameBatch = (a: SamplingParams, b: SamplingParams) =>
    a.max_tokens === b.max_tokens && (a.stop ?? []).join() === (b.stop ?? []).join();
  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length > 0) {
        const head = queue[0]!;
        const take: GreedyJob[] = [];
        let rows = 0;
        for (const j of queue) {
          if (!sameBatch(j.p, head.p) || (take.length > 0 && rows + j.n > s.batchSize)) continue;
          take.push(j);
          rows += j.n;
        }
        queue = queue.filter((j) => !take.includes(j));
        try {
          const all = take.flatMap((j) => new Array<Expanded>(j.n).fill(j.ex));
          const out: Sequence[] = [];
          for (let at = 0; at < all.length; at += s.batchSize)
            out.push(...(await run(all.slice(at, at + s.batchSize), head.p, 0)));
          let at = 0;
          for (const j of take) {
            j.resolve(out.slice(at, at + j.n));
            at += j.n;
          }
        } catch (e) {
          for (const j of take) j.reject(e);
        }
      }
    } finally {
      busy = false;
    }
  };

  /** The samples of a request from the generator (greedy ones batched with other requests). */
  const generate = async (ex: Expanded, numSamples: number, p: SamplingParams): Promise<Sequence[]> => {
    if (ex.ids.length > s.promptLen)
      throw new GlmvError("bad_input", `prompt of ${ex.ids.length} tokens exceeds ${s.promptLen}`);
    if (p.max_tokens === 0)
      return Array.from({ length: numSamples }, () => ({ tokens: [], logprobs: [], stop_reason: "length" }));
    if (p.temperature === 0)
      return new Promise<Sequence[]>((resolve, reject) => {
        queue.push({ ex, n: numSamples, p, resolve, reject });
        // a short window lets requests sent together (one per prompt) share the first batch too
        setTimeout(() => void pump(), 2);
      });
    const sequences: Sequence[] = [];
    for (let start = 0, chunk = 0; start < numSamples; start += s.batchSize, chunk++) {
      const rows = new Array<Expanded>(Math.min(s.batchSize, numSamples - start)).fill(ex);
      sequences.push(...(await run(rows, p, chunkSeed(p.seed ?? 0, chunk))));
    }
    return sequences;
  };

  /**
   * One-token samples drawn from the scoring forward's next-token logits, with the generator's rules (allowed
   * vocabulary, no media placeholders, temperature and top-p) and its random streams: sample k draws what row
   * k mod batchSize of chunk ⌊k / batchSize⌋ would, so asking for prompt logprobs does not change the sample.
   */
  const drawNext = (next: Float32Array, numSamples: number, p: SamplingParams): Sequence[] => {
    const o = GenerateOptions.parse({
      temperature: p.temperature ?? 1,
      topP: p.top_p ?? 1,
      allowedVocab: s.tok.vocabSize,
      bannedIds: mediaIds,
    });
    const stop = new Set(p.stop ?? []);
    return Array.from({ length: numSamples }, (_, k) => {
      const seed = chunkSeed(p.seed ?? 0, Math.floor(k / s.batchSize));
      const pick = sampleAllowed(next, o, mulberry32(rowSeed(seed, k % s.batchSize)));
      const stopped = stop.has(pick.token);
      return { tokens: [pick.token], logprobs: [pick.logprob], stop_reason: stopped ? "stop" : "length" };
    });
  };

  return {
    async sample(prompt, numSamples, p: SamplingParams, opts = {}) {
      const ex = await expand(s, prompt);
      if (!opts.promptLogprobs) {
        const sequences = await generate(ex, numSamples, p);
        return { type: "sample" as const, sequences, prompt_logprobs: null };
      }
      const scored = await scorer.score(ex);
      const sequences =
        p.max_tokens === 1 ? drawNext(scored.next, numSamples, p) : await generate(ex, numSamples, p);
      return { type: "sample" as const, sequences, prompt_logprobs: scored.logprobs };
    },
    dispose() {
      tree.dispose(params);
    },
  };
}
