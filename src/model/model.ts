/**
 * The full GLM-V model: host-side input building (position ids, rope tables, masks, the embedding-merge index),
 * forward to logits (vision tower → embedding merge → decoder → LM head), and the masked next-token loss. Training
 * runs on the trainer core (trainer-core.ts).
 */
import { type Array as JaxArray, jit, nn, numpy as np, tree } from "@jax-js/jax";
import type { AdamWState } from "../tensor/adamw.ts";
import { crossEntropy, linear } from "../tensor/ops.ts";
import { GlmvError } from "../util/errors.ts";
import { type GlmvConfig, textHeadDim, textRotaryDim } from "./config.ts";
import { runDecoder, type TextRope } from "./decoder.ts";
import type { Routing } from "./moe.ts";
import type { GlmvParams } from "./params.ts";
import { type GridThw, getRopeIndex } from "./position-ids.ts";
import { rotatePairsMatrix, textRopeTable } from "./rope.ts";
import { type Recorder, runVision, type VisionAux, visionAux, visionGeometry } from "./vision.ts";

/** Arrays the forward pass takes. B rows of S tokens; M merged vision tokens. */
export type ModelInputs = {
  tokens: JaxArray; // int32 [B, S]
  rope: TextRope;
  mask: JaxArray; // bool [B, 1, S, S]: causal and key padding
  vision?: {
    pixels: JaxArray; // [N, C·T·P·P]: image patches, then video patches
    aux: VisionAux;
    featureIndex: JaxArray; // int32 [B·S]: vision feature j for placeholder slots, 0 elsewhere
    isVision: JaxArray; // bool [B·S, 1]: slot takes a vision feature
  };
};

/** Host description of a batch, before it becomes arrays. */
export type HostBatch = {
  tokens: number[][];
  attentionMask?: number[][];
  imageGridThw?: GridThw[];
  videoGridThw?: GridThw[];
  /** Patch rows of all images then all videos, [N · C·T·P·P], merge-window order. */
  pixels?: Float32Array;
};

/** Host result of `buildInputs` that callers may want (e.g. rope deltas for decoding). */
export type InputsInfo = { positions: number[][][]; ropeDeltas: number[] };

/**
 * Text rope arrays for B rows of 3-D position ids (`positions[row]` = [t, h, w] id lists of one length S):
 * cos/sin [B, S, 1, hd] and the pair-rotation matrix [hd, hd], with hd = `textHeadDim` (explicit on GLM-4.5V,
 * where it is not hidden/heads). Pass `rotate` to reuse a matrix the caller already holds (its reference moves
 * into the result). The caller owns the arrays.
 * @example const rope = textRopeArrays(cfg.text, [[[0, 1], [0, 1], [0, 1]]]); // B = 1, S = 2
 */
export function textRopeArrays(t: GlmvConfig["text"], positions: number[][][], rotate?: JaxArray): TextRope {
  const hd = textHeadDim(t);
  const rot = textRotaryDim(t);
  const b = positions.length;
  const s = positions[0]?.[0]?.length ?? 0;
  const cos = new Float32Array(b * s * hd);
  const sin = new Float32Array(b * s * hd);
  positions.forEach((p, i) => {
    const table = textRopeTable(p, hd, rot, t.mropeSection, t.ropeTheta);
    cos.set(table.cos, i * s * hd);
    sin.set(table.sin, i * s * hd);
  });
  return {
    cos: np.array(cos, { shape: [b, s, 1, hd] }),
    sin: np.array(sin, { shape: [b, s, 1, hd] }),
    rotate: rotate ?? textRotateMatrix(t),
  };
}

/** The [hd, hd] pair-rotation matrix of the text rope (see `rotatePairsMatrix`). */
export function textRotateMatrix(t: GlmvConfig["text"]): JaxArray {
  const hd = textHeadDim(t);
  return np.array(rotatePairsMatrix(hd, textRotaryDim(t)), { shape: [hd, hd] });
}

/**
 * Turn a host batch into `ModelInputs` arrays (caller owns them). All rows must have the same length.
 * @example const { inputs } = buildInputs(cfg, { tokens: [[1, 2, 3]] });
 */
