/**
 * GLM-V model configuration: a zod schema that accepts the Hugging Face `config.json` forms (both the v5-style
 * `rope_parameters` and the older `rope_theta` / `partial_rotary_factor` / `rope_scaling.mrope_section` fields)
 * and normalises them into one camelCase `GlmvConfig`; presets (the data lives in presets.ts, re-exported here);
 * parameter counting; the HF checkpoint key list (model-spec §1.3).
 */
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import { MoeConfig, moeDecoderTensors, moeHfFields, moeTextFields } from "./config-moe.ts";
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

// ---- HF config.json -------------------------------------------------------------------------------------------

const RopeFields = z.object({
  rope_theta: z.number().optional(),
  partial_rotary_factor: z.number().optional(),
  mrope_section: z.array(z.number()).optional(),
});

/** A tensor dimension from config.json: required, because a default would silently describe another model. */
const Dim = z.number().int().positive();

const HfTextConfig = z.looseObject({
  vocab_size: Dim,
  hidden_size: Dim,
  num_hidden_layers: Dim,
  num_attention_heads: Dim,
  num_key_value_heads: Dim,
  intermediate_size: Dim,
  rms_norm_eps: z.number().default(1e-5),
  max_position_embeddings: z.number().default(32768),
  rope_theta: z.number().optional(),
  partial_rotary_factor: z.number().optional(),
  rope_scaling: z.looseObject(RopeFields.shape).nullish(),
  rope_parameters: z.looseObject(RopeFields.shape).nullish(),
  image_token_id: z.number().optional(),
  video_token_id: z.number().optional(),
  // glm4v_moe (GLM-4.5V) fields
  head_dim: z.number().optional(),
  attention_bias: z.boolean().optional(),
  n_routed_experts: z.number().optional(),
  num_local_experts: z.number().optional(),
  num_experts_per_tok: z.number().default(8),
  n_shared_experts: z.number().default(1),
  moe_intermediate_size: z.number().default(1408),
  first_k_dense_replace: z.number().default(1),
  routed_scaling_factor: z.number().default(1),
  norm_topk_prob: z.boolean().default(true),
  n_group: z.number().default(1),
  topk_group: z.number().default(1),
  router_aux_loss_coef: z.number().default(1e-4),
});

const HfVisionConfig = z.looseObject({
  depth: Dim,
  hidden_size: Dim,
  num_heads: Dim,
  patch_size: Dim,
  temporal_patch_size: Dim,
  spatial_merge_size: Dim,
  in_channels: z.number().default(3), // RGB
  out_hidden_size: Dim,
  intermediate_size: Dim,
  image_size: Dim,
  rms_norm_eps: z.number().default(1e-5),
});

const HfGlmvConfig = z.looseObject({
  model_type: z.string().optional(),
  text_config: HfTextConfig,
  vision_config: HfVisionConfig,
  image_token_id: z.number().default(151343),
  video_token_id: z.number().default(151344),
  image_start_token_id: z.number().default(151339),
  image_end_token_id: z.number().default(151340),
  video_start_token_id: z.number().default(151341),
  video_end_token_id: z.number().default(151342),
});

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

/**
 * Parse a Hugging Face `config.json` object (glm4v) into a `GlmvConfig`. The shape keys (sizes, layer and head
 * counts, patch sizes) are required; eps, max positions, token ids and RoPE fields default to GLM-4.1V's. RoPE
 * fields are looked up in `rope_parameters` first, then `rope_scaling`, then the text-config top level.
 * `source` (the file) goes into the error.
 * @example const cfg = parseHfConfig(JSON.parse(readFileSync("config.json", "utf8")), "config.json");
 */
