/**
 * Prompt logprobs for the tiny backend (`asample` with `prompt_logprobs: true`, how a Tinker client scores a
 * sequence without touching gradients). Requests that arrive together are packed into [rows, context]
 * teacher-forced forwards (packed-scoring.ts, the same packing `LocalPolicy.sequenceLogprobs` scores with). The
 * forward also returns each prompt's next-token logits, so the usual `max_tokens: 1` of such a request is drawn
 * from it rather than from a generator prefill of its own.
 */
import { type Array as JaxArray, jit, numpy as np, tree } from "@jax-js/jax";
import type { GlmvConfig } from "../model/config.ts";
import { forwardLogits } from "../model/model.ts";
import type { PackedSegment } from "../model/packed-inputs.ts";
import { packedLogprobs, type ScoringBatch, type ScoringShape } from "../model/packed-scoring.ts";
import type { GlmvParams } from "../model/params.ts";
import { tokenLogprobs } from "../model/policy-loss.ts";
import { GlmvError } from "../util/errors.ts";

/** Shape of the scoring calls: `segmentsPerRow` bounds the prompts of a row, so every call has a fixed count. */
export type PromptScoringShape = Required<ScoringShape>;

/** A scored prompt: per position the logprob of its token given those before (first null), and the logits after it. */
export type ScoredPrompt = { logprobs: (number | null)[]; next: Float32Array };

/** Batch of a scoring call: the packed inputs and targets, and the slot of each segment's last token. */
type ScoreBatch = ScoringBatch & { ends: JaxArray };
type ScoreOut = { logprobs: JaxArray; next: JaxArray };

/**
 * The jitted scoring forward: per-slot target logprobs [rows, context], and the logits [slots, vocab] at `ends`
 * (rows · segmentsPerRow slots). Weights are an argument, so one compile serves every sampler snapshot.
 */
export function createScoreFn(cfg: GlmvConfig) {
  return jit((p: GlmvParams, b: ScoreBatch): ScoreOut => {
    const logits = forwardLogits(p, b.inputs, cfg);
    const [rows, context, vocab] = logits.shape as [number, number, number];
    const next = np.take(logits.ref.reshape([rows * context, vocab]), b.ends, 0);
    return { logprobs: tokenLogprobs(logits, b.targets), next };
  });
}

/** How long the queue must stay unchanged before a call goes out with less than a full batch. */
const GATHER_WAIT_MS = 10;

type Job = { segment: PackedSegment; resolve: (s: ScoredPrompt) => void; reject: (e: unknown) => void };

/**
 * A queue of prompts to score under fixed `params`: whatever is queued when the device is free goes out together.
 * @example const scorer = createPromptScorer(cfg, shape, createScoreFn(cfg), params); await scorer.score({ ids });
 */
export function createPromptScorer(
  cfg: GlmvConfig,
  shape: PromptScoringShape,
  fn: ReturnType<typeof createScoreFn>,
  params: GlmvParams,
) {
  const slots = shape.rowsPerCall * shape.segmentsPerRow;
  const vocab = cfg.text.vocabSize;

  const scoreAll = async (segments: readonly PackedSegment[]): Promise<ScoredPrompt[]> => {
    const next: Float32Array[] = [];
    const lps = await packedLogprobs(cfg, segments, shape, async (batch, layout, rows) => {
      const ends = new Int32Array(slots);
      const order: number[] = [];
      for (const [r, rowPlaces] of layout.places.entries())
        for (const [k, place] of rowPlaces.entries()) {
          ends[order.length] = r * shape.context + place.start + place.length - 1;
          order.push(rows[r]![k]!);
        }
      const out = fn(tree.ref(params), {
        ...batch,
        ends: np.array(ends, { shape: [slots], dtype: np.int32 }),
      }) as ScoreOut;
      const logits = (await out.next.data()) as Float32Array;
      order.forEach((i, k) => {
        next[i] = logits.slice(k * vocab, (k + 1) * vocab);
      });
      return (await out.logprobs.data()) as Float32Array;
    });
    return lps.map((lp, i) => ({ logprobs: [null, ...lp], next: next[i]! }));
  };

  let queue: Job[] = [];
  let busy = false;
  /**
   * Wait while requests are still arriving, until a call's worth of tokens is queued: requests sent together reach
   * the queue over several event-loop turns (body, image decoding), and a call is as slow for one prompt as for a
   * full batch (scoring 64 task prompts one call each took 12× as long as together).
   */
  const gather = async () => {
    const full = shape.rowsPerCall * shape.context;
    let seen = -1;
    while (queue.length !== seen && queue.reduce((a, j) => a + j.segment.ids.length, 0) < full) {
      seen = queue.length;
      await new Promise((r) => setTimeout(r, GATHER_WAIT_MS));
    }
  };
  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length > 0) {
        await gather();
        const take = queue;
        queue = [];
        try {
          const scored = await scoreAll(take.map((j) => j.segment));
          for (const [i, j] of take.entries()) j.resolve(scored[i]!);
        } catch (e) {
          for (const j of take) j.reject(e);
        }
      }
    } finally {
      busy = false;
    }
  };

  return {
    /** Score one prompt; a prompt that cannot fit a row is refused alone, before it can fail a shared batch. */
    score(segment: PackedSegment): Promise<ScoredPrompt> {
      const images = segment.grids?.length ?? 0;
      if (segment.ids.length === 0) throw new GlmvError("bad_input", "an empty prompt has nothing to score");
      if (segment.ids.length > shape.context)
        throw new GlmvError(
          "bad_input",
          `prompt of ${segment.ids.length} tokens exceeds the scoring context ${shape.context}`,
        );
      if (images > shape.imagesPerRow)
        throw new GlmvError("bad_input", `prompt has ${images} images, more than ${shape.imagesPerRow}`);
      return new Promise<ScoredPrompt>((resolve, reject) => {
        queue.push({ segment, resolve, reject });
        void pump();
      });
    },
  };
}
