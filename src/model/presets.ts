/**
 * Named model configurations (plain data): the tiny/small CPU presets, their MoE variant, and the full-size
 * GLM-4.1V-9B / GLM-4.5V shapes used for counting and key lists. `presetConfig` in config.ts copies and validates
 * them; config.ts re-exports everything here.
 */
import { z } from "zod";
import type { GlmvConfig } from "./config.ts";

/**
 * Special-token ids of the tiny/small presets: those of glmv's tiny char-level tokenizer
 * (`TINY_TOKEN_IDS` in tiny-tokenizer.ts: 96 characters, then the GLM specials; config.test.ts checks they agree).
 */
const TINY_TOKENS = {
  imageTokenId: 107,
  videoTokenId: 108,
  imageStartTokenId: 103,
  imageEndTokenId: 104,
  videoStartTokenId: 105,
  videoEndTokenId: 106,
};

/** Tiny: trainable on 2 CPU cores in minutes (design.md "What works at tiny scale"); 56×56 images → 4 tokens. */
const TINY: GlmvConfig = {
  vision: {
    depth: 2,
    hiddenSize: 64,
    numHeads: 4,
    patchSize: 14,
    temporalPatchSize: 2,
    spatialMergeSize: 2,
    inChannels: 3,
    outHiddenSize: 128,
    intermediateSize: 256,
    imageSize: 56,
    rmsNormEps: 1e-5,
  },
  text: {
    vocabSize: 256, // ~ a small char-level tokenizer plus GLM special tokens
    hiddenSize: 128,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    intermediateSize: 256,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    partialRotaryFactor: 0.5,
    mropeSection: [2, 3, 3], // 16 rotary dims → 8 frequency slots
    maxPositionEmbeddings: 1024,
  },
  tokens: TINY_TOKENS,
};

/** Small: ≈ 20M parameters (vision 256×4, text 512×4, vocab 4096). */
const SMALL: GlmvConfig = {
  vision: {
    depth: 4,
    hiddenSize: 256,
    numHeads: 4,
    patchSize: 14,
    temporalPatchSize: 2,
    spatialMergeSize: 2,
    inChannels: 3,
    outHiddenSize: 512,
    intermediateSize: 1024,
    imageSize: 112,
    rmsNormEps: 1e-5,
  },
  text: {
    vocabSize: 4096,
    hiddenSize: 512,
    numLayers: 4,
    numHeads: 8,
    numKvHeads: 2,
    intermediateSize: 1536,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    partialRotaryFactor: 0.5,
    mropeSection: [4, 6, 6], // 32 rotary dims → 16 slots, same proportions as 8/12/12
    maxPositionEmbeddings: 4096,
  },
  tokens: TINY_TOKENS,
};

/** GLM-4.1V-9B-Thinking (model-spec §1). Never instantiated on the WASM engine: for counting and key lists. */
const GLM41V_9B: GlmvConfig = {
  vision: {
    depth: 24,
    hiddenSize: 1536,
    numHeads: 12,
    patchSize: 14,
    temporalPatchSize: 2,
    spatialMergeSize: 2,
    inChannels: 3,
    outHiddenSize: 4096,
    intermediateSize: 13696,
    imageSize: 336,
    rmsNormEps: 1e-5,
  },
  text: {
    vocabSize: 151552,
    hiddenSize: 4096,
    numLayers: 40,
    numHeads: 32,
    numKvHeads: 2,
    intermediateSize: 13696,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    partialRotaryFactor: 0.5,
    mropeSection: [8, 12, 12],
    maxPositionEmbeddings: 65536,
  },
  tokens: {
    imageTokenId: 151343,
    videoTokenId: 151344,
    imageStartTokenId: 151339,
    imageEndTokenId: 151340,
    videoStartTokenId: 151341,
    videoEndTokenId: 151342,
  },
};

/**
 * Tiny MoE (glm4v_moe layout): the tiny vision tower; text 128 wide, 3 layers (layer 0 dense, layers 1–2 with
 * 8 experts of width 64, top-2, one shared expert), NeoX RoPE pairing. Trainable in-process on 2 cores.
 */
const TINY_MOE: GlmvConfig = {
  vision: TINY.vision,
  text: {
    ...TINY.text,
    numLayers: 3,
    headDim: 32, // = hidden/heads here; head-dim.test.ts runs a variant where they differ, as in GLM-4.5V
    attentionBias: true,
    ropeLayout: "neox",
    moe: {
      numExperts: 8,
      topK: 2,
      numShared: 1,
      intermediateSize: 64,
      firstDenseLayers: 1,
      routedScalingFactor: 1,
      normTopK: true,
      nGroup: 1,
      topkGroup: 1,
      auxLossCoef: 1e-4,
    },
  },
  tokens: TINY_TOKENS,
};

/**
 * GLM-4.5V (model-spec-glm45v §1): 46 layers (layer 0 dense 10944, then 128 experts × 1408, top-8, 1 shared),
 * 96 q heads / 8 kv heads of explicit dim 128, NeoX RoPE, merger width 10944. For counting and key lists only.
 */
const GLM45V: GlmvConfig = {
  vision: { ...GLM41V_9B.vision, intermediateSize: 10944 },
  text: {
    ...GLM41V_9B.text,
    numLayers: 46,
    numHeads: 96,
    numKvHeads: 8,
    headDim: 128, // 4096/96 is not an integer: the config states it
    intermediateSize: 10944,
    attentionBias: true,
    ropeLayout: "neox",
    moe: {
      numExperts: 128,
      topK: 8,
      numShared: 1,
      intermediateSize: 1408,
      firstDenseLayers: 1,
      routedScalingFactor: 1, // GLM-4.5 (355B) uses 2.5; Air and 4.5V use 1.0
      normTopK: true,
      nGroup: 1,
      topkGroup: 1,
      auxLossCoef: 1e-4,
    },
  },
  tokens: { ...GLM41V_9B.tokens, imageTokenId: 151363, videoTokenId: 151364 },
};

/** Named presets. */
export const PRESETS = {
  tiny: TINY,
  small: SMALL,
  "glm-4.1v-9b": GLM41V_9B,
  "tiny-moe": TINY_MOE,
  "glm-4.5v": GLM45V,
} as const satisfies Record<string, GlmvConfig>;
export const PresetName = z.enum(["tiny", "small", "glm-4.1v-9b", "tiny-moe", "glm-4.5v"]);
export type PresetName = z.infer<typeof PresetName>;
