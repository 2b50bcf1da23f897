/**
 * `TinkerPolicy`: the RL `Policy` on a Tinker-API trainer (SkyRL's server, or `glmv serve trainer`).
 *
 * - generate: the chat template is rendered and tokenized (tinker-prompt.ts); each `<|image|>` becomes an image
 *   chunk (PNG, its placeholder count as `expected_tokens`). `asample` draws the G samples; force-answering samples
 *   the think budget, then continues every sample cut without `</think>` from prompt + its tokens + the injected ids
 *   (except a sample that drew a media placeholder: no server can lay out a placeholder without its image).
 * - update: each sample becomes a next-token-aligned `Datum` (tinker-datum.ts: weights 0 on the prompt and on
 *   injected tokens, the GRPO aggregation folded into the weights, the group advantage on every response token,
 *   the sampler's logprobs as the old ones); per pass, one `forward_backward("ppo", clip thresholds 1 − clipLow /
 *   1 + clipHigh)` per micro-batch then one `optim_step`; then `save_weights_for_sampler` so later rollouts use the
 *   new weights.
 * - sequenceLogprobs: `asample` of prompt + response with `prompt_logprobs` (Tinker's way to score a sequence),
 *   from the weights last published (unpublished SFT steps are published first).
 */
import type { RawImage } from "../../../model/processor.ts";
import type { GlmvTokenizer } from "../../../model/tokenizer.ts";
import { GlmvError } from "../../../util/errors.ts";
import { Limiter } from "../../../util/http-json.ts";
import type {
  Policy,
  PolicyPrompt,
  Rollout,
  RolloutParams,
  ScoredSequence,
  UpdateBatch,
  UpdateMetrics,
  UpdateParams,
  UpdateSample,
} from "../../loop/policy.ts";
import { mixSeed } from "../openai/openai-engine.ts";
import type { TinkerClient } from "./tinker-client.ts";
import { grpoDatum, supervisedDatum } from "./tinker-datum.ts";
import { type ChunkedPrompt, chunkPrompt } from "./tinker-prompt.ts";
import type { AdamParams, LossFn, ModelInputChunk, SampledSequence } from "./tinker-protocol.ts";

export type TinkerPolicyOptions = {
  client: TinkerClient;
  tokenizer: Pick<GlmvTokenizer, "encode" | "decode" | "special">;
  baseModel: string;
  /** 0 = full fine-tuning (SkyRL, glmv); hosted Tinker needs a LoRA rank. */
  loraRank?: number;
  /** Seed of the model's initialisation on the server. */
  seed?: number;
  /** Placeholder tokens an image becomes; default GLM-V's: (h/28)·(w/28) after smart resize. */
  imageTokens?: (img: RawImage) => number;
  /** Ids that end a response; default `<|endoftext|>`, `<|user|>`, `<|observation|>`. */
  stopIds?: number[];
  /** "ppo" clips (clip-higher); "importance_sampling" is the loss SkyRL has validated. */
  lossFn?: Extract<LossFn, "ppo" | "importance_sampling">;
  adam?: Omit<AdamParams, "learning_rate">;
  /** GLM-4.5V thinking switch used when rendering prompts. */
  enableThinking?: boolean;
};

/**
 * Scoring requests in flight at once. A server batches what has arrived (the tiny backend packs its queue into
 * shared calls), so more in flight fill its calls better (300 prompts: ~4.3 s at 256 against ~5 s at 64 on the
 * tiny server); the bound keeps the offline scoring of a whole pool from opening thousands of connections.
 */
const SCORING_CONCURRENCY = 256;

/**
 * @example
 * const policy = await TinkerPolicy.create({ client: new TinkerClient({ url }), tokenizer, baseModel: "glmv-tiny" });
 * const groups = await policy.generate(prompts, params);
 */
export class TinkerPolicy implements Policy {
  private readonly encoded = new Map<string, ChunkedPrompt>();
  private samplingSessionId = "";
  private samplerVersion = 0;
  /** Media placeholder ids (image, video and their begin/end markers). */
  private readonly media: ReadonlySet<number>;
  /** Weights changed by a supervised step since they were last published for sampling. */
  private unpublished = false;