export function buildInputs(cfg: GlmvConfig, batch: HostBatch): { inputs: ModelInputs; info: InputsInfo } {
  const rows = batch.tokens;
  const b = rows.length;
  const s = rows[0]?.length ?? 0;
  if (rows.some((r) => r.length !== s)) throw new GlmvError("bad_input", "token rows differ in length");
  const attn = batch.attentionMask ?? rows.map((r) => r.map(() => 1));
  const images = batch.imageGridThw ?? [];
  const videos = batch.videoGridThw ?? [];
  const { positions, ropeDeltas } = getRopeIndex(rows, cfg, {
    imageGridThw: images,
    videoGridThw: videos,
    attentionMask: attn,
  });

  const mask: boolean[] = [];
  for (let r = 0; r < b; r++)
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) mask.push(j <= i && attn[r]![j] === 1);

  const inputs: ModelInputs = {
    tokens: np.array(Int32Array.from(rows.flat()), { shape: [b, s], dtype: np.int32 }),
    rope: textRopeArrays(cfg.text, positions),
    mask: np.array(mask, { shape: [b, 1, s, s], dtype: np.bool }),
  };
  if (images.length + videos.length > 0) {
    if (!batch.pixels) throw new GlmvError("bad_input", "grids given without pixels");
    const geo = visionGeometry([...images, ...videos], cfg);
    const v = cfg.vision;
    const rowLen = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
    if (batch.pixels.length !== geo.patches * rowLen)
      throw new GlmvError(
        "bad_input",
        `pixels hold ${batch.pixels.length / rowLen} patches, grids ${geo.patches}`,
      );
    const m2 = v.spatialMergeSize ** 2;
    const imageTokens = images.reduce((a, [gt, gh, gw]) => a + (gt * gh * gw) / m2, 0);
    const videoTokens = videos.reduce((a, [gt, gh, gw]) => a + (gt * gh * gw) / m2, 0);
    const featureIndex = featureIndexFor(rows, cfg.tokens, imageTokens, videoTokens);
    inputs.vision = {
      pixels: np.array(batch.pixels, { shape: [geo.patches, rowLen] }),
      aux: visionAux(geo),
      featureIndex: np.array(
        featureIndex.map((j) => Math.max(j, 0)),
        { shape: [b * s], dtype: np.int32 },
      ),
      isVision: np.array(
        Array.from(featureIndex, (j) => j >= 0),
        { shape: [b * s, 1], dtype: np.bool },
      ),
    };
  }
  return { inputs, info: { positions, ropeDeltas } };
}

/**
 * For each slot of the flattened batch: −1 (keep the token embedding) or the index j of the vision feature it
 * takes. `<|image|>` tokens outside a video span take image features in order, inside a span video features
 * (which follow the image features). Counts must match exactly (model-spec §3.4).
 */
export function featureIndexFor(
  rows: readonly (readonly number[])[],
  tokens: GlmvConfig["tokens"],
  imageTokens: number,
  videoTokens: number,
): Int32Array {
  const total = rows.reduce((a, r) => a + r.length, 0);
  const out = new Int32Array(total).fill(-1);
  let nImage = 0;
  let nVideo = 0;
  let slot = 0;
  for (const row of rows) {
    let inVideo = false;
    for (const id of row) {
      if (id === tokens.videoStartTokenId) inVideo = true;
      else if (id === tokens.videoEndTokenId) inVideo = false;
      if (id === tokens.imageTokenId) out[slot] = inVideo ? imageTokens + nVideo++ : nImage++;
      slot++;
    }
  }
  if (nImage !== imageTokens || nVideo !== videoTokens)
    throw new GlmvError(
      "bad_input",
      `placeholder counts (image ${nImage}, video ${nVideo}) ≠ features (${imageTokens}, ${videoTokens})`,
    );
  return out;
}

/**
 * How rows are gathered: `take` (a gather; its gradient is a scatter-add, cheap and exact, and it compiles under
 * `jit(valueAndGrad)` because `embedInputs` feeds it materialised indices and never reshapes its output) or
 * `onehot` (a one-hot matmul, kept as a reference). Under jax-js 0.1.25 the one-hot form's table gradient fuses
 * the incoming gradient's elementwise chain into the matmul and recomputes it once per vocabulary row: 12.6 of
 * a 16 s `small` training step. Prefer `take`.
 */
export type GatherMode = "take" | "onehot";

