/**
 * The trainer core's scoring primitives over its state (trainer-core-state.ts): per-token logprobs without
 * gradients, of packed rows (`logprobsRows`) or of whole sequences (`logprobs`), optionally with the logits after
 * each sequence's last token (a one-token sample drawn from the same forward).
 */
import { type Array as JaxArray, jit, numpy as np, tree } from "@jax-js/jax";
import { GlmvError } from "../util/errors.ts";
import type { GlmvConfig } from "./config.ts";
import { forwardLogits } from "./model.ts";
import type { PackedLayout, PackedSegment } from "./packed-inputs.ts";
import type { ScoreRows } from "./packed-rows.ts";
import { packedLogprobs, type ScoringBatch, type ScoringShape } from "./packed-scoring.ts";
import type { GlmvParams } from "./params.ts";
import { tokenLogprobs } from "./policy-loss.ts";
import { nativeOn, nativeScore } from "./trainer-core-native.ts";
import type { TrainerState } from "./trainer-core-state.ts";

/** The scoring forward: per-slot target logprobs, and with `ends` the logits [slots, V] at those slots. */
function scoringForward(cfg: GlmvConfig, withEnds: boolean) {
  if (!withEnds)
    return (q: GlmvParams, b: ScoreRows) => ({
      logprobs: tokenLogprobs(forwardLogits(q, b.inputs, cfg), b.targets),
    });
  return (q: GlmvParams, b: ScoreRows & { ends: JaxArray }) => {
    const logits = forwardLogits(q, b.inputs, cfg);
    const [r, c, v] = logits.shape as [number, number, number];
    const next = np.take(logits.ref.reshape([r * c, v]), b.ends, 0);
    return { logprobs: tokenLogprobs(logits, b.targets), next };
  };
}

/**
 * One scoring call (consumes `rows` and `ends`) under the core's weights or `weights` (borrowed): natively when
 * the core trains natively, else the jitted forward. Host values: logprobs per slot, and the logits at `ends`.
 */
async function score(
  state: TrainerState,
  weights: GlmvParams | undefined,
  rows: ScoreRows,
  ends?: JaxArray,
): Promise<{ logprobs: Float32Array; next?: Float32Array }> {
  const { cfg, compiled } = state;
  const inputs = ends ? { ...rows, ends } : rows;
  if (await nativeOn(state)) {
    const out = await nativeScore(state, weights, inputs, scoringForward(cfg, ends !== undefined) as never);
    // result leaves in key order: logprobs, then next
    if (out)
      return { logprobs: out[0]!.data as Float32Array, next: out[1]?.data as Float32Array | undefined };
  }
  const p = tree.ref(weights ?? state.params);
  if (ends) compiled.scoreNext ??= jit(scoringForward(cfg, true));
  else compiled.score ??= jit(scoringForward(cfg, false));
  const run = (ends ? compiled.scoreNext : compiled.score)!;
  const out = run(p, inputs) as { logprobs: JaxArray; next?: JaxArray };
  const logprobs = (await out.logprobs.data()) as Float32Array;
  return { logprobs, ...(out.next ? { next: (await out.next.data()) as Float32Array } : {}) };
}

/** log π(target) per slot [B · S] under the current weights, no gradient. Consumes `rows`. */
export async function logprobsRows(state: TrainerState, rows: ScoreRows): Promise<Float32Array> {
  return (await score(state, undefined, rows)).logprobs;
}

/**
 * One scoring call that also keeps the logits after each sequence's last token: `last[i]` for sequence i.
 * The slots of the call are its rows' sequences in order, padded to `slots`.
 */
async function scoreWithLastLogits(
  state: TrainerState,
  weights: GlmvParams | undefined,
  call: { batch: ScoringBatch; layout: PackedLayout; rows: readonly (readonly number[])[] },
  context: number,
  slots: number,
  last: Float32Array[],
): Promise<Float32Array> {
  const vocab = state.cfg.text.vocabSize;
  const ends = new Int32Array(slots);
  const order: number[] = [];
  for (const [r, rowPlaces] of call.layout.places.entries())
    for (const [k, place] of rowPlaces.entries()) {
      ends[order.length] = r * context + place.start + place.length - 1;
      order.push(call.rows[r]![k]!);
    }
  const out = await score(state, weights, call.batch, np.array(ends, { shape: [slots], dtype: np.int32 }));
  const logits = out.next!;
  for (const [k, i] of order.entries()) last[i] = logits.slice(k * vocab, (k + 1) * vocab);
  return out.logprobs;
}

/**
 * Per-token logprobs of whole sequences, packed as `forwardBackward` packs them (`shape` overrides the core's
 * packing), under the current weights or the given `params` (borrowed); `lastLogits` (needs
 * `shape.segmentsPerRow`): also the logits after each sequence's last token.
 */
export async function logprobs(
  state: TrainerState,
  segments: readonly PackedSegment[],
  opts: { shape?: Partial<ScoringShape>; params?: GlmvParams; lastLogits?: boolean },
): Promise<{ logprobs: Float32Array[]; last?: Float32Array[] }> {
  const shape: ScoringShape = { ...state.packing, ...opts.shape };
  const weights = opts.params; // undefined: the core's own (native: never rebuilt as jax-js arrays)
  const slots = shape.rowsPerCall * (shape.segmentsPerRow ?? 0);
  if (opts.lastLogits && slots === 0)
    throw new GlmvError("bad_input", "last logits need a fixed segmentsPerRow", { where: "logprobs" });
  const last: Float32Array[] = [];
  const scored = await packedLogprobs(state.cfg, segments, shape, async (batch, layout, rows) => {
    if (!opts.lastLogits) return (await score(state, weights, batch)).logprobs;
    return scoreWithLastLogits(state, weights, { batch, layout, rows }, shape.context, slots, last);
  });
  return opts.lastLogits ? { logprobs: scored, last } : { logprobs: scored };
}
