/**
 * Reading and writing the Hugging Face `config.json` of a GLM-V model: a zod schema that accepts both the v5-style
 * `rope_parameters` and the older `rope_theta` / `partial_rotary_factor` / `rope_scaling.mrope_section` fields and
 * normalises them into a `GlmvConfig` (config.ts), and the inverse that writes one back.
 */
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import { checkConfig, formatIssues, type GlmvConfig } from "./config.ts";
import { moeHfFields, moeTextFields } from "./config-moe.ts";

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