  private constructor(
    private readonly opts: TinkerPolicyOptions,
    readonly modelId: string,
  ) {
    const sp = opts.tokenizer.special;
    this.media = new Set([sp.image, sp.video, sp.beginImage, sp.endImage, sp.beginVideo, sp.endVideo]);
  }

  /** Open a session, create the model and publish its initial weights for sampling. */
  static async create(opts: TinkerPolicyOptions): Promise<TinkerPolicy> {
    const session = await opts.client.createSession(["glmv"]);
    const modelId = await opts.client.createModel(session, opts.baseModel, opts.loraRank ?? 0, opts.seed);
    const policy = new TinkerPolicy(opts, modelId);
    await policy.publishWeights();
    return policy;
  }

  async generate(prompts: readonly PolicyPrompt[], params: RolloutParams): Promise<Rollout[][]> {
    if (this.unpublished) await this.publishWeights();
    return Promise.all(prompts.map((p, i) => this.generateOne(p, params, i)));
  }

  private async generateOne(prompt: PolicyPrompt, params: RolloutParams, index: number): Promise<Rollout[]> {
    const enc = await this.encode(prompt, params.style);
    const forcing = params.thinkBudget < params.maxNewTokens;
    const first = forcing ? params.thinkBudget : params.maxNewTokens;
    const reply = await this.sample(enc.chunks, params.n, first, params, mixSeed(params.seed, index, 0));
    const sp = this.opts.tokenizer.special;
    return Promise.all(
      reply.map(async (seq, j) => {
        const head = { tokens: seq.tokens, logprobs: seq.logprobs ?? seq.tokens.map(() => 0) };
        let tokens = head.tokens;
        let logprobs = head.logprobs;
        let injected = tokens.map(() => false);
        let stop = seq.stop_reason;
        // A sample that drew a media placeholder is not continued: the continuation prompt would carry a
        // placeholder without its image, which the server cannot lay out (the update drops such samples anyway).
        if (forcing && stop === "length" && !tokens.some((t) => this.media.has(t))) {
          const inject = tokens.includes(sp.thinkEnd)
            ? []
            : params.style === "4.1v"
              ? [sp.thinkEnd, sp.answerStart]
              : [sp.thinkEnd];
          const remaining = params.maxNewTokens - tokens.length - inject.length;
          if (remaining > 0) {
            const chunks: ModelInputChunk[] = [
              ...enc.chunks,
              { type: "encoded_text", tokens: [...tokens, ...inject] },
            ];
            const [tail] = await this.sample(
              chunks,
              1,
              remaining,
              params,
              mixSeed(params.seed, index, j + 1),
            );
            if (!tail) throw new GlmvError("engine_error", "continuation returned no sequence");
            tokens = [...tokens, ...inject, ...tail.tokens];
            logprobs = [...logprobs, ...inject.map(() => 0), ...(tail.logprobs ?? tail.tokens.map(() => 0))];
            injected = [...injected, ...inject.map(() => true), ...tail.tokens.map(() => false)];
            stop = tail.stop_reason;
          }
        }
        const text = this.opts.tokenizer.decode(tokens);
        return {
          promptId: prompt.id,
          tokens,
          logprobs,
          injected,
          text,
          finished: stop === "stop",
          promptTokens: enc.length,
        };
      }),
    );
  }

  private async sample(
    chunks: ModelInputChunk[],
    n: number,
    maxTokens: number,
    params: RolloutParams,
    seed: number,
  ): Promise<SampledSequence[]> {
    const sp = this.opts.tokenizer.special;
    const reply = await this.opts.client.sample({
      prompt: { chunks },
      numSamples: n,
      samplingSessionId: this.samplingSessionId,
      params: {
        max_tokens: maxTokens,
        temperature: params.temperature,
        top_p: params.topP,
        stop: this.opts.stopIds ?? [sp.endOfText, sp.user, sp.observation],
        seed,
      },
    });
    if (reply.sequences.length !== n)
      throw new GlmvError("engine_error", `asked for ${n} samples, got ${reply.sequences.length}`);
    return reply.sequences;
  }

