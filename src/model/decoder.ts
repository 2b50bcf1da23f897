/**
 * The GLM-4 text decoder (model-spec §3): sandwich-norm layers (four RMSNorms), GQA attention with q/k/v bias
 * and interleaved partial 3-D M-RoPE, fused gate_up SwiGLU MLP, final RMSNorm.
 * With `cfg.moe` (glm4v_moe, GLM-4.5V; model-spec-glm45v §1.3) the layers are plain pre-norm (two RMSNorms),
 * the MLP has separate gate/up projections, layers ≥ `firstDenseLayers` are MoE blocks (moe.ts), the head dim
 * may be explicit, and the partial RoPE pairs dims NeoX-style (j, j + rot/2).
 *
 * Attention takes an optional static-shape KV cache: arrays [B, Tmax, K, hd] per layer, written through a
 * one-hot placement matrix, so prefill and every decode step keep fixed shapes (one jit compile each).
 */
import { type Array as JaxArray, numpy as np, tree } from "@jax-js/jax";
import { attentionProjected, linear, rmsNorm, ropeInterleaved, silu, swiGlu } from "../tensor/ops.ts";
import { GlmvError } from "../util/errors.ts";
import { type GlmvConfig, textHeadDim, textRotaryDim } from "./config.ts";
import { disposeRouting, type Routing, runMoeBlock } from "./moe.ts";
import type {
  AttentionParams,
  DecoderLayerParams,
  MoeDenseLayerParams,
  MoeLayerParams,
  TextLayerParams,
} from "./params.ts";
import type { Recorder } from "./vision.ts";

/** Rotary arrays for the text decoder (built on the host by `textRopeTable`). */
export type TextRope = {
  cos: JaxArray; // [B, S, 1, hd]  (cos 1 on pass-through dims)
  sin: JaxArray; // [B, S, 1, hd]  (sin 0 on pass-through dims)
  rotate: JaxArray; // [hd, hd] interleaved-pair rotation (consumed; the decoder applies it as a pair flip)
};

/** One layer's KV cache, preallocated at the maximum length. */
export type LayerCache = { k: JaxArray; v: JaxArray }; // each [B, Tmax, K, hd]

/**
 * Where the S new tokens go in the cache: keep [Tmax, 1, 1] (1 = old entry stays), place one-hot [Tmax, S]
 * or [1, 1, Tmax, S] (both accepted).
 */
export type CacheWrite = { keep: JaxArray; place: JaxArray };

/** Decoder parameters without the embedding and the LM head (those live in model.ts). */
export type DecoderParams = { layers: TextLayerParams[]; norm: JaxArray };

/**
 * Options for `runDecoder`. `mask` is bool [B, 1, S, T] (T = S without a cache, Tmax with one).
 * `collectRouting` returns each MoE layer's routing (for balance statistics and the auxiliary loss).
 */
export type DecoderOptions = {
  mask: JaxArray;
  cache?: LayerCache[];
  write?: CacheWrite;
  record?: Recorder;
  collectRouting?: boolean;
};

/** Write new keys/values [B, S, K, hd] into a cache [B, Tmax, K, hd]. */
function writeCache(old: JaxArray, fresh: JaxArray, write: CacheWrite): JaxArray {
  // jax-js 0.1.25's matmul of a 2-D matrix with a 4-D batch puts the matrix's row axis first, so give the
  // placement matrix explicit unit batch axes
  const [tmax, s] = write.place.shape.slice(-2) as [number, number];
  const place = write.place.reshape([1, 1, tmax, s]);
  const placed = np.matmul(place, fresh.transpose([0, 2, 1, 3])).transpose([0, 2, 1, 3]); // [B, Tmax, K, hd]
  return old.mul(write.keep).add(placed);
}

/**
 * Reorder the rotary dims of q/k [B, S, H, hd] from NeoX half-split pairs (j, j + rot/2) to interleaved pairs
 * (2j, 2j+1), so the interleaved rope tables every caller builds rotate the right pairs. q and k get the same
 * permutation, so q·k (all attention needs) is unchanged by it; v is never permuted.
 */
export function neoxToInterleaved(x: JaxArray, rot: number): JaxArray {
  const [b, s, h, hd] = x.shape as [number, number, number, number];
  if (rot === hd)
    return x
      .reshape([b, s, h, 2, rot / 2])
      .transpose([0, 1, 2, 4, 3])
      .reshape([b, s, h, hd]);
  const [r, pass] = np.split(x, [rot], -1) as [JaxArray, JaxArray];
  const paired = r
    .reshape([b, s, h, 2, rot / 2])
    .transpose([0, 1, 2, 4, 3])
    .reshape([b, s, h, rot]);
  return np.concatenate([paired, pass], -1);
}

/** Self-attention of one layer. Returns the output [B, S, hidden] and, with a cache, the updated cache. */
export function runSelfAttention(
  p: AttentionParams,
  x: JaxArray,
  rope: TextRope,
  mask: JaxArray,
  cfg: GlmvConfig["text"],
  cache?: { layer: LayerCache; write: CacheWrite },
): { out: JaxArray; cache?: LayerCache } {
  const [b, s] = x.shape as [number, number, number];
  const heads = cfg.numHeads;
  const kvHeads = cfg.numKvHeads;
  const hd = textHeadDim(cfg);
  let q = linear(x.ref, p.qWeight, p.qBias).reshape([b, s, heads, hd]);
  let k = linear(x.ref, p.kWeight, p.kBias).reshape([b, s, kvHeads, hd]);
  let v = linear(x, p.vWeight, p.vBias).reshape([b, s, kvHeads, hd]);
  if (cfg.ropeLayout === "neox") {
    q = neoxToInterleaved(q, textRotaryDim(cfg));
    k = neoxToInterleaved(k, textRotaryDim(cfg));
  }
  // the pair rotation as a flip of each pair (the [hd, hd] matrix in `rope.rotate` equals it; see ropeInterleaved)
  const qr = ropeInterleaved(q, rope.cos.ref, rope.sin.ref);
  k = ropeInterleaved(k, rope.cos, rope.sin);
  rope.rotate.dispose();
  let next: LayerCache | undefined;
  if (cache) {
    k = writeCache(cache.layer.k, k, { keep: cache.write.keep.ref, place: cache.write.place.ref });
    v = writeCache(cache.layer.v, v, cache.write);
    next = { k: k.ref, v: v.ref };
  }
  const out = attentionProjected(qr, k, v, mask, p.oWeight);
  return next ? { out, cache: next } : { out };
}