export function parseHfConfig(json: unknown, source?: string): GlmvConfig {
  const where = source === undefined ? {} : { where: source };
  const parsed = HfGlmvConfig.safeParse(json, { reportInput: true });
  if (!parsed.success)
    throw new GlmvError("bad_config", `not a glm4v config: ${formatIssues(parsed.error.issues)}`, where);
  const hf = parsed.data;
  const t = hf.text_config;
  const v = hf.vision_config;
  const rp = t.rope_parameters ?? {};
  const rs = t.rope_scaling ?? {};
  const mrope = rp.mrope_section ?? rs.mrope_section ?? [8, 12, 12];
  if (mrope.length !== 3)
    throw new GlmvError("bad_config", "mrope_section must have 3 entries", {
      where: source ?? "mrope_section",
    });
  const cfg = {
    vision: {
      depth: v.depth,
      hiddenSize: v.hidden_size,
      numHeads: v.num_heads,
      patchSize: v.patch_size,
      temporalPatchSize: v.temporal_patch_size,
      spatialMergeSize: v.spatial_merge_size,
      inChannels: v.in_channels,
      outHiddenSize: v.out_hidden_size,
      intermediateSize: v.intermediate_size,
      imageSize: v.image_size,
      rmsNormEps: v.rms_norm_eps,
    },
    text: {
      vocabSize: t.vocab_size,
      hiddenSize: t.hidden_size,
      numLayers: t.num_hidden_layers,
      numHeads: t.num_attention_heads,
      numKvHeads: t.num_key_value_heads,
      intermediateSize: t.intermediate_size,
      rmsNormEps: t.rms_norm_eps,
      ropeTheta: rp.rope_theta ?? rs.rope_theta ?? t.rope_theta ?? 10000,
      partialRotaryFactor:
        rp.partial_rotary_factor ?? rs.partial_rotary_factor ?? t.partial_rotary_factor ?? 0.5,
      mropeSection: mrope as [number, number, number],
      maxPositionEmbeddings: t.max_position_embeddings,
      ...moeTextFields(hf.model_type, t),
    },
    tokens: {
      imageTokenId: hf.image_token_id,
      videoTokenId: hf.video_token_id,
      imageStartTokenId: hf.image_start_token_id,
      imageEndTokenId: hf.image_end_token_id,
      videoStartTokenId: hf.video_start_token_id,
      videoEndTokenId: hf.video_end_token_id,
    },
  };
  return checkConfig(cfg, source);
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

/** Write a config back in the HF `config.json` form (v5-style `rope_parameters`, plus the old fields). */
export function toHfConfig(cfg: GlmvConfig): Record<string, unknown> {
  const { vision: v, text: t, tokens: k } = cfg;
  const rope = {
    rope_type: "default",
    rope_theta: t.ropeTheta,
    partial_rotary_factor: t.partialRotaryFactor,
    mrope_section: [...t.mropeSection],
  };
  const moe = t.moe;
  return {
    architectures: [moe ? "Glm4vMoeForConditionalGeneration" : "Glm4vForConditionalGeneration"],
    model_type: moe ? "glm4v_moe" : "glm4v",
    tie_word_embeddings: false,
    image_token_id: k.imageTokenId,
    video_token_id: k.videoTokenId,
    image_start_token_id: k.imageStartTokenId,
    image_end_token_id: k.imageEndTokenId,
    video_start_token_id: k.videoStartTokenId,
    video_end_token_id: k.videoEndTokenId,
    text_config: {
      model_type: moe ? "Glm4vMoe_text" : "glm4v_text",
      vocab_size: t.vocabSize,
      hidden_size: t.hiddenSize,
      num_hidden_layers: t.numLayers,
      num_attention_heads: t.numHeads,
      num_key_value_heads: t.numKvHeads,
      intermediate_size: t.intermediateSize,
      rms_norm_eps: t.rmsNormEps,
      max_position_embeddings: t.maxPositionEmbeddings,
      hidden_act: "silu",
      attention_bias: t.attentionBias ?? true,
      ...(t.headDim !== undefined ? { head_dim: t.headDim } : {}),
      ...(moe ? moeHfFields(moe) : {}),
      rope_theta: t.ropeTheta,
      partial_rotary_factor: t.partialRotaryFactor,
      rope_scaling: { rope_type: "default", mrope_section: [...t.mropeSection] },
      rope_parameters: rope,
    },
    vision_config: {
      model_type: moe ? "glm4v_moe" : "glm4v",
      depth: v.depth,
      hidden_size: v.hiddenSize,
      num_heads: v.numHeads,
      patch_size: v.patchSize,
      temporal_patch_size: v.temporalPatchSize,
      spatial_merge_size: v.spatialMergeSize,
      in_channels: v.inChannels,
      out_hidden_size: v.outHiddenSize,
      intermediate_size: v.intermediateSize,
      image_size: v.imageSize,
      rms_norm_eps: v.rmsNormEps,
      hidden_act: "silu",
      attention_bias: false,
    },
  };
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

// ---- checkpoint keys and parameter count -------------------------------------------------------------------------

/** One tensor of the HF checkpoint. */
export type TensorSpec = { key: string; shape: number[] };

/**
 * The HF checkpoint keys and shapes (model-spec §1.3), prefix `model.visual.` / `model.language_model.` /
 * `lm_head.` as saved by transformers ≥ 4.52.
 * @example expectedTensors(PRESETS.tiny).length // 56 for a 2+2-layer model
 */
export function expectedTensors(cfg: GlmvConfig): TensorSpec[] {
  const v = cfg.vision;
  const t = cfg.text;
  const out: TensorSpec[] = [];
  const add = (key: string, shape: number[]) => out.push({ key, shape });
  const V = "model.visual.";
  const D = v.hiddenSize;
  const posRows = (v.imageSize / v.patchSize) ** 2;
  add(`${V}patch_embed.proj.weight`, [D, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize]);
  add(`${V}patch_embed.proj.bias`, [D]);
  add(`${V}post_conv_layernorm.weight`, [D]);
  add(`${V}embeddings.position_embedding.weight`, [posRows, D]);
  for (let i = 0; i < v.depth; i++) {
    const b = `${V}blocks.${i}.`;
    add(`${b}norm1.weight`, [D]);
    add(`${b}norm2.weight`, [D]);
    add(`${b}attn.qkv.weight`, [3 * D, D]);
    add(`${b}attn.proj.weight`, [D, D]);
    add(`${b}mlp.gate_proj.weight`, [v.outHiddenSize, D]);
    add(`${b}mlp.up_proj.weight`, [v.outHiddenSize, D]);
    add(`${b}mlp.down_proj.weight`, [D, v.outHiddenSize]);
  }
  add(`${V}post_layernorm.weight`, [D]);
  const O = v.outHiddenSize;
  add(`${V}downsample.weight`, [O, D, v.spatialMergeSize, v.spatialMergeSize]);
  add(`${V}downsample.bias`, [O]);
  add(`${V}merger.proj.weight`, [O, O]);
  add(`${V}merger.post_projection_norm.weight`, [O]);
  add(`${V}merger.post_projection_norm.bias`, [O]);
  add(`${V}merger.gate_proj.weight`, [v.intermediateSize, O]);
  add(`${V}merger.up_proj.weight`, [v.intermediateSize, O]);
  add(`${V}merger.down_proj.weight`, [O, v.intermediateSize]);

  const L = "model.language_model.";
  const H = t.hiddenSize;
  add(`${L}embed_tokens.weight`, [t.vocabSize, H]);
  if (t.moe) out.push(...moeDecoderTensors(t, t.moe));
  for (let i = 0; i < (t.moe ? 0 : t.numLayers); i++) {
    const q = t.numHeads * textHeadDim(t); // = H unless the config states a head dim
    const kv = t.numKvHeads * textHeadDim(t);
    const l = `${L}layers.${i}.`;
    add(`${l}input_layernorm.weight`, [H]);
    add(`${l}post_self_attn_layernorm.weight`, [H]);
    add(`${l}post_attention_layernorm.weight`, [H]);
    add(`${l}post_mlp_layernorm.weight`, [H]);
    add(`${l}self_attn.q_proj.weight`, [q, H]);
    add(`${l}self_attn.q_proj.bias`, [q]);
    add(`${l}self_attn.k_proj.weight`, [kv, H]);
    add(`${l}self_attn.k_proj.bias`, [kv]);
    add(`${l}self_attn.v_proj.weight`, [kv, H]);
    add(`${l}self_attn.v_proj.bias`, [kv]);
    add(`${l}self_attn.o_proj.weight`, [H, q]);
    add(`${l}mlp.gate_up_proj.weight`, [2 * t.intermediateSize, H]);
    add(`${l}mlp.down_proj.weight`, [H, t.intermediateSize]);
  }
  add(`${L}norm.weight`, [H]);
  add("lm_head.weight", [t.vocabSize, H]);
  return out;
}

/**
 * Parameters one token's forward pass uses in the text decoder, as GLM-4.5V's "12B active" counts them
 * (model-spec-glm45v §5): every attention/norm/dense weight, the router, the top-k routed and all shared experts;
 * not the embedding table, the LM head, the vision tower, or the non-trainable correction-bias buffer. For a
 * dense config this is the decoder without embeddings.
 * @example countActiveParameters(PRESETS["glm-4.5v"]) // 12,182,609,920
 */
export function countActiveParameters(cfg: GlmvConfig): number {
  let n = 0;
  for (const { key, shape } of expectedTensors(cfg)) {
    if (!key.startsWith("model.language_model.layers.") && key !== "model.language_model.norm.weight")
      continue;
    if (key.endsWith("e_score_correction_bias")) continue;
    const m = /\.mlp\.experts\.(\d+)\./.exec(key);
    if (m && Number(m[1]) >= (cfg.text.moe?.topK ?? 0)) continue; // count k of the routed experts
    n += shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

/**
 * Total number of parameters (sum over `expectedTensors`).
 * @example countParameters(PRESETS["glm-4.1v-9b"]) // 10,290,000,000-ish; see config.test.ts for the exact figure
 */
export function countParameters(cfg: GlmvConfig): number {
  let n = 0;
  for (const { shape } of expectedTensors(cfg)) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
