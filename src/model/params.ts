/**
 * The GLM-V parameter tree (plain `type` trees of jax-js arrays, HF tensor layouts so the checkpoint mapping is
 * a rename), seeded initialisation, and conversion to/from named HF tensors (model-spec §1.3).
 */
import { type Array as JaxArray, numpy as np } from "@jax-js/jax";
import { GlmvError } from "../util/errors.ts";
import { fnv1a32, mulberry32 } from "../util/rng.ts";
import type { GlmvConfig } from "./config.ts";
import { expectedTensors } from "./config-tensors.ts";

/** One ViT block (pre-norm, SwiGLU of width outHiddenSize). Weights are torch layout [out, in]. */
export type VisionBlockParams = {
  norm1: JaxArray;
  norm2: JaxArray;
  qkv: JaxArray; // [3D, D]
  proj: JaxArray; // [D, D]
  gate: JaxArray; // [O, D]
  up: JaxArray; // [O, D]
  down: JaxArray; // [D, O]
};

/** The vision tower. */
export type VisionParams = {
  patchEmbedWeight: JaxArray; // [D, C, T, P, P]
  patchEmbedBias: JaxArray; // [D]
  postConvNorm: JaxArray; // [D]
  posEmbed: JaxArray; // [side², D]
  blocks: VisionBlockParams[];
  postNorm: JaxArray; // [D]
  downsampleWeight: JaxArray; // [O, D, m, m]
  downsampleBias: JaxArray; // [O]
  mergerProj: JaxArray; // [O, O]
  mergerNormWeight: JaxArray; // [O]
  mergerNormBias: JaxArray; // [O]
  mergerGate: JaxArray; // [I, O]
  mergerUp: JaxArray; // [I, O]
  mergerDown: JaxArray; // [O, I]
};

/** One GLM-4 decoder layer with four RMSNorms. */
export type DecoderLayerParams = {
  inputNorm: JaxArray;
  postSelfAttnNorm: JaxArray;
  postAttnNorm: JaxArray;
  postMlpNorm: JaxArray;
  qWeight: JaxArray; // [H·D, hidden]
  qBias: JaxArray;
  kWeight: JaxArray; // [K·D, hidden]
  kBias: JaxArray;
  vWeight: JaxArray;
  vBias: JaxArray;
  oWeight: JaxArray; // [hidden, H·D]
  gateUp: JaxArray; // [2I, hidden], gate rows first
  down: JaxArray; // [hidden, I]
};

/** q/k/v/o projections; the q/k/v biases are absent when the config has `attentionBias: false`. */
export type AttentionParams = {
  qWeight: JaxArray; // [H·D, hidden]
  qBias?: JaxArray;
  kWeight: JaxArray; // [K·D, hidden]
  kBias?: JaxArray;
  vWeight: JaxArray;
  vBias?: JaxArray;
  oWeight: JaxArray; // [hidden, H·D]
};

/** A SwiGLU MLP with separate projections: down(silu(gate(x)) ⊙ up(x)). */
export type SwiGluParams = {
  gate: JaxArray; // [I, hidden]
  up: JaxArray; // [I, hidden]
  down: JaxArray; // [hidden, I]
};

/** A glm4v_moe dense layer (index < first_k_dense_replace): two norms, attention, separate gate/up MLP. */
export type MoeDenseLayerParams = AttentionParams &
  SwiGluParams & {
    inputNorm: JaxArray;
    postAttnNorm: JaxArray;
  };

/** A glm4v_moe MoE layer: two norms, attention, sigmoid router with selection bias, routed + shared experts. */
export type MoeLayerParams = AttentionParams & {
  inputNorm: JaxArray;
  postAttnNorm: JaxArray;
  router: JaxArray; // [E, hidden] (`mlp.gate.weight`)
  correctionBias: JaxArray; // [E] fp32 buffer, never trained by gradients (`e_score_correction_bias`)
  experts: SwiGluParams[];
  shared?: SwiGluParams; // width moe.intermediateSize × numShared
};

/** Any text decoder layer: GLM-4.1V's four-norm layer or a glm4v_moe dense/MoE layer (chosen by config). */
export type TextLayerParams = DecoderLayerParams | MoeDenseLayerParams | MoeLayerParams;

/** The text decoder. */
export type TextParams = {
  embed: JaxArray; // [V, hidden]
  layers: TextLayerParams[];
  norm: JaxArray;
  lmHead: JaxArray; // [V, hidden]
};

/** All parameters. */
export type GlmvParams = { vision: VisionParams; text: TextParams };

/** A named host tensor (float32). */
export type NamedTensor = { shape: number[]; data: Float32Array };

type Path = readonly (string | number)[];

