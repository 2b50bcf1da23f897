/**
 * GLM-V model configuration: the zod schema of the normalised camelCase `GlmvConfig` that all model code takes,
 * its derived sizes (head and rotary dims, which layers are MoE), validation, and presets (the data lives in
 * presets.ts, re-exported here). Reading and writing the HF `config.json` is config-hf.ts; the checkpoint key list
 * and parameter counts are config-tensors.ts (model-spec §1.3).
 */
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import { MoeConfig } from "./config-moe.ts";
import { PRESETS, type PresetName } from "./presets.ts";

export { MoeConfig } from "./config-moe.ts";

const VisionConfig = z.object({
  depth: z.number().int().positive(),
  hiddenSize: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  patchSize: z.number().int().positive(),
  temporalPatchSize: z.number().int().positive(),
  spatialMergeSize: z.number().int().positive(),
  inChannels: z.number().int().positive(),
  /** = text hidden size; also the width of the ViT blocks' MLP (model-spec §2.5, pitfall 1). */
  outHiddenSize: z.number().int().positive(),
  /** Used ONLY by the patch merger's SwiGLU (13696 in the real model). */
  intermediateSize: z.number().int().positive(),
  /** The absolute position table is (imageSize/patchSize)² rows. */
  imageSize: z.number().int().positive(),
  rmsNormEps: z.number().positive(),
});

const TextConfig = z.object({
  vocabSize: z.number().int().positive(),
  hiddenSize: z.number().int().positive(),
  numLayers: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  numKvHeads: z.number().int().positive(),
  intermediateSize: z.number().int().positive(),
  rmsNormEps: z.number().positive(),
  ropeTheta: z.number().positive(),
  partialRotaryFactor: z.number().positive().max(1),
  /** Frequency slots given to the (t, h, w) position components; sums to rotaryDim/2. */
  mropeSection: z.tuple([
    z.number().int().nonnegative(),
    z.number().int().nonnegative(),
    z.number().int().nonnegative(),
  ]),
  maxPositionEmbeddings: z.number().int().positive(),
  /** Explicit head dim (GLM-4.5V: 128 with 96 heads, so ≠ hidden/heads); absent = hiddenSize/numHeads. */
  headDim: z.number().int().positive().optional(),
  /** q/k/v projections carry a bias (o_proj never does); absent = true. */
  attentionBias: z.boolean().optional(),
  /**
   * Pairing of the partial text RoPE: 4.1V rotates interleaved pairs (2k, 2k+1); 4.5V (glm4v_moe) rotates NeoX
   * half-split pairs (j, j + rot/2). Absent = "interleaved". (model-spec-glm45v §1.3.2)
   */
  ropeLayout: z.enum(["interleaved", "neox"]).optional(),
  /** Present ⇒ the glm4v_moe decoder: 2 norms per layer, separate gate/up, MoE layers from `firstDenseLayers`. */
  moe: MoeConfig.optional(),
});

const TokenIds = z.object({
  imageTokenId: z.number().int().nonnegative(),
  videoTokenId: z.number().int().nonnegative(),
  imageStartTokenId: z.number().int().nonnegative(),
  imageEndTokenId: z.number().int().nonnegative(),
  videoStartTokenId: z.number().int().nonnegative(),
  videoEndTokenId: z.number().int().nonnegative(),
});

/** The normalised model config that all model code takes. */
export const GlmvConfigSchema = z
  .object({ vision: VisionConfig, text: TextConfig, tokens: TokenIds })
  .superRefine((c, ctx) => {
    const hd = textHeadDim(c.text);
    const rot = textRotaryDim(c.text);
    const issue = (message: string) => ctx.addIssue({ code: "custom", message });
    if (!Number.isInteger(hd)) issue("text hiddenSize must be divisible by numHeads");
    const moe = c.text.moe;
    if (moe && moe.topK > moe.numExperts) issue("moe.topK must not exceed moe.numExperts");
    if (moe && moe.firstDenseLayers > c.text.numLayers) issue("moe.firstDenseLayers exceeds numLayers");
    if (c.text.numHeads % c.text.numKvHeads !== 0) issue("numHeads must be a multiple of numKvHeads");
    if (rot % 2 !== 0) issue("rotary dim must be even");
    if (c.text.mropeSection.reduce((a, b) => a + b, 0) !== rot / 2)
      issue("mropeSection must sum to rotaryDim/2");
    if (c.vision.hiddenSize % c.vision.numHeads !== 0)
      issue("vision hiddenSize must be divisible by numHeads");
    if ((c.vision.hiddenSize / c.vision.numHeads) % 4 !== 0) issue("vision head dim must be a multiple of 4");
    if (c.vision.imageSize % c.vision.patchSize !== 0) issue("imageSize must be a multiple of patchSize");
  });
