/**
 * The glm4v_moe (GLM-4.5V) parts of the model config (model-spec-glm45v §1): the MoE block schema, and reading and
 * writing the HF text-config fields. config.ts joins them into `GlmvConfig`, config-hf.ts into `parseHfConfig` and
 * `toHfConfig`; the 4.5V decoder checkpoint keys are `moeDecoderTensors` in config-tensors.ts.
 */
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import type { GlmvConfig } from "./config.ts";

/** The 4.5V mixture-of-experts block (model-spec-glm45v §1.1, §2). */
export const MoeConfig = z.object({
  numExperts: z.number().int().positive(),
  /** Routed experts per token (top-k). */
  topK: z.number().int().positive(),
  numShared: z.number().int().nonnegative(),
  /** Width of one routed expert; the shared MLP is `numShared ×` this. */
  intermediateSize: z.number().int().positive(),
  /** Layers with index < this are dense SwiGLU of `text.intermediateSize` (`first_k_dense_replace`). */
  firstDenseLayers: z.number().int().nonnegative(),
  routedScalingFactor: z.number().positive(),
  normTopK: z.boolean(),
  /** Group-limited routing; only the no-op 1/1 is implemented (what GLM-4.5V uses). */
  nGroup: z.literal(1),
  topkGroup: z.literal(1),
  /** HF's `router_aux_loss_coef` (1e-4); the sequence-level balance loss weight (moe-balance.ts). */
  auxLossCoef: z.number().nonnegative(),
});
export type MoeConfig = z.infer<typeof MoeConfig>;

/** The HF text-config fields `moeTextFields` reads (defaults are GLM-4.5V's). */
export type HfMoeTextFields = {
  head_dim?: number | undefined;
  attention_bias?: boolean | undefined;
  n_routed_experts?: number | undefined;
  num_local_experts?: number | undefined;
  num_experts_per_tok: number;
  n_shared_experts: number;
  moe_intermediate_size: number;
  first_k_dense_replace: number;
  routed_scaling_factor: number;
  norm_topk_prob: boolean;
  n_group: number;
  topk_group: number;
  router_aux_loss_coef: number;
};

/**
 * The glm4v_moe-only text fields (explicit head dim, attention bias, NeoX RoPE pairing, the MoE block), or none
 * for a glm4v config. A config is MoE when `model_type` is `glm4v_moe` or the text config names routed experts.
 */
export function moeTextFields(
  modelType: string | undefined,
  t: HfMoeTextFields,
): Partial<GlmvConfig["text"]> {
  const experts = t.n_routed_experts ?? t.num_local_experts;
  if (modelType !== "glm4v_moe" && experts === undefined) return {};
  if (experts === undefined)
    throw new GlmvError("bad_config", "glm4v_moe config without n_routed_experts", { where: "text_config" });
  return {
    ...(t.head_dim !== undefined ? { headDim: t.head_dim } : {}),
    attentionBias: t.attention_bias ?? true,
    ropeLayout: "neox",
    moe: {
      numExperts: experts,
      topK: t.num_experts_per_tok,
      numShared: t.n_shared_experts,
      intermediateSize: t.moe_intermediate_size,
      firstDenseLayers: t.first_k_dense_replace,
      routedScalingFactor: t.routed_scaling_factor,
      normTopK: t.norm_topk_prob,
      nGroup: t.n_group as 1,
      topkGroup: t.topk_group as 1,
      auxLossCoef: t.router_aux_loss_coef,
    },
  };
}

/** The MoE block in HF text-config form (inverse of `moeTextFields`). */
export function moeHfFields(moe: MoeConfig): Record<string, unknown> {
  return {
    n_routed_experts: moe.numExperts,
    num_experts_per_tok: moe.topK,
    n_shared_experts: moe.numShared,
    moe_intermediate_size: moe.intermediateSize,
    first_k_dense_replace: moe.firstDenseLayers,
    routed_scaling_factor: moe.routedScalingFactor,
    norm_topk_prob: moe.normTopK,
    n_group: moe.nGroup,
    topk_group: moe.topkGroup,
    router_aux_loss_coef: moe.auxLossCoef,
  };
}
