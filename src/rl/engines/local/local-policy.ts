/**
 * `LocalPolicy`: the GLM-V model in-process on the tensor engine (design.md "Engines"), behind the `Policy`
 * interface. Rollouts go through the static-KV-cache generator (one batch size, one padded prompt length);
 * updates, scoring and checkpoints go through the trainer core (model/trainer-core.ts): GRPO on truly packed rows,
 * `rowsPerCall` rows of `context` tokens per jitted call.
 *
 * Gradient accumulation: for each optimiser pass, the batch's micro-batches (rank after rank, as packed) run through
 * the core's `forwardBackward` (their gradients are summed), then one `optimStep` applies the sum. The loss weights are
 * normalised over the whole batch (`lossWeights` with the batch's sample count), so the summed gradient is the full
 * batch gradient, as an all-reduce over data-parallel ranks would give. Inside `withPromptCache` (one RL step) a
 * prompt is encoded once for its rescoring, rollouts and update.
 */
import { z } from "zod";
import type { GlmvConfig } from "../../../model/config.ts";
import {
  type EncodedPrompt,
  type Encoder,
  encodePrompt,
  mediaTokenIds,
  stopTokenIds,
} from "../../../model/encode.ts";
import { createGenerator, type Generator } from "../../../model/generate.ts";
import { addLoads, expertLoadStats, MoeBalanceConfig, moeLayerIndices } from "../../../model/moe-balance.ts";
import type { TrainSegment } from "../../../model/packed-rows.ts";
import type { GlmvParams } from "../../../model/params.ts";
import type { GlmvTokenizer } from "../../../model/tokenizer.ts";
import { createTrainerCore, type TrainerCore } from "../../../model/trainer-core.ts";
import { Backend } from "../../../model/trainer-core-config.ts";
import { AdamWConfig } from "../../../tensor/adamw.ts";
import { GlmvError } from "../../../util/errors.ts";
import { lossWeights } from "../../algorithm/grpo-loss.ts";
import type {
  Policy,
  PolicyPrompt,
  Rollout,
  RolloutParams,
  ScoredSequence,
  UpdateBatch,
  UpdateMetrics,
  UpdateParams,
} from "../../loop/policy.ts";

/** Fixed shapes and optimiser settings of a local policy. */
export const LocalPolicyConfig = z.object({
  /** Rows per generation call (prompts × n are chunked into batches of this size, the last one padded). */
  batchSize: z.number().int().positive().default(32),
  /** Every prompt is left-padded to this many tokens (tiny task prompts are about 35). */
  promptLen: z.number().int().positive().default(48),
  /** Tokens of one packed update row; each micro-batch of `packSequences` becomes one row. */
  context: z.number().int().positive().default(256),
  /** Images one packed row may hold (more than context / shortest sequence); unused slots get blank images. */
  imagesPerRow: z.number().int().min(0).default(8),
  /**
   * Packed rows per gradient call of an update: a rank's micro-batches (one row each) run `rowsPerCall` at a time
   * in one [rowsPerCall, context] program, the last call padded with empty rows. One row per call spent most of an
   * RL update in per-call overhead (44 calls of [1, 256] for 16 × 8 rollouts × 2 passes).
   */
  rowsPerCall: z.number().int().positive().default(8),
  style: z.enum(["4.1v", "4.5v"]).default("4.1v"),
  adamw: AdamWConfig.default(AdamWConfig.parse({})),
  /**
   * MoE configs only: the loss-free bias update after each optimiser pass (u; 0 freezes the bias, as RL recipes
   * often do) and the sequence balance loss weight α added to the GRPO objective (0 leaves it out).
   */
  moeBalance: MoeBalanceConfig.prefault({}),
  /** The engine of training, scoring and generation (trainer-core-config.ts `backend`; unset: GLMV_BACKEND, else native). */
  backend: Backend.optional(),
});
export type LocalPolicyConfig = z.infer<typeof LocalPolicyConfig>;

/** A sample ready for the update: its packed segment with per-token mask, old logprobs, advantage and weight. */
type UpdateSequence = TrainSegment & { mask: number[]; weights: number[] };

/**
 * The in-process policy. Owns its trainer core (weights and optimiser state).
 * @example
 * const policy = new LocalPolicy(cfg, initParams(cfg, 1), tok, { batchSize: 32 });
 * const groups = await policy.generate(prompts, { n: 8, temperature: 1, topP: 1, maxNewTokens: 48,
 *   thinkBudget: 40, style: "4.1v", seed: 1 });
 */
export class LocalPolicy implements Policy {
  readonly cfg: GlmvConfig;
  readonly tok: GlmvTokenizer;
  readonly settings: LocalPolicyConfig;
  readonly encoder: Encoder;
  /** Forward/backward, AdamW, scoring and checkpoints on the policy's weights. */
  readonly core: TrainerCore;
  readonly #generators = new Map<number, Generator>();
  /** Encodings by prompt id while a `withPromptCache` scope (one RL step) runs; undefined outside one. */
  #stepPrompts: Map<string, EncodedPrompt> | undefined;
  /** Extra files a checkpoint carries (tokenizer.json for a self-contained folder). */
  readonly #tokenizerJson: unknown;