  /**
   * Per sequence, the logprob of each of its tokens after the prompt under the current weights, by the Tinker
   * scoring call (the SDK's `compute_logprobs`): `asample` of prompt + tokens with `prompt_logprobs` and one
   * sampled token that is not used. Unlike `forward_backward` it leaves the trainer's gradients alone. At most
   * `SCORING_CONCURRENCY` requests are in flight; a server batches those that arrive together.
   * @example const [lps] = await policy.sequenceLogprobs([{ prompt, rollout: { tokens } }], "4.1v");
   */
  async sequenceLogprobs(
    seqs: readonly ScoredSequence[],
    style: RolloutParams["style"],
  ): Promise<number[][]> {
    if (this.unpublished) await this.publishWeights();
    const limit = new Limiter(SCORING_CONCURRENCY);
    return Promise.all(seqs.map((q) => limit.run(() => this.scoreOne(q, style))));
  }

  private async scoreOne(q: ScoredSequence, style: RolloutParams["style"]): Promise<number[]> {
    const tokens = q.rollout.tokens;
    if (tokens.length === 0) return [];
    const enc = await this.encode(q.prompt, style);
    if (enc.length === 0)
      throw new GlmvError("bad_input", "a sequence without a prompt has no logprob for its first token", {
        where: q.prompt.id,
      });
    const reply = await this.opts.client.sample({
      prompt: { chunks: [...enc.chunks, { type: "encoded_text", tokens: [...tokens] }] },
      numSamples: 1,
      samplingSessionId: this.samplingSessionId,
      params: { max_tokens: 1, temperature: 1 },
      promptLogprobs: true,
    });
    // the client checked the reply: one entry per position, numbers after the first (which is the prompt's)
    return reply.prompt_logprobs!.slice(enc.length) as number[];
  }

  /** Render, tokenize and split at image placeholders; cached by prompt id for the update. */
  private async encode(prompt: PolicyPrompt, style: RolloutParams["style"]): Promise<ChunkedPrompt> {
    const cached = this.encoded.get(prompt.id);
    if (cached) return cached;
    const enc = await chunkPrompt(prompt, {
      tokenizer: this.opts.tokenizer,
      style,
      enableThinking: this.opts.enableThinking,
      imageTokens: this.opts.imageTokens,
    });
    this.encoded.set(prompt.id, enc);
    return enc;
  }

  async update(batch: UpdateBatch, params: UpdateParams): Promise<UpdateMetrics> {
    const started = Date.now();
    const { client } = this.opts;
    // A rollout cut to nothing (e.g. before a media placeholder) has no token to train: it keeps its place in the
    // aggregation (the batch's sample count) but sends no datum.
    const data = await Promise.all(
      batch.samples.map((s) => (s.rollout.tokens.length > 0 ? this.datum(s, batch, params) : undefined)),
    );
    const micro = batch.microBatches
      .map((mb) => mb.filter((i) => data[i] !== undefined))
      .filter((mb) => mb.length > 0);
    const lossFn = this.opts.lossFn ?? "ppo";
    const config = { clip_low_threshold: 1 - params.clipLow, clip_high_threshold: 1 + params.clipHigh };
    let loss = 0;
    let clipped = 0;
    let weighed = 0;
    let gradNorm = 0;
    let microSteps = 0;
    for (let pass = 0; pass < params.passes; pass++) {
      for (const mb of micro) {
        const items = mb.map((i) => data[i]!);
        const out = await client.forwardBackward(
          this.modelId,
          items.map((d) => d.datum),
          lossFn,
          lossFn === "ppo" ? config : undefined,
        );
        loss += out.metrics["loss:sum"] ?? 0;
        // Clip fraction from the returned logprobs: the share of trained tokens whose ratio left [1 − ε_l, 1 + ε_h].
        out.loss_fn_outputs.forEach((o, k) => {
          const { datum, positions } = items[k]!;
          for (const p of positions) {
            const ratio = Math.exp(o.logprobs.data[p]! - datum.loss_fn_inputs.logprobs!.data[p]!);
            weighed++;
            if (ratio < config.clip_low_threshold || ratio > config.clip_high_threshold) clipped++;
          }
        });
        microSteps++;
      }
      const step = await client.optimStep(this.modelId, { ...this.opts.adam, learning_rate: params.lr });
      gradNorm = step.metrics?.grad_norm ?? Number.NaN;
    }
    await this.publishWeights();
    const tokens = data.reduce((a, d) => a + (d?.positions.length ?? 0), 0);
    return {
      loss: params.passes > 0 ? loss / params.passes : 0,
      clipFraction: weighed > 0 ? clipped / weighed : 0,
      gradNorm,
      tokens,
      microSteps,
      seconds: (Date.now() - started) / 1000,
    };
  }

