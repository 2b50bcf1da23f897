/**
 * Teacher-forced scoring of whole sequences on packed rows: the sequences are packed first-fit into rows of the
 * fixed context and cut so no row holds more images (or segments) than it has slots for (packing.ts), laid out
 * (packed-inputs.ts) and scored `rowsPerCall` rows per call, so one [rowsPerCall, context] program serves every
 * batch. Shared by `LocalPolicy.sequenceLogprobs` and the trainer server's prompt logprobs (tiny backend).
 */
import { type Array as JaxArray, numpy as np } from "@jax-js/jax";
import type { GlmvConfig } from "./config.ts";
import type { ModelInputs } from "./model.ts";
import {
  layoutPacked,
  type PackedLayout,
  type PackedSegment,
  packedInputs,
  packedTargets,
} from "./packed-inputs.ts";
import { packSequences, planCalls } from "./packing.ts";

/** Fixed shape of the scoring calls; `segmentsPerRow` (optional) also bounds the sequences of one row. */
export type ScoringShape = {
  rowsPerCall: number;
  context: number;
  imagesPerRow: number;
  segmentsPerRow?: number;
};

/** One call's model inputs and next-token targets (int32 [rowsPerCall, context]); the callee consumes both. */
export type ScoringBatch = { inputs: ModelInputs; targets: JaxArray };

/**
 * Runs one call: given the batch, its layout and which sequences each row holds, returns the logprob of each
 * slot's target as host floats [rowsPerCall · context].
 */
export type ScoreCall = (
  batch: ScoringBatch,
  layout: PackedLayout,
  rows: readonly (readonly number[])[],
) => Promise<Float32Array>;

/**
 * Per-token log-probabilities of every sequence under one model, through `score` (the jitted forward).
 * @returns per sequence, `ids.length − 1` values: entry j is the logprob of token j + 1 given the tokens before it
 * @example
 * const lps = await packedLogprobs(cfg, [{ ids, pixels, grids }], shape, async (b) => (await fn(params, b).data()) as Float32Array);
 */
export async function packedLogprobs(
  cfg: GlmvConfig,
  segments: readonly PackedSegment[],
  shape: ScoringShape,
  score: ScoreCall,
): Promise<Float32Array[]> {
  const { context, rowsPerCall, imagesPerRow, segmentsPerRow } = shape;
  const { microBatches } = packSequences(
    segments.map((q) => q.ids.length),
    context,
  );
  const calls = planCalls(microBatches, (i) => segments[i]!.grids?.length ?? 0, {
    rowsPerCall,
    imagesPerRow,
    segmentsPerRow,
  });
  const out: Float32Array[] = segments.map(() => new Float32Array(0));
  for (const call of calls) {
    const layout = layoutPacked(
      cfg,
      call.map((row) => row.map((i) => segments[i]!)),
      { rows: rowsPerCall, context, imageSlots: rowsPerCall * imagesPerRow },
      0,
    );
    const targets = np.array(packedTargets(layout), { shape: [rowsPerCall, context], dtype: np.int32 });
    const host = await score({ inputs: packedInputs(cfg, layout), targets }, layout, call);
    for (const [r, row] of call.entries())
      for (const [k, i] of row.entries()) {
        // the logprob of token t (t ≥ 1) of a segment sits at the slot before it
        const place = layout.places[r]![k]!;
        const at = r * context + place.start;
        out[i] = host.slice(at, at + place.length - 1);
      }
  }
  return out;
}