const VISION_BLOCK: Record<string, keyof VisionBlockParams> = {
  "norm1.weight": "norm1",
  "norm2.weight": "norm2",
  "attn.qkv.weight": "qkv",
  "attn.proj.weight": "proj",
  "mlp.gate_proj.weight": "gate",
  "mlp.up_proj.weight": "up",
  "mlp.down_proj.weight": "down",
};
const VISION_TOP: Record<string, keyof VisionParams> = {
  "patch_embed.proj.weight": "patchEmbedWeight",
  "patch_embed.proj.bias": "patchEmbedBias",
  "post_conv_layernorm.weight": "postConvNorm",
  "embeddings.position_embedding.weight": "posEmbed",
  "post_layernorm.weight": "postNorm",
  "downsample.weight": "downsampleWeight",
  "downsample.bias": "downsampleBias",
  "merger.proj.weight": "mergerProj",
  "merger.post_projection_norm.weight": "mergerNormWeight",
  "merger.post_projection_norm.bias": "mergerNormBias",
  "merger.gate_proj.weight": "mergerGate",
  "merger.up_proj.weight": "mergerUp",
  "merger.down_proj.weight": "mergerDown",
};
/** Layer-level leaves of both layouts (4.1V and glm4v_moe share the norm/attention/down names). */
const DECODER_LAYER: Record<string, string> = {
  "input_layernorm.weight": "inputNorm",
  "post_self_attn_layernorm.weight": "postSelfAttnNorm",
  "post_attention_layernorm.weight": "postAttnNorm",
  "post_mlp_layernorm.weight": "postMlpNorm",
  "self_attn.q_proj.weight": "qWeight",
  "self_attn.q_proj.bias": "qBias",
  "self_attn.k_proj.weight": "kWeight",
  "self_attn.k_proj.bias": "kBias",
  "self_attn.v_proj.weight": "vWeight",
  "self_attn.v_proj.bias": "vBias",
  "self_attn.o_proj.weight": "oWeight",
  "mlp.gate_up_proj.weight": "gateUp",
  "mlp.down_proj.weight": "down",
  "mlp.gate_proj.weight": "gate",
  "mlp.up_proj.weight": "up",
  "mlp.gate.weight": "router",
  "mlp.gate.e_score_correction_bias": "correctionBias",
};
const SWIGLU: Record<string, keyof SwiGluParams> = {
  "gate_proj.weight": "gate",
  "up_proj.weight": "up",
  "down_proj.weight": "down",
};

/** Tree path inside one decoder layer for a key suffix (`self_attn.q_proj.weight`, `mlp.experts.3.up_proj.weight`). */
function layerPath(suffix: string): Path | undefined {
  const leaf = DECODER_LAYER[suffix];
  if (leaf) return [leaf];
  const expert = /^mlp\.experts\.(\d+)\.(.+)$/.exec(suffix);
  if (expert) {
    const l = SWIGLU[expert[2]!];
    return l ? ["experts", Number(expert[1]), l] : undefined;
  }
  const shared = /^mlp\.shared_experts\.(.+)$/.exec(suffix);
  if (shared) {
    const l = SWIGLU[shared[1]!];
    return l ? ["shared", l] : undefined;
  }
  return undefined;
}

/**
 * Tree path of a canonical HF key (`model.visual.*`, `model.language_model.*`, `lm_head.weight`).
 * Older prefixes (`visual.*`, `model.layers.*`, `model.embed_tokens.*`) are accepted too (map by suffix).
 */
export function pathOfKey(key: string): Path | undefined {
  let k = key;
  const vis = k.indexOf("visual.");
  if (vis >= 0) {
    k = k.slice(vis + "visual.".length);
    const m = /^blocks\.(\d+)\.(.+)$/.exec(k);
    if (m) {
      const leaf = VISION_BLOCK[m[2]!];
      return leaf ? ["vision", "blocks", Number(m[1]), leaf] : undefined;
    }
    const leaf = VISION_TOP[k];
    return leaf ? ["vision", leaf] : undefined;
  }
  if (k === "lm_head.weight") return ["text", "lmHead"];
  k = k
    .replace(/^model\.language_model\./, "")
    .replace(/^language_model\./, "")
    .replace(/^model\./, "");
  if (k === "embed_tokens.weight") return ["text", "embed"];
  if (k === "norm.weight") return ["text", "norm"];
  const m = /^layers\.(\d+)\.(.+)$/.exec(k);
  if (m) {
    const sub = layerPath(m[2]!);
    return sub ? ["text", "layers", Number(m[1]), ...sub] : undefined;
  }
  return undefined;
}

function getAt(root: unknown, path: Path): JaxArray {
  let node = root as Record<string | number, unknown>;
  for (const p of path) node = node[p] as Record<string | number, unknown>;
  return node as unknown as JaxArray;
}

function setAt(root: Record<string, unknown>, path: Path, value: unknown): void {
  let node = root as Record<string | number, unknown>;
  path.slice(0, -1).forEach((p, i) => {
    if (node[p] === undefined) node[p] = typeof path[i + 1] === "number" ? [] : {};
    node = node[p] as Record<string | number, unknown>;
  });
  node[path[path.length - 1]!] = value;
}

