/**
 * The trainer core's scoring primitives over its state (trainer-core-state.ts): per-token logprobs without
 * gradients, of packed rows (`logprobsRows`) or of whole sequences (`logprobs`), optionally with the logits after
 * each sequence's last token (a one-token sample drawn from the same forward).
 */
import { type Array as JaxArray, jit, numpy as np, tree } from "@jax-js/jax";
import { GlmvError } from "../util/errors.ts";
import { forwardLogits } from "./model.ts";
import type { PackedLayout, PackedSegment } from "./packed-inputs.ts";
import type { ScoreRows } from "./packed-rows.ts";
import { packedLogprobs, type ScoringBatch, type ScoringShape } from "./packed-scoring.ts";
import type { GlmvParams } from "./params.ts";
import { tokenLogprobs } from "./policy-loss.ts";
import type { TrainerState } from "./trainer-core-state.ts";

/** The jitted scoring forward: per-slot target logprobs, and with `ends` the logits [slots, V] at those slots. */
function score(
  state: TrainerState,
  p: GlmvParams,
  rows: ScoreRows,
  ends?: JaxArray,
): { logprobs: JaxArray; next?: JaxArray } {
  const { cfg, compiled } = state;
  if (!ends) {
    compiled.score ??= jit((q: GlmvParams, b: ScoreRows) =>
      tokenLogprobs(forwardLogits(q, b.inputs, cfg), b.targets),
    );
    return { logprobs: compiled.score(p, rows) as JaxArray };
  }
  compiled.scoreNext ??= jit((q: GlmvParams, b: ScoreRows & { ends: JaxArray }) => {
    const logits = forwardLogits(q, b.inputs, cfg);
    const [r, c, v] = logits.shape as [number, number, number];
    const next = np.take(logits.ref.reshape([r * c, v]), b.ends, 0);
    return { logprobs: tokenLogprobs(logits, b.targets), next };
  });
  return compiled.scoreNext(p, { ...rows, ends }) as { logprobs: JaxArray; next: JaxArray };
}

/** log π(target) per slot [B · S] under the current weights, no gradient. Consumes `rows`. */
export async function logprobsRows(state: TrainerState, rows: ScoreRows): Promise<Float32Array> {
  return (await score(state, tree.ref(state.params), rows).logprobs.data()) as Float32Array;
}

/**
 * One scoring call that also keeps the logits after each sequence's last token: `last[i]` for sequence i.
 * The slots of the call are its rows' sequences in order, padded to `slots`.
 */
async function scoreWithLastLogits(
  state: TrainerState,
  weights: GlmvParams,
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
  const out = score(
    state,
    tree.ref(weights),
    call.batch,
    np.array(ends, { shape: [slots], dtype: np.int32 }),
  );
  const logits = (await out.next!.data()) as Float32Array;
  for (const [k, i] of order.entries()) last[i] = logits.slice(k * vocab, (k + 1) * vocab);
  return (await out.logprobs.data()) as Float32Array;
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
  const weights = opts.params ?? state.params;
  const slots = shape.rowsPerCall * (shape.segmentsPerRow ?? 0);
  if (opts.lastLogits && slots === 0)
    throw new GlmvError("bad_input", "last logits need a fixed segmentsPerRow", { where: "logprobs" });
  const last: Float32Array[] = [];
  const scored = await packedLogprobs(state.cfg, segments, shape, async (batch, layout, rows) => {
    if (!opts.lastLogits)
      return (await score(state, tree.ref(weights), batch).logprobs.data()) as Float32Array;
    return scoreWithLastLogits(state, weights, { batch, layout, rows }, shape.context, slots, last);
  });
  return opts.lastLogits ? { logprobs: scored, last } : { logprobs: scored };
}