  constructor(
    cfg: GlmvConfig,
    params: GlmvParams,
    tok: GlmvTokenizer,
    settings: z.input<typeof LocalPolicyConfig> = {},
    extras: { tokenizerJson?: unknown } = {},
  ) {
    this.cfg = cfg;
    this.tok = tok;
    this.settings = LocalPolicyConfig.parse(settings);
    this.encoder = { cfg, tok, style: this.settings.style };
    this.#tokenizerJson = extras.tokenizerJson;
    const { context, imagesPerRow, rowsPerCall, moeBalance, backend } = this.settings;
    this.core = createTrainerCore(cfg, params, {
      moeBalance,
      packing: { context, imagesPerRow, rowsPerCall },
      ...(backend ? { backend } : {}),
    });
  }

  /** Current weights, owned by the policy's core (borrow with `tree.ref`). */
  get params(): GlmvParams {
    return this.core.params;
  }

  /** Swap in new weights (the old ones are freed); e.g. after SFT. */
  replaceParams(params: GlmvParams): void {
    this.core.replaceParams(params);
  }

  /** Drop the optimiser state: the next update starts fresh (design.md: RL starts with a fresh optimiser). */
  resetOptimizer(): void {
    this.core.resetOptimizer();
  }

  async withPromptCache<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#stepPrompts) return fn(); // nested: the outer scope keeps the encodings
    this.#stepPrompts = new Map();
    try {
      return await fn();
    } finally {
      this.#stepPrompts = undefined;
    }
  }

  /**
   * An encoder for one call: through the step's encodings inside `withPromptCache`, else through the call's own
   * (a prompt repeated within a call, as G samples of a group are, is encoded once either way).
   */
  #promptEncoder(): (prompt: PolicyPrompt) => EncodedPrompt {
    const known = this.#stepPrompts ?? new Map<string, EncodedPrompt>();
    return (prompt) => {
      let enc = known.get(prompt.id);
      if (!enc) {
        enc = encodePrompt(this.encoder, prompt);
        known.set(prompt.id, enc);
      }
      return enc;
    };
  }

  async generate(prompts: readonly PolicyPrompt[], p: RolloutParams): Promise<Rollout[][]> {
    const encoded = prompts.map(this.#promptEncoder());
    const jobs = encoded.flatMap((_, i) => new Array<number>(p.n).fill(i));
    const out: Rollout[][] = prompts.map(() => []);
    const b = this.settings.batchSize;
    const gen = this.#generator(p.maxNewTokens);
    const s = this.tok.special;
    for (let start = 0, chunk = 0; start < jobs.length; start += b, chunk++) {
      const real = jobs.slice(start, start + b);
      const rows = [...real, ...new Array<number>(b - real.length).fill(real[0]!)]; // pad the last chunk
      const batch = rows.map((i) => encoded[i]!);
      const res = await gen.generate(
        this.params,
        {
          prompts: batch.map((e) => e.ids),
          imageGridThw: batch.flatMap((e) => e.grids),
          pixels: concatPixels(batch),
        },
        {
          temperature: p.temperature,
          topP: p.topP,
          stopIds: stopTokenIds(this.tok),
          // a sampled media placeholder has no image behind it: the packed update could not replay it
          bannedIds: mediaTokenIds(this.tok),
          // a distinct stream per chunk; rows already draw from their own stream within a chunk
          seed: (p.seed * 1_000_003 + chunk * 7919) | 0,
          thinkBudget: p.thinkBudget,
          forceAnswer: { style: p.style, thinkEndId: s.thinkEnd, answerStartId: s.answerStart },
        },
      );
      real.forEach((promptIndex, r) => {
        const tokens = res.tokens[r]!;
        const finished = res.finished[r]!;
        out[promptIndex]!.push({
          promptId: prompts[promptIndex]!.id,
          tokens,
          logprobs: res.logprobs[r]!,
          injected: res.injected[r]!,
          text: decodeKnown(this.tok, finished ? tokens.slice(0, -1) : tokens),
          finished,
          promptTokens: encoded[promptIndex]!.ids.length,
        });
      });
    }
    return out;
  }

  async update(batch: UpdateBatch, p: UpdateParams): Promise<UpdateMetrics> {
    const t0 = performance.now();
    const seqs = this.#updateSequences(batch, p);
    const loss = { kind: "ppo" as const, clipLow: p.clipLow, clipHigh: p.clipHigh };
    const { microBatches } = batch;
    let total = 0;
    let clip = 0;
    let gradNorm = 0;
    let rows = 0;
    let loads: number[][] = []; // MoE: expert load summed over passes
    for (let pass = 0; pass < p.passes; pass++) {
      const out = await this.core.forwardBackward(seqs, loss, { microBatches });
      if (out.rows === 0) break;
      rows = out.rows;
      // loss-free balancing (MoE): the core moves the bias after the step, from that step's loads
      ({ gradNorm } = await this.core.optimStep(p.lr, this.settings.adamw));
      if (out.loads) loads = addLoads(loads, out.loads);
      total += out.loss / p.passes;
      clip += out.clipFraction / p.passes;
    }
    const tokens = seqs.reduce((a, q) => a + q.mask.reduce((x, y) => x + y, 0), 0);
    return {
      loss: total,
      clipFraction: clip,
      gradNorm,
      tokens,
      microSteps: rows * p.passes,
      seconds: (performance.now() - t0) / 1000,
      ...(this.cfg.text.moe && loads.length > 0 ? { expertLoad: layerLoadFigures(this.cfg, loads) } : {}),
    };
  }

  /**
   * Log-probabilities of each rollout's tokens under the current weights: packed rows, `rowsPerCall` of them per
   * [rowsPerCall, context] program (the last call padded with empty rows), as in `update`.
   * @returns per sequence, one number per rollout token
   */
  async sequenceLogprobs(seqs: readonly ScoredSequence[]): Promise<number[][]> {
    const encode = this.#promptEncoder();
    const encoded = seqs.map((q) => encode(q.prompt));
    // the response is plain text after the prompt's media (mediaEnd), as the generator decoded it
    const segments = seqs.map((q, i) => ({
      ...encoded[i]!,
      ids: [...encoded[i]!.ids, ...q.rollout.tokens],
      mediaEnd: encoded[i]!.ids.length,
    }));
    const { logprobs } = await this.core.logprobs(segments);
    // entry j of a sequence's logprobs is token j + 1's: the response starts at the prompt's length
    return logprobs.map((lp, i) => Array.from(lp.subarray(encoded[i]!.ids.length - 1)));
  }

  async save(dir: string): Promise<void> {
    await this.core.save(
      dir,
      this.#tokenizerJson !== undefined ? { tokenizerJson: this.#tokenizerJson } : {},
    );
  }

  async load(dir: string): Promise<void> {
    await this.core.load(dir, { optimizer: true });
  }

  dispose(): void {
    for (const g of this.#generators.values()) g.dispose();
    this.#generators.clear();
    this.core.dispose();
  }

  #generator(maxNewTokens: number): Generator {
    let g = this.#generators.get(maxNewTokens);
    if (!g) {
      const { batchSize, promptLen } = this.settings;
      // native when the core trains natively; threads default to all cores, as the core's do
      g = createGenerator(this.cfg, { batchSize, promptLen, maxNewTokens }, { backend: this.core.backend });
      this.#generators.set(maxNewTokens, g);
    }
    return g;
  }

  /** Per sample: the packed segment and per-token arrays over prompt + response (mask, old logprobs, advantage, weight). */
  #updateSequences(batch: UpdateBatch, p: UpdateParams): UpdateSequence[] {
    const encode = this.#promptEncoder();
    const seqs = batch.samples.map(({ prompt, rollout, advantage }): UpdateSequence => {
      const enc = encode(prompt);
      const pad = enc.ids.map(() => 0);
      const ids = [...enc.ids, ...rollout.tokens];
      if (ids.length > this.settings.context)
        throw new GlmvError("bad_input", `sample of ${ids.length} tokens exceeds the context`, {
          where: `prompt ${prompt.id}`,
        });
      return {
        // a sampled <|image|> in the response is plain text, as the generator decoded it
        ...enc,
        ids,
        mediaEnd: enc.ids.length,
        mask: [...pad, ...rollout.injected.map((inj) => (inj ? 0 : 1))],
        oldLogprobs: [...pad, ...rollout.logprobs],
        advantages: ids.map(() => advantage),
        weights: [],
      };
    });
    const weights = lossWeights(
      seqs.map((q) => q.mask),
      p.aggregation,
    );
    seqs.forEach((q, i) => {
      q.weights = weights[i]!;
    });
    return seqs;
  }
}