/** The MLP: down(up ⊙ silu(gate)) with the fused [gate | up] weight. */
export function runDecoderMlp(gateUp: JaxArray, down: JaxArray, x: JaxArray): JaxArray {
  const inter = gateUp.shape[0]! / 2;
  const [gate, up] = np.split(linear(x, gateUp), [inter], -1) as [JaxArray, JaxArray];
  return linear(silu(gate).mul(up), down);
}

/** One GLM-4 layer (model-spec §3.1). */
export function runDecoderLayer(
  p: DecoderLayerParams,
  x: JaxArray,
  rope: TextRope,
  mask: JaxArray,
  cfg: GlmvConfig["text"],
  cache?: { layer: LayerCache; write: CacheWrite },
): { out: JaxArray; cache?: LayerCache } {
  const eps = cfg.rmsNormEps;
  const h = rmsNorm(x.ref, p.inputNorm, eps);
  const att = runSelfAttention(p, h, rope, mask, cfg, cache);
  x = x.add(rmsNorm(att.out, p.postSelfAttnNorm, eps));
  const m = runDecoderMlp(p.gateUp, p.down, rmsNorm(x.ref, p.postAttnNorm, eps));
  const out = x.add(rmsNorm(m, p.postMlpNorm, eps));
  return att.cache ? { out, cache: att.cache } : { out };
}

/**
 * One glm4v_moe layer (model-spec-glm45v §1.3): x += Attn(norm_in(x)); x += FFN(norm_post(x)), where FFN is a
 * dense SwiGLU or the MoE block. Records `attn_out`, `mlp_in`, `mlp_out` (dense) and the `moe.*` stages.
 */
export function runMoeDecoderLayer(
  p: MoeDenseLayerParams | MoeLayerParams,
  x: JaxArray,
  rope: TextRope,
  mask: JaxArray,
  cfg: GlmvConfig["text"],
  cache?: { layer: LayerCache; write: CacheWrite },
  record?: Recorder,
): { out: JaxArray; cache?: LayerCache; routing?: Routing } {
  const eps = cfg.rmsNormEps;
  const att = runSelfAttention(p, rmsNorm(x.ref, p.inputNorm, eps), rope, mask, cfg, cache);
  record?.("attn_out", att.out.ref);
  x = x.add(att.out);
  const h = rmsNorm(x.ref, p.postAttnNorm, eps);
  record?.("mlp_in", h.ref);
  let routing: Routing | undefined;
  let m: JaxArray;
  if ("router" in p) {
    if (!cfg.moe) throw new GlmvError("bad_config", "MoE layer parameters without cfg.moe");
    ({ out: m, routing } = runMoeBlock(p, h, cfg.moe, record));
  } else {
    m = swiGlu(h, p.gate, p.up, p.down);
    record?.("mlp_out", m.ref);
  }
  const out = x.add(m);
  return { out, ...(att.cache ? { cache: att.cache } : {}), ...(routing ? { routing } : {}) };
}

/**
 * All layers and the final norm. Consumes `params`, `x`, `rope` and the options' arrays.
 * @param x [B, S, hidden]
 * @returns hidden [B, S, hidden] after the final norm, and the new cache when one was given
 */
export function runDecoder(
  params: DecoderParams,
  x: JaxArray,
  rope: TextRope,
  cfg: GlmvConfig["text"],
  opts: DecoderOptions,
): { hidden: JaxArray; cache?: LayerCache[]; routing?: Routing[] } {
  const { mask, cache, write, record } = opts;
  const newCache: LayerCache[] = [];
  const routing: Routing[] = [];
  const n = params.layers.length;
  params.layers.forEach((lp, i) => {
    const last = i === n - 1;
    const r = last ? rope : tree.ref(rope);
    const layerCache =
      cache && write ? { layer: cache[i]!, write: last ? write : tree.ref(write) } : undefined;
    const m = last ? mask : mask.ref;
    let res: { out: JaxArray; cache?: LayerCache; routing?: Routing };
    if (cfg.moe) {
      const rec: Recorder | undefined = record ? (name, a) => record(`layer${i}.${name}`, a) : undefined;
      res = runMoeDecoderLayer(lp as MoeLayerParams, x, r, m, cfg, layerCache, rec);
    } else {
      res = runDecoderLayer(lp as DecoderLayerParams, x, r, m, cfg, layerCache);
    }
    x = res.out;
    if (res.cache) newCache.push(res.cache);
    if (res.routing && opts.collectRouting) routing.push(res.routing);
    else if (res.routing) disposeRouting(res.routing);
    record?.(`layer${i}`, x.ref);
  });
  if (n === 0) tree.dispose([rope, mask, write ?? null]);
  const hidden = rmsNorm(x, params.norm, cfg.rmsNormEps);
  record?.("final_norm", hidden.ref);
  return {
    hidden,
    ...(cache ? { cache: newCache } : {}),
    ...(opts.collectRouting ? { routing } : {}),
  };
}