  /** One next-token-aligned datum; `positions` are the model-input positions that carry gradient. */
  private async datum(s: UpdateSample, batch: UpdateBatch, params: UpdateParams) {
    if (s.rollout.tokens.length === 0)
      throw new GlmvError("bad_input", "rollout without tokens cannot be trained", {
        where: s.rollout.promptId,
      });
    return grpoDatum(await this.encode(s.prompt, "4.1v"), s, batch, params);
  }

  /**
   * One supervised step through the trainer API: teacher forcing with `cross_entropy`, the loss on response tokens
   * only (each weighs 1 / all response tokens of the batch: the token mean), then `optim_step`. Weights are
   * published for sampling lazily, before the next `generate`.
   * @example await policy.supervisedStep([{ prompt, response: tok.encode(target) }], { lr: 3e-3, style: "4.1v" });
   */
  async supervisedStep(
    examples: readonly { prompt: PolicyPrompt; response: readonly number[] }[],
    opts: { lr: number; style: RolloutParams["style"]; adam?: Omit<AdamParams, "learning_rate"> },
  ): Promise<{ loss: number; gradNorm: number; tokens: number }> {
    const usable = examples.filter((e) => e.response.length > 0);
    const total = usable.reduce((a, e) => a + e.response.length, 0);
    if (total === 0) throw new GlmvError("bad_input", "a supervised step needs at least one response token");
    const data = await Promise.all(
      usable.map(async (e) => supervisedDatum(await this.encode(e.prompt, opts.style), e.response, total)),
    );
    const { client } = this.opts;
    const out = await client.forwardBackward(this.modelId, data, "cross_entropy");
    const step = await client.optimStep(this.modelId, {
      ...(opts.adam ?? this.opts.adam),
      learning_rate: opts.lr,
    });
    this.unpublished = true;
    return {
      loss: out.metrics["loss:sum"] ?? Number.NaN,
      gradNorm: step.metrics?.grad_norm ?? Number.NaN,
      tokens: total,
    };
  }

  /** Save weights (and optimiser state) on the server under `dir` (a path the server can write). */
  async save(dir: string): Promise<void> {
    await this.opts.client.saveWeights(this.modelId, dir);
  }

  /** Load weights from a server path; `optimizer: false` loads the weights only (the optimiser state stays). */
  async load(dir: string, optimizer = true): Promise<void> {
    await this.opts.client.loadWeights(this.modelId, dir, optimizer);
    await this.publishWeights();
  }

  async dispose(): Promise<void> {
    await this.opts.client.unloadModel(this.modelId);
  }

  private async publishWeights(): Promise<void> {
    const reply = await this.opts.client.saveWeightsForSampler(this.modelId, {
      samplingSessionSeqId: ++this.samplerVersion,
    });
    if (!reply.sampling_session_id)
      throw new GlmvError("engine_error", "save_weights_for_sampler returned no sampling session");
    this.samplingSessionId = reply.sampling_session_id;
    this.unpublished = false;
  }
}
