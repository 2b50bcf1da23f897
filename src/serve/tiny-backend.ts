/**
 * glmv's in-process GLM-V model (the `tiny` preset by default) as a `TrainerBackend`, so `glmv serve trainer
 * --preset tiny` serves the Tinker API from the real architecture on the tensor engine.
 *
 * - sampling (tiny-sampler.ts): the static-cache generator (`createGenerator`) on a snapshot of the weights; an
 *   image chunk is a PNG run through glmv's processor (tiny-inputs.ts), and its placeholder count must equal
 *   `expected_tokens`. Media placeholders are never sampled (as in the local policy); greedy requests arriving
 *   together share a batch.
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
import { createGenerator, type Generator } from "../model/generate.ts";
import type { TrainSegment } from "../model/packed-rows.ts";
import { type GlmvParams, initParams } from "../model/params.ts";
import type { GlmvTokenizer } from "../model/tokenizer.ts";
import { createTrainerCore } from "../model/trainer-core.ts";
import type { TrainLoss } from "../model/trainer-core-config.ts";
import type { AdamParams, Datum, LossFn } from "../rl/engines/tinker/tinker-protocol.ts";
import type { AdamWConfig } from "../tensor/adamw.ts";
import { GlmvError } from "../util/errors.ts";
import { expandChunks, type TinySettings } from "./tiny-inputs.ts";
import { createTinySampler } from "./tiny-sampler.ts";
import { createPromptScorer } from "./tiny-scoring.ts";
import { readLossInputs, type TrainerBackend, type TrainerModel } from "./trainer-backend.ts";

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

/** Prompts one scoring row may hold (task sequences are 40–75 tokens: 3–6 fill a row of 256). */
const SEGMENTS_PER_SCORING_ROW = 16;

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

/** The core's AdamW settings for a Tinker `optim_step` (Tinker's defaults where the request is silent). */
function adamwFromTinker(adam: AdamParams): AdamWConfig {
  return {
    beta1: adam.beta1 ?? 0.9,
    beta2: adam.beta2 ?? 0.95,
    eps: adam.eps ?? 1e-12,
    weightDecay: adam.weight_decay ?? 0,
    clipNorm: adam.grad_clip_norm ?? 0,
  };
}

/**
 * A datum as the core's training sequence: its input expanded, one more token (the last target) so every target
 * is an input token, and per-token values shifted by one (the value of token j is the datum's at position j − 1).
 * `policy`: also old logprobs and advantages.
 */
async function datumSegment(
  s: TinySettings,
  d: Datum,
  lossFn: LossFn,
  policy: boolean,
): Promise<TrainSegment> {
  const li = readLossInputs(d, lossFn);
  const ex = await expandChunks(s, d.model_input.chunks);
  // Trained positions must predict the next input token (elsewhere, e.g. before image slots, targets are moot).
  li.targets.forEach((t, i) => {
    const next = ex.ids[i + 1];
    if (li.weights[i] !== 0 && next !== undefined && next !== t) {
      throw new GlmvError("bad_input", `target_tokens[${i}] is not the next input token`, {
        where: "datum",
      });
    }
  });
  const ids = [...ex.ids, li.targets.at(-1) ?? 0];
  const perToken = (v: number[]) => [0, ...v];
  return {
    ...ex,
    ids,
    weights: perToken(li.weights),
    ...(policy ? { oldLogprobs: perToken(li.logprobs), advantages: perToken(li.advantages) } : {}),
  };
}

/** Generators depend only on shapes (weights are an argument), so every sampler snapshot shares them: one compile. */
function createGeneratorCache(s: TinySettings, backend: "jax" | "native") {
  const generators = new Map<number, Generator>();
  return {
    get(maxNewTokens: number): Generator {
      let g = generators.get(maxNewTokens);
      if (!g) {
        const shape = { batchSize: s.batchSize, promptLen: s.promptLen, maxNewTokens };
        g = createGenerator(s.cfg, shape, { backend });
        generators.set(maxNewTokens, g);
      }
      return g;
    },
    dispose(): void {
      for (const g of generators.values()) g.dispose();
    },
  };
}

function createTinyModel(s: TinySettings, initial: GlmvParams): TrainerModel {
  // one packed row per forward_backward call: a request's rows each carry their share of the MoE balance loss
  const core = createTrainerCore(s.cfg, initial, {
    packing: { context: s.context, imagesPerRow: s.imagesPerRow, rowsPerCall: 1 },
  });
  const generators = createGeneratorCache(s, core.backend); // native when the core trains natively
  // Likewise the core's one scoring forward (prompt logprobs) for every snapshot: weights are its argument.
  const scoringShape = {
    rowsPerCall: s.scoreRows,
    context: s.context,
    imagesPerRow: s.imagesPerRow,
    segmentsPerRow: SEGMENTS_PER_SCORING_ROW,
  };

  return {
    async forwardBackward(data: Datum[], lossFn: LossFn, config: Record<string, number>) {
      const loss = trainLoss(lossFn, config);
      const policy = loss.kind !== "cross_entropy";
      const segments = await Promise.all(data.map((d) => datumSegment(s, d, lossFn, policy)));
      const out = await core.forwardBackward(segments, loss);
      return {
        loss_fn_output_type: lossFn,
        loss_fn_outputs: out.logprobs.map((lp) => ({
          logprobs: { data: Array.from(lp), dtype: "float32" as const },
        })),
        metrics: { "loss:sum": out.loss, "clip_fraction:mean": out.clipFraction },
      };
    },

    async optimStep(adam: AdamParams) {
      const { gradNorm } = await core.optimStep(adam.learning_rate, adamwFromTinker(adam));
      return { metrics: { grad_norm: gradNorm } };
    },

    async snapshot() {
      const weights = tree.ref(core.params);
      const scorer = createPromptScorer(core, scoringShape, weights);
      return createTinySampler(s, weights, generators.get, scorer);
    },

    save: (dir: string) => core.save(dir),

    load: (dir: string, optimizer: boolean) => core.load(dir, { optimizer }),

    dispose() {
      generators.dispose();
      core.dispose();
    },
  };
}