export type GlmvConfig = z.infer<typeof GlmvConfigSchema>;

/** Rotary dimensions per text head (partial rotary: 64 of 128 in the real model). */
export function rotaryDim(hidden: number, heads: number, partial: number): number {
  return Math.floor((hidden / heads) * partial);
}

/** Text attention head dim: the explicit `headDim` (4.5V) or hiddenSize/numHeads (4.1V). */
export function textHeadDim(t: {
  hiddenSize: number;
  numHeads: number;
  headDim?: number | undefined;
}): number {
  return t.headDim ?? t.hiddenSize / t.numHeads;
}

/** Rotary dims per text head: ⌊headDim · partialRotaryFactor⌋. */
export function textRotaryDim(t: {
  hiddenSize: number;
  numHeads: number;
  headDim?: number | undefined;
  partialRotaryFactor: number;
}): number {
  return Math.floor(textHeadDim(t) * t.partialRotaryFactor);
}

/** Whether layer `i` of this config is a MoE layer (glm4v_moe and i ≥ first_k_dense_replace). */
export function isMoeLayer(t: GlmvConfig["text"], i: number): boolean {
  return t.moe !== undefined && i >= t.moe.firstDenseLayers;
}

// ---- validation -------------------------------------------------------------------------------------------------

/**
 * One line for a failed parse: the first issue's field and problem, and how many more there are.
 * @example formatIssues(HfGlmvConfig.safeParse({}).error!.issues) // "text_config is missing (and 1 more)"
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const first = issues[0];
  if (!first) return "invalid";
  const field = first.path.length > 0 ? first.path.map(String).join(".") : "";
  // `input` is there when the schema was run with { reportInput: true }; without it, "missing" cannot be told apart
  const missing = first.code === "invalid_type" && "input" in first && first.input === undefined;
  const what = missing
    ? `${field || "the value"} is missing (${first.expected === "object" ? "an object" : `a ${first.expected}`})`
    : field
      ? `${field}: ${first.message}`
      : first.message;
  return issues.length > 1 ? `${what} (and ${issues.length - 1} more)` : what;
}

/** Validate a normalised config (throws a one-line `GlmvError("bad_config")`, at `source` when given). */
export function checkConfig(cfg: unknown, source?: string): GlmvConfig {
  const r = GlmvConfigSchema.safeParse(cfg);
  if (!r.success)
    throw new GlmvError(
      "bad_config",
      `invalid GlmvConfig: ${formatIssues(r.error.issues)}`,
      source === undefined ? {} : { where: source },
    );
  return r.data;
}

// ---- presets ----------------------------------------------------------------------------------------------------

export { PRESETS, PresetName } from "./presets.ts";

/**
 * A deep copy of a preset, optionally with overrides (e.g. the tokenizer's vocab size).
 * @example const cfg = presetConfig("tiny", { text: { vocabSize: 200 } });
 */
export function presetConfig(
  name: PresetName,
  overrides: {
    vision?: Partial<GlmvConfig["vision"]>;
    text?: Partial<GlmvConfig["text"]>;
    tokens?: Partial<GlmvConfig["tokens"]>;
  } = {},
): GlmvConfig {
  const base = PRESETS[name];
  return checkConfig({
    vision: { ...base.vision, ...overrides.vision },
    text: { ...base.text, ...overrides.text },
    tokens: { ...base.tokens, ...overrides.tokens },
  });
}
