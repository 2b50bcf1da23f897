/**
 * `LocalPolicy`: the GLM-V model in-process on the tensor engine (design.md "Engines"), behind the `Policy`
 * interface. Rollouts go through the static-KV-cache generator (one batch size, one padded prompt length);
 * updates run GRPO on truly packed rows (packed-inputs.ts), one fixed [1, context] shape per micro-batch.
 *
 * Gradient accumulation: for each optimiser pass, every rank's micro-batches run in turn through one jitted
 * gradient function and their gradients are summed; then one jitted AdamW step applies the sum. The loss weights
 * are normalised over the whole batch (`lossWeights` with the batch's sample count), so the summed gradient is
 * the full batch gradient, as an all-reduce over data-parallel ranks would give.
 */
import { join } from "node:path";
import { type Array as JaxArray, jit, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { z } from "zod";
import { loadCheckpointDir, saveCheckpointDir } from "../model/checkpoint.ts";
import type { GlmvConfig } from "../model/config.ts";
import { toHfConfig } from "../model/config-hf.ts";
import { expectedTensors } from "../model/config-tensors.ts";
import {
  type EncodedPrompt,
  type Encoder,
  encodePrompt,
  mediaTokenIds,
  stopTokenIds,
} from "../model/encode.ts";
import { createGenerator, type Generator } from "../model/generate.ts";
import { forwardLogits, type ModelInputs, type ModelOptState } from "../model/model.ts";
import { MoeBalanceConfig, moeLayerIndices } from "../model/moe-balance.ts";
import { loadOptimizerState, saveOptimizerState } from "../model/optimizer-state.ts";
import {
  alignToTargets,
  layoutPacked,
  packedInputs,
  packedTargets,
  segmentValidity,
} from "../model/packed-inputs.ts";
import { chunk, packedLogprobs, splitByImages } from "../model/packed-scoring.ts";
import { type GlmvParams, paramsFromNamed, paramsToNamed } from "../model/params.ts";
import type { GlmvTokenizer } from "../model/tokenizer.ts";
import { AdamWConfig, adamwInit, adamwUpdate } from "../tensor/adamw.ts";
import { GlmvError } from "../util/errors.ts";
import { type GrpoBatch, grpoLoss, lossWeights, tokenLogprobs } from "./grpo-loss.ts";
import {
  addLoads,
  applyBiasUpdate,
  createMoeGrpoGradFn,
  layerLoadFigures,
  type MoeGradOut,
  splitLoads,
} from "./local-policy-moe.ts";
import type {
  Policy,
  PolicyPrompt,
  Rollout,
  RolloutParams,
  ScoredSequence,
  UpdateBatch,
  UpdateMetrics,
  UpdateParams,
} from "./policy.ts";

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
});
export type LocalPolicyConfig = z.infer<typeof LocalPolicyConfig>;

type GradOut = { loss: JaxArray; clipFraction: JaxArray; grads: GlmvParams };
/** A sample ready for the update: its packed segment and per-token arrays over prompt + response. */
type UpdateSequence = {
  encoded: EncodedPrompt & { mediaEnd: number };
  mask: number[];
  oldLogprobs: number[];
  advantage: number[];
  weights: number[];
};
type LogprobBatch = { inputs: ModelInputs; targets: JaxArray };