/**
 * Decode response tokens with special tokens kept. Ids beyond the tokenizer (a model vocabulary padded past it
 * can sample them) have no text and are dropped.
 */
export function decodeKnown(tok: GlmvTokenizer, ids: readonly number[]): string {
  return tok.decode(ids.filter((id) => id < tok.vocabSize));
}

/** Patch rows of a batch's prompts in row order. */
function concatPixels(batch: readonly EncodedPrompt[]): Float32Array | undefined {
  const total = batch.reduce((a, e) => a + e.pixels.length, 0);
  if (total === 0) return undefined;
  const out = new Float32Array(total);
  let at = 0;
  for (const e of batch) {
    out.set(e.pixels, at);
    at += e.pixels.length;
  }
  return out;
}

/** Per-layer balance figures of a step log: max/mean expert load (1 = even), experts that got no token. */
export type LayerLoad = { layer: number; maxOverMean: number; idleExperts: number };

/** Per-layer max/mean of host load vectors (the figure a step log carries). */
export function layerLoadFigures(cfg: GlmvConfig, loads: readonly (readonly number[])[]): LayerLoad[] {
  return expertLoadStats(loads, moeLayerIndices(cfg)).map((s) => ({
    layer: s.layer,
    maxOverMean: s.maxOverMean,
    idleExperts: s.idleExperts.length,
  }));
}