/** Rows `idx` of `table` [rows, H]. Consumes both. */
export function gatherRows(table: JaxArray, idx: JaxArray, mode: GatherMode): JaxArray {
  if (mode === "take") return np.take(table, idx, 0);
  return np.matmul(nn.oneHot(idx, table.shape[0]!), table);
}

/**
 * Rows of `table` [rows, H] at `idx` [...] → [..., H], differentiable under `jit`: jax-js runs the gradient's
 * scatter as a routine, whose inputs must be materialised buffers, not views. `np.maximum(idx, 0)` makes the
 * index one even when it is a reshaped jit argument; the caller must not reshape the result (its cotangent would
 * be a view) — consume it with an elementwise op or hand it to the decoder as it is. Consumes both.
 */
function takeRows(table: JaxArray, idx: JaxArray): JaxArray {
  return np.take(table, np.maximum(idx, 0), 0);
}

/** Forward options: a stage recorder, and the gather mode (default `take`, see `GatherMode`). */
export type ForwardOptions = { record?: Recorder; gather?: GatherMode };

/**
 * Input embeddings after the image/video merge: [B, S, hidden]. Consumes `embed`, `visionParams` and the
 * inputs' tokens/vision arrays.
 */
export function embedInputs(
  embed: JaxArray,
  visionParams: GlmvParams["vision"],
  tokens: JaxArray,
  vision: ModelInputs["vision"],
  cfg: GlmvConfig,
  opts: ForwardOptions = {},
): JaxArray {
  const { record, gather = "take" } = opts;
  const [b, s] = tokens.shape as [number, number];
  if (gather === "onehot") return embedOneHot(embed, visionParams, tokens, vision, cfg, record);
  const emb = takeRows(embed, tokens); // [B, S, H], no reshape (see takeRows)
  if (!vision) {
    tree.dispose(visionParams);
    return emb;
  }
  const rec: Recorder | undefined = record ? (n, x) => record(`vision.${n}`, x) : undefined;
  const feats = runVision(visionParams, vision.pixels, vision.aux, cfg.vision, rec); // [M, H]
  const placed = takeRows(feats, vision.featureIndex.reshape([b, s])); // [B, S, H]
  return np.where(vision.isVision.reshape([b, s, 1]), placed, emb);
}

/** `embedInputs` through one-hot matmuls (the reference form; slow under `valueAndGrad`, see `GatherMode`). */
function embedOneHot(
  embed: JaxArray,
  visionParams: GlmvParams["vision"],
  tokens: JaxArray,
  vision: ModelInputs["vision"],
  cfg: GlmvConfig,
  record: Recorder | undefined,
): JaxArray {
  const [b, s] = tokens.shape as [number, number];
  let emb = gatherRows(embed, tokens.reshape([b * s]), "onehot"); // [B·S, H]
  if (vision) {
    const rec: Recorder | undefined = record ? (n, x) => record(`vision.${n}`, x) : undefined;
    const feats = runVision(visionParams, vision.pixels, vision.aux, cfg.vision, rec); // [M, H]
    const placed = gatherRows(feats, vision.featureIndex, "onehot"); // [B·S, H]
    emb = np.where(vision.isVision, placed, emb);
  } else {
    tree.dispose(visionParams);
  }
  return emb.reshape([b, s, cfg.text.hiddenSize]);
}

/**
 * Forward to logits [B, S, V]. Consumes `params` and `inputs` (pass `tree.ref(...)` to keep them).
 * `record` receives owned refs of the intermediates named as the fixtures (`vision.block0`, `text.layer1` …).
 */
export function forwardLogits(
  params: GlmvParams,
  inputs: ModelInputs,
  cfg: GlmvConfig,
  opts: ForwardOptions = {},
): JaxArray {
  return runForward(params, inputs, cfg, opts, false).logits;
}

/**
 * `forwardLogits` that also returns every MoE layer's routing (glm4v_moe; empty for a dense model), for expert
 * load statistics and the balance loss. Consumes `params` and `inputs`; the caller owns the results.
 */
export function forwardLogitsAndRouting(
  params: GlmvParams,
  inputs: ModelInputs,
  cfg: GlmvConfig,
  opts: ForwardOptions = {},
): { logits: JaxArray; routing: Routing[] } {
  const { logits, routing } = runForward(params, inputs, cfg, opts, true);
  return { logits, routing: routing ?? [] };
}