/** Config-free view of the depth/layer counts of a tree, for key listing. */
function keysOf(params: GlmvParams): string[] {
  const keys: string[] = [];
  for (const k of Object.keys(VISION_TOP)) keys.push(`model.visual.${k}`);
  params.vision.blocks.forEach((_, i) => {
    for (const k of Object.keys(VISION_BLOCK)) keys.push(`model.visual.blocks.${i}.${k}`);
  });
  keys.push("model.language_model.embed_tokens.weight", "model.language_model.norm.weight", "lm_head.weight");
  params.text.layers.forEach((layer, i) => {
    const l = `model.language_model.layers.${i}.`;
    // both layouts share this tree; list only the leaves this layer has
    for (const [k, leaf] of Object.entries(DECODER_LAYER)) if (leaf in layer) keys.push(`${l}${k}`);
    if ("experts" in layer) {
      layer.experts.forEach((_, e) => {
        for (const k of Object.keys(SWIGLU)) keys.push(`${l}mlp.experts.${e}.${k}`);
      });
      if (layer.shared) for (const k of Object.keys(SWIGLU)) keys.push(`${l}mlp.shared_experts.${k}`);
    }
  });
  return keys;
}

/**
 * Copy every parameter to the host under its HF key. Borrows `params` (does not consume it).
 * @example const named = paramsToNamed(params); named.get("lm_head.weight")!.shape // [V, hidden]
 */
export function paramsToNamed(params: GlmvParams): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const key of keysOf(params)) {
    const arr = getAt(params, pathOfKey(key)!);
    const data = arr.ref.dataSync();
    out.set(key, {
      shape: [...arr.shape],
      data: data instanceof Float32Array ? data : Float32Array.from(data),
    });
  }
  return out;
}

/**
 * Build the parameter tree from named HF tensors (any of the known key prefixes). Every tensor of
 * `expectedTensors(cfg)` must be present with the exact shape; unknown keys are ignored.
 * @throws GlmvError("checkpoint_mismatch") on a missing tensor or a wrong shape
 */
export function paramsFromNamed(
  named: ReadonlyMap<string, { shape: number[]; data: ArrayLike<number> }>,
  cfg: GlmvConfig,
): GlmvParams {
  const byPath = new Map<string, { shape: number[]; data: ArrayLike<number> }>();
  for (const [key, t] of named) {
    const p = pathOfKey(key);
    if (p) byPath.set(p.join("/"), t);
  }
  const root: Record<string, unknown> = {};
  const built: JaxArray[] = [];
  try {
    for (const spec of expectedTensors(cfg)) {
      const path = pathOfKey(spec.key)!;
      const t = byPath.get(path.join("/"));
      if (!t) throw new GlmvError("checkpoint_mismatch", "missing tensor", { where: spec.key });
      if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i]))
        throw new GlmvError("checkpoint_mismatch", `shape [${t.shape}] ≠ expected [${spec.shape}]`, {
          where: spec.key,
        });
      const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
      const arr = np.array(data, { shape: spec.shape });
      built.push(arr);
      setAt(root, path, arr);
    }
  } catch (e) {
    for (const a of built) a.dispose();
    throw e;
  }
  return root as GlmvParams;
}

/** Normal samples (Box–Muller) from a seeded stream. */
function normals(n: number, seed: number, std: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * The learned absolute position table of the vision tower starts at unit scale (torch's `nn.Embedding` default)
 * rather than at `std`: it is added to the post-conv RMSNorm output (unit RMS), and at 0.02 a model trained from
 * scratch never learnt where a patch is (a "which quadrant is red?" probe stayed at chance for 60 SFT steps;
 * at unit scale it was solved in 40).
 */
const POSITION_TABLE_STD = 1;

/**
 * Seeded initial parameters on the host, keyed like the checkpoint: matrices ~ N(0, std²) (HF's
 * initializer_range, 0.02 by default), the vision position table ~ N(0, 1), norm weights 1, biases 0. Each
 * tensor's stream depends only on (seed, key), so adding layers does not change the others.
 */
export function initNamed(cfg: GlmvConfig, seed = 0, std = 0.02): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const { key, shape } of expectedTensors(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const isNorm = /norm[^.]*\.weight$|layernorm\.weight$/.test(key);
    // the router's selection bias starts at 0, as in HF for a fresh model
    const isBias = key.endsWith(".bias") || key.endsWith("e_score_correction_bias");
    const data = isNorm
      ? new Float32Array(n).fill(1)
      : isBias
        ? new Float32Array(n)
        : normals(
            n,
            fnv1a32(key, seed),
            key.endsWith("position_embedding.weight") ? POSITION_TABLE_STD : std,
          );
    out.set(key, { shape, data });
  }
  return out;
}

/**
 * Seeded initial parameter tree (see `initNamed`).
 * @example const params = initParams(presetConfig("tiny"), 42);
 */
export function initParams(cfg: GlmvConfig, seed = 0, std = 0.02): GlmvParams {
  return paramsFromNamed(initNamed(cfg, seed, std), cfg);
}
