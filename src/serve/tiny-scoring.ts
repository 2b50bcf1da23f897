/**
 * Prompt logprobs for the tiny backend (`asample` with `prompt_logprobs: true`, how a Tinker client scores a
 * sequence without touching gradients). Requests that arrive together are packed into [rows, context]
 * teacher-forced forwards by the trainer core's `logprobs` (the same packing `LocalPolicy.sequenceLogprobs` scores
 * with) on a sampler snapshot's weights. The forward also returns each prompt's next-token logits, so the usual
 * `max_tokens: 1` of such a request is drawn from it rather than from a generator prefill of its own.
 */
import type { PackedSegment } from "../model/packed-inputs.ts";
import type { ScoringShape } from "../model/packed-scoring.ts";
import type { GlmvParams } from "../model/params.ts";
import type { TrainerCore } from "../model/trainer-core.ts";
import { GlmvError } from "../util/errors.ts";

/** Shape of the scoring calls: `segmentsPerRow` bounds the prompts of a row, so every call has a fixed count. */
export type PromptScoringShape = Required<ScoringShape>;

/** A scored prompt: per position the logprob of its token given those before (first null), and the logits after it. */
export type ScoredPrompt = { logprobs: (number | null)[]; next: Float32Array };

/** How long the queue must stay unchanged before a call goes out with less than a full batch. */
const GATHER_WAIT_MS = 10;

type Job = { segment: PackedSegment; resolve: (s: ScoredPrompt) => void; reject: (e: unknown) => void };

/**
 * A queue of prompts to score under fixed `params` (borrowed) through `core`'s scoring forward: whatever is queued
 * when the device is free goes out together.
 * @example const scorer = createPromptScorer(core, shape, params); await scorer.score({ ids });
 */
export function createPromptScorer(
  core: Pick<TrainerCore, "logprobs">,
  shape: PromptScoringShape,
  params: GlmvParams,
) {
  const scoreAll = async (segments: readonly PackedSegment[]): Promise<ScoredPrompt[]> => {
    const { logprobs, last } = await core.logprobs(segments, { shape, params, lastLogits: true });
    return logprobs.map((lp, i) => ({ logprobs: [null, ...lp], next: last![i]! }));
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