function runForward(
  params: GlmvParams,
  inputs: ModelInputs,
  cfg: GlmvConfig,
  opts: ForwardOptions,
  collectRouting: boolean,
): { logits: JaxArray; routing?: Routing[] | undefined } {
  const { record } = opts;
  const x = embedInputs(params.text.embed, params.vision, inputs.tokens, inputs.vision, cfg, opts);
  record?.("text.inputs_embeds", x.ref);
  const rec: Recorder | undefined = record ? (n, a) => record(`text.${n}`, a) : undefined;
  const { hidden, routing } = runDecoder(
    { layers: params.text.layers, norm: params.text.norm },
    x,
    inputs.rope,
    cfg.text,
    { mask: inputs.mask, collectRouting, ...(rec ? { record: rec } : {}) },
  );
  return { logits: linear(hidden, params.text.lmHead), routing };
}

/** A training batch: inputs, next-token targets, and per-token loss weights (mask / count). */
export type TrainBatch = {
  inputs: ModelInputs;
  targets: JaxArray; // int32 [B, S]
  weights: JaxArray; // float [B, S]
};

/**
 * Host-side next-token targets: target[b][s] = tokens[b][s+1]; weight = lossMask[b][s+1] / Σ lossMask
 * (shifted), 0 at the last position.
 * @example nextTokenTargets([[1, 2, 3]], [[0, 1, 1]]) // targets [[2,3,0]], weights [[0.5,0.5,0]]
 */
export function nextTokenTargets(
  tokens: readonly (readonly number[])[],
  lossMask: readonly (readonly number[])[],
): { targets: Int32Array; weights: Float32Array; count: number } {
  const b = tokens.length;
  const s = tokens[0]?.length ?? 0;
  const targets = new Int32Array(b * s);
  const weights = new Float32Array(b * s);
  let count = 0;
  for (let r = 0; r < b; r++)
    for (let i = 0; i + 1 < s; i++) {
      targets[r * s + i] = tokens[r]![i + 1]!;
      const w = lossMask[r]![i + 1] ?? 0;
      weights[r * s + i] = w;
      count += w;
    }
  if (count > 0) for (let i = 0; i < weights.length; i++) weights[i]! /= count;
  return { targets, weights, count };
}

/**
 * Build a `TrainBatch` from a host batch and a loss mask (1 on tokens to learn, e.g. the response).
 * @example const batch = buildTrainBatch(cfg, { tokens }, lossMask);
 */
export function buildTrainBatch(cfg: GlmvConfig, host: HostBatch, lossMask: number[][]): TrainBatch {
  const { inputs } = buildInputs(cfg, host);
  const b = host.tokens.length;
  const s = host.tokens[0]?.length ?? 0;
  const { targets, weights } = nextTokenTargets(host.tokens, lossMask);
  return {
    inputs,
    targets: np.array(targets, { shape: [b, s], dtype: np.int32 }),
    weights: np.array(weights, { shape: [b, s] }),
  };
}

/**
 * Masked next-token cross-entropy (mean over weighted tokens). Consumes `params` and `batch`.
 */
export function modelLoss(
  params: GlmvParams,
  batch: TrainBatch,
  cfg: GlmvConfig,
  gather: GatherMode = "take",
): JaxArray {
  const logits = forwardLogits(params, batch.inputs, cfg, { gather });
  return crossEntropy(logits, batch.targets, batch.weights);
}

/** Optimiser state for the whole model. */
export type ModelOptState = AdamWState<GlmvParams>;

/**
 * A jitted loss evaluation (no gradients). Consumes its arguments.
 * @example const lossOf = createLossFn(cfg); const l = lossOf(tree.ref(params), tree.ref(batch));
 */
export function createLossFn(cfg: GlmvConfig) {
  return jit((params: GlmvParams, batch: TrainBatch) => modelLoss(params, batch, cfg, "take"));
}

/**
 * A jitted forward pass to logits [B, S, V]. Consumes its arguments.
 * @example const fwd = createForward(cfg); const logits = fwd(tree.ref(params), inputs);
 */
export function createForward(cfg: GlmvConfig) {
  return jit((params: GlmvParams, inputs: ModelInputs) => forwardLogits(params, inputs, cfg));
}