/**
 * The in-process policy. Owns its parameters (`params`) and optimiser state.
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
  /** Current weights, owned by the policy (borrow with `tree.ref`). */
  params: GlmvParams;
  #opt: ModelOptState | undefined;
  readonly #generators = new Map<number, Generator>();
  readonly #gradFns = new Map<string, ReturnType<typeof jit>>();
  /** AdamW on accumulated gradients (jitted once; compiled on first use). */
  readonly #applyFn;
  /** Per-token logprobs of a packed row. */
  readonly #logprobFn;
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
    this.params = params;
    this.tok = tok;
    this.settings = LocalPolicyConfig.parse(settings);
    this.encoder = { cfg, tok, style: this.settings.style };
    this.#tokenizerJson = extras.tokenizerJson;
    const adamw = this.settings.adamw;
    this.#applyFn = jit((p: GlmvParams, grads: GlmvParams, opt: ModelOptState, lr: JaxArray) =>
      adamwUpdate(p, grads, opt, lr, adamw),
    );
    this.#logprobFn = jit((p: GlmvParams, b: LogprobBatch) =>
      tokenLogprobs(forwardLogits(p, b.inputs, cfg), b.targets),
    );
  }

  /** Swap in new weights (the old ones are freed); e.g. after SFT. */
  replaceParams(params: GlmvParams): void {
    if (params !== this.params) tree.dispose(this.params);
    this.params = params;
  }

  /** Drop the optimiser state: the next update starts fresh (design.md: RL starts with a fresh optimiser). */
  resetOptimizer(): void {
    if (this.#opt) tree.dispose(this.#opt);
    this.#opt = undefined;
  }

  async generate(prompts: readonly PolicyPrompt[], p: RolloutParams): Promise<Rollout[][]> {
    const encoded = prompts.map((pr) => encodePrompt(this.encoder, pr));
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
    this.#opt ??= adamwInit(this.params);
    const gradFn = this.#gradFn(p.clipLow, p.clipHigh);
    const apply = this.#applyFn;
    const micro = batch.ranks
      .flat()
      .flatMap((m) => splitByImages(m, (i) => seqs[i]!.encoded.grids.length, this.settings.imagesPerRow));
    const calls = chunk(micro, this.settings.rowsPerCall);
    const moe = this.cfg.text.moe;
    const moeLayers = moe ? moeLayerIndices(this.cfg).length : 0;
    const moeGradFn = moe ? this.#gradFn(p.clipLow, p.clipHigh, true) : undefined;
    let loss = 0;
    let clip = 0;
    let gradNorm = 0;
    let loads: number[][] = []; // MoE: expert load summed over passes
    for (let pass = 0; pass < p.passes; pass++) {
      let acc: GlmvParams | undefined;
      let passLoss = 0;
      let clipSum = 0;
      let weightSum = 0;
      let passLoads: number[][] = [];
      for (const rows of calls) {
        const { grpo, weight, valid } = this.#grpoBatch(seqs, rows);
        let out: GradOut;
        if (moe && valid) {
          // auxScale = this call's share of the update's rows: the summed balance loss is the batch mean
          const auxScale = np.array(rows.length / micro.length);
          const m = moeGradFn!(tree.ref(this.params), { ...grpo, valid, auxScale }) as MoeGradOut;
          const host = (await m.loads.data()) as Float32Array;
          passLoads = addLoads(passLoads, splitLoads(host, moeLayers, moe.numExperts));
          out = m;
        } else out = gradFn(tree.ref(this.params), grpo) as GradOut;
        acc = acc ? addTrees(acc, out.grads) : out.grads;
        passLoss += (await out.loss.jsAsync()) as number;
        clipSum += ((await out.clipFraction.jsAsync()) as number) * weight;
        weightSum += weight;
      }
      if (!acc) break;
      const up = apply(this.params, acc, this.#opt, np.array(p.lr)) as {
        params: GlmvParams;
        state: ModelOptState;
        gradNorm: JaxArray;
      };
      this.params = up.params;
      this.#opt = up.state;
      // loss-free balancing: after every optimiser step, from the loads of that step's tokens
      if (moe)
        await applyBiasUpdate(this.params, this.cfg, passLoads, this.settings.moeBalance.biasUpdateRate);
      loads = addLoads(loads, passLoads);
      gradNorm = (await up.gradNorm.jsAsync()) as number;
      loss += passLoss / p.passes;
      clip += (weightSum > 0 ? clipSum / weightSum : 0) / p.passes;
    }
    const tokens = seqs.reduce((a, q) => a + q.mask.reduce((x, y) => x + y, 0), 0);
    return {
      loss,
      clipFraction: clip,
      gradNorm,
      tokens,
      microSteps: micro.length * p.passes,
      seconds: (performance.now() - t0) / 1000,
      ...(moe && loads.length > 0 ? { expertLoad: layerLoadFigures(this.cfg, loads) } : {}),
    };
  }

  /**
   * Log-probabilities of each rollout's tokens under the current weights: packed rows, `rowsPerCall` of them per
   * [rowsPerCall, context] program (the last call padded with empty rows), as in `update`.
   * @returns per sequence, one number per rollout token
   */
  async sequenceLogprobs(seqs: readonly ScoredSequence[]): Promise<number[][]> {
    const encoded = seqs.map((q) => encodePrompt(this.encoder, q.prompt));
    // the response is plain text after the prompt's media (mediaEnd), as the generator decoded it
    const segments = seqs.map((q, i) => ({
      ...encoded[i]!,
      ids: [...encoded[i]!.ids, ...q.rollout.tokens],
      mediaEnd: encoded[i]!.ids.length,
    }));
    const lps = await packedLogprobs(this.cfg, segments, this.settings, async (batch) => {
      const lp = this.#logprobFn(tree.ref(this.params), batch) as JaxArray;
      return (await lp.data()) as Float32Array;
    });
    // entry j of a sequence's logprobs is token j + 1's: the response starts at the prompt's length
    return lps.map((lp, i) => Array.from(lp.subarray(encoded[i]!.ids.length - 1)));
  }

  async save(dir: string): Promise<void> {
    await saveCheckpointDir(dir, {
      config: toHfConfig(this.cfg),
      tensors: paramsToNamed(this.params),
      ...(this.#tokenizerJson !== undefined ? { tokenizerJson: this.#tokenizerJson } : {}),
    });
    if (this.#opt) await saveOptimizerState(join(dir, "optimizer.safetensors"), this.#opt);
  }

  async load(dir: string): Promise<void> {
    const { tensors } = await loadCheckpointDir(dir, expectedTensors(this.cfg));
    this.replaceParams(paramsFromNamed(tensors, this.cfg));
    this.resetOptimizer();
    this.#opt = await loadOptimizerState(join(dir, "optimizer.safetensors"), this.cfg);
  }

  dispose(): void {
    for (const g of this.#generators.values()) g.dispose();
    this.#generators.clear();
    for (const f of this.#gradFns.values()) f.dispose();
    this.#gradFns.clear();
    this.#applyFn.dispose();
    this.#logprobFn.dispose();
    this.resetOptimizer();
    tree.dispose(this.params);
  }

  #generator(maxNewTokens: number): Generator {
    let g = this.#generators.get(maxNewTokens);
    if (!g) {
      const { batchSize, promptLen } = this.settings;
      g = createGenerator(this.cfg, { batchSize, promptLen, maxNewTokens });
      this.#generators.set(maxNewTokens, g);
    }
    return g;
  }

  /** The jitted GRPO gradient (`moe`: the MoE one that also returns expert loads, local-policy-moe.ts). */
  #gradFn(clipLow: number, clipHigh: number, moe = false) {
    const key = `${moe ? "moe:" : ""}${clipLow}/${clipHigh}`;
    let f = this.#gradFns.get(key);
    if (!f && moe) {
      f = createMoeGrpoGradFn(this.cfg, { clipLow, clipHigh }, this.settings.moeBalance.auxLossCoef);
      this.#gradFns.set(key, f);
    }
    if (!f) {
      const lossCfg = { clipLow, clipHigh, aggregation: "sample" as const }; // aggregation lives in the weights
      f = jit((params: GlmvParams, batch: GrpoBatch) => {
        const [[loss, clipFraction], grads] = valueAndGrad(
          (q: GlmvParams) => grpoLoss(q, batch, this.cfg, lossCfg),
          { hasAux: true },
        )(params);
        return { loss, clipFraction, grads };
      });
      this.#gradFns.set(key, f);
    }
    return f;
  }

  /** Per sample: the encoded sequence and per-token arrays (mask, old logprobs, advantage, weight). */
  #updateSequences(batch: UpdateBatch, p: UpdateParams): UpdateSequence[] {
    const cache = new Map<string, EncodedPrompt>();
    const seqs = batch.samples.map(({ prompt, rollout, advantage }): UpdateSequence => {
      const enc = cache.get(prompt.id) ?? encodePrompt(this.encoder, prompt);
      cache.set(prompt.id, enc);
      const pad = enc.ids.map(() => 0);
      const ids = [...enc.ids, ...rollout.tokens];
      if (ids.length > this.settings.context)
        throw new GlmvError("bad_input", `sample of ${ids.length} tokens exceeds the context`, {
          where: `prompt ${prompt.id}`,
        });
      return {
        // a sampled <|image|> in the response is plain text, as the generator decoded it
        encoded: { ...enc, ids, mediaEnd: enc.ids.length },
        mask: [...pad, ...rollout.injected.map((inj) => (inj ? 0 : 1))],
        oldLogprobs: [...pad, ...rollout.logprobs],
        advantage: ids.map(() => advantage),
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

  /**
   * Micro-batches (one packed row each) as one [rowsPerCall, context] GRPO batch (missing rows empty), its
   * total loss weight, and for a MoE model which slots are real tokens.
   */
  #grpoBatch(seqs: readonly UpdateSequence[], rows: readonly (readonly number[])[]) {
    const { rowsPerCall, context, imagesPerRow } = this.settings;
    const chosen = rows.map((row) => row.map((i) => seqs[i]!));
    const layout = layoutPacked(
      this.cfg,
      chosen.map((row) => row.map((q) => q.encoded)),
      { rows: rowsPerCall, context, imageSlots: rowsPerCall * imagesPerRow },
      0,
    );
    const shape = [rowsPerCall, context];
    const arr = (pick: (q: UpdateSequence) => number[]) =>
      np.array(
        alignToTargets(
          layout,
          chosen.map((row) => row.map(pick)),
        ),
        { shape },
      );
    const grpo: GrpoBatch = {
      inputs: packedInputs(this.cfg, layout),
      targets: np.array(packedTargets(layout), { shape, dtype: np.int32 }),
      oldLogprobs: arr((q) => q.oldLogprobs),
      advantages: arr((q) => q.advantage),
      weights: arr((q) => q.weights),
    };
    const weight = chosen.flat().reduce((a, q) => a + q.weights.reduce((x, y) => x + y, 0), 0);
    // MoE: expert load and the balance loss count real tokens only, not the padding slots
    const valid = this.cfg.text.moe ? segmentValidity(layout) : undefined;
    return { grpo, weight, valid };
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

/** Leafwise a + b (consumes both). */
function addTrees(a: GlmvParams, b: GlmvParams): GlmvParams {
  return tree.map((x: JaxArray, y: JaxArray) => x.add(y), a, b) as GlmvParams;
}
