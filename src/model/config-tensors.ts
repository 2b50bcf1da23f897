/**
 * The HF checkpoint of a GLM-V model as data: every tensor key and shape (model-spec §1.3; the glm4v_moe decoder
 * per model-spec-glm45v §1.3), and the parameter counts derived from them.
 */

import { type GlmvConfig, textHeadDim } from "./config.ts";
import type { MoeConfig } from "./config-moe.ts";

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

/** glm4v_moe decoder-layer tensors (model-spec-glm45v §1.3, fixture README "Weight keys"). */
export function moeDecoderTensors(t: GlmvConfig["text"], moe: MoeConfig): TensorSpec[] {
  const out: TensorSpec[] = [];
  const add = (key: string, shape: number[]) => out.push({ key, shape });
  const H = t.hiddenSize;
  const headDim = t.headDim ?? H / t.numHeads;
  const q = t.numHeads * headDim;
  const kv = t.numKvHeads * headDim;
  const bias = t.attentionBias ?? true;
  const swiGlu = (prefix: string, width: number) => {
    add(`${prefix}gate_proj.weight`, [width, H]);
    add(`${prefix}up_proj.weight`, [width, H]);
    add(`${prefix}down_proj.weight`, [H, width]);
  };
  for (let i = 0; i < t.numLayers; i++) {
    const l = `model.language_model.layers.${i}.`;
    add(`${l}input_layernorm.weight`, [H]);
    add(`${l}post_attention_layernorm.weight`, [H]);
    add(`${l}self_attn.q_proj.weight`, [q, H]);
    if (bias) add(`${l}self_attn.q_proj.bias`, [q]);
    add(`${l}self_attn.k_proj.weight`, [kv, H]);
    if (bias) add(`${l}self_attn.k_proj.bias`, [kv]);
    add(`${l}self_attn.v_proj.weight`, [kv, H]);
    if (bias) add(`${l}self_attn.v_proj.bias`, [kv]);
    add(`${l}self_attn.o_proj.weight`, [H, q]);
    if (i < moe.firstDenseLayers) {
      swiGlu(`${l}mlp.`, t.intermediateSize);
      continue;
    }
    add(`${l}mlp.gate.weight`, [moe.numExperts, H]);
    add(`${l}mlp.gate.e_score_correction_bias`, [moe.numExperts]);
    for (let e = 0; e < moe.numExperts; e++) swiGlu(`${l}mlp.experts.${e}.`, moe.intermediateSize);
    if (moe.numShared > 0) swiGlu(`${l}mlp.shared_experts.`, moe.intermediateSize * moe.numShared);
  }
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
