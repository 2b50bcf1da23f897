/**
 * The GLM-V vision tower (model-spec §2): patch embed as a matmul → post-conv RMSNorm → + bicubic-adapted
 * absolute positions → ViT blocks with 2-D rope and per-segment attention → post RMSNorm → 2×2 downsample
 * (conv as a matmul) → merger (Linear, LayerNorm, exact GELU, SwiGLU).
 *
 * Host-side geometry (rope tables, bicubic weights, block mask) is built once per set of grids by
 * `visionInputs` and passed in as arrays, so the graph itself is shape-static.
 */
import { type Array as JaxArray, numpy as np, tree } from "@jax-js/jax";
import {
  attentionProjected,
  geluExact,
  layerNorm,
  linear,
  rmsNorm,
  ropeHalf,
  swiGlu,
} from "../tensor/ops.ts";
import { bicubicPosWeights } from "./bicubic.ts";
import type { GlmvConfig } from "./config.ts";
import type { VisionBlockParams, VisionParams } from "./params.ts";
import type { GridThw } from "./position-ids.ts";
import { rotateHalfMatrix, visionPatchIds, visionRopeTable } from "./rope.ts";

/** Geometry arrays for one vision call. N = patches. */
export type VisionAux = {
  cos: JaxArray; // [N, 1, hd]
  sin: JaxArray; // [N, 1, hd]
  rotate: JaxArray; // [hd, hd] rotate-half matrix (consumed; the blocks apply it as a flip of the halves)
  posWeights: JaxArray; // [N, side²] bicubic sampling weights
  /**
   * bool [1, 1, N, N]: attention only inside a segment. When every segment has the same length L the mask is
   * all-true [1, 1, L, L] instead and attention runs batched per segment (N/L × L² scores instead of N²).
   */
  mask: JaxArray;
};

/** Host-side geometry for a vision call (plain data; see `visionAux` for the arrays). */
export type VisionGeometry = {
  patches: number;
  headDim: number;
  side: number;
  cos: Float32Array;
  sin: Float32Array;
  posWeights: Float32Array;
  segmentOf: Int32Array; // segment index per patch
};

/**
 * Split item grids into attention segments: every temporal patch is its own segment with grid (1, h, w)
 * (model-spec §2.4; videos are flattened this way by the reference, images have t = 1).
 */
export function visionSegments(grids: readonly GridThw[]): GridThw[] {
  const segs: GridThw[] = [];
  for (const [t, h, w] of grids) for (let i = 0; i < t; i++) segs.push([1, h, w]);
  return segs;
}

/**
 * Compute the host geometry for the given item grids (images and/or videos, in the order their patches
 * appear in `pixels`).
 * @example visionGeometry([[1, 4, 4]], cfg).patches // 16
 */
export function visionGeometry(grids: readonly GridThw[], cfg: GlmvConfig): VisionGeometry {
  const v = cfg.vision;
  const hd = v.hiddenSize / v.numHeads;
  const side = v.imageSize / v.patchSize;
  const segs = visionSegments(grids);
  const ids: Array<[number, number]> = [];
  const weights: Float32Array[] = [];
  const segmentOf: number[] = [];
  segs.forEach(([, h, w], s) => {
    const segIds = visionPatchIds(1, h, w, v.spatialMergeSize);
    ids.push(...segIds);
    weights.push(bicubicPosWeights(segIds, h, w, side));
    for (let i = 0; i < segIds.length; i++) segmentOf.push(s);
  });
  const { cos, sin } = visionRopeTable(ids, hd);
  const posWeights = new Float32Array(ids.length * side * side);
  let off = 0;
  for (const w of weights) {
    posWeights.set(w, off);
    off += w.length;
  }
  return {
    patches: ids.length,
    headDim: hd,
    side,
    cos,
    sin,
    posWeights,
    segmentOf: Int32Array.from(segmentOf),
  };
}

/** Turn host geometry into the arrays `runVision` takes (caller owns them). */
export function visionAux(g: VisionGeometry): VisionAux {
  const n = g.patches;
  const segLen = uniformSegmentLength(g.segmentOf);
  const m = segLen ?? n;
  const mask = new Uint8Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) mask[i * m + j] = segLen || g.segmentOf[i] === g.segmentOf[j] ? 1 : 0;
  return {
    cos: np.array(g.cos, { shape: [n, 1, g.headDim] }),
    sin: np.array(g.sin, { shape: [n, 1, g.headDim] }),
    rotate: np.array(rotateHalfMatrix(g.headDim), { shape: [g.headDim, g.headDim] }),
    posWeights: np.array(g.posWeights, { shape: [n, g.side * g.side] }),
    mask: np.array(
      Array.from(mask, (b) => b === 1),
      { shape: [1, 1, m, m], dtype: np.bool },
    ),
  };
}

/** The common length of all segments (patches are grouped by segment, in order), or undefined if they differ. */
function uniformSegmentLength(segmentOf: Int32Array): number | undefined {
  const counts = new Map<number, number>();
  for (const s of segmentOf) counts.set(s, (counts.get(s) ?? 0) + 1);
  const lengths = new Set(counts.values());
  return lengths.size === 1 ? [...lengths][0] : undefined;
}

/** Optional stage recorder: receives an owned ref of each intermediate (it must dispose it). */
export type Recorder = (name: string, x: JaxArray) => void;

/** `x·cos + (x·R)·sin`, the rotary embedding with a constant rotation matrix R. */
export function applyRope(x: JaxArray, cos: JaxArray, sin: JaxArray, rotate: JaxArray): JaxArray {
  return x.ref.mul(cos).add(np.matmul(x, rotate).mul(sin));
}

/** One ViT block: x + Attn(norm1(x)); x + MLP(norm2(x)). x [N, D]. */
export function runVisionBlock(
  p: VisionBlockParams,
  x: JaxArray,
  aux: Omit<VisionAux, "posWeights">,
  heads: number,
  eps: number,
): JaxArray {
  const [n, d] = x.shape as [number, number];
  const hd = d / heads;
  const h = rmsNorm(x.ref, p.norm1, eps);
  const qkv = linear(h, p.qkv).reshape([n, 3, heads, hd]); // [N, 3, H, hd]
  const [q, k, v] = np.split(qkv, 3, 1).map((a) => a.reshape([n, heads, hd])) as [
    JaxArray,
    JaxArray,
    JaxArray,
  ];
  // Segments of one length L run as a batch of N/L sequences (the mask is then [1, 1, L, L]).
  const segLen = aux.mask.shape[2]!;
  const segs = n / segLen;
  // rotate-half as a flip of the halves (equal to `aux.rotate`, see ropeHalf)
  const qr = ropeHalf(q, aux.cos.ref, aux.sin.ref).reshape([segs, segLen, heads, hd]);
  const kr = ropeHalf(k, aux.cos, aux.sin).reshape([segs, segLen, heads, hd]);
  aux.rotate.dispose();
  const att = attentionProjected(qr, kr, v.reshape([segs, segLen, heads, hd]), aux.mask, p.proj);
  x = x.add(att.reshape([n, d]));
  const m = swiGlu(rmsNorm(x.ref, p.norm2, eps), p.gate, p.up, p.down);
  return x.add(m);
}

/**
 * The vision tower. Consumes `params`, `pixels` and `aux`.
 * @param pixels [N, C·T·P·P] patch rows in merge-window order
 * @returns [N / m², outHiddenSize]
 */
export function runVision(
  params: VisionParams,
  pixels: JaxArray,
  aux: VisionAux,
  cfg: GlmvConfig["vision"],
  record?: Recorder,
): JaxArray {
  const p = params;
  const eps = cfg.rmsNormEps;
  const d = cfg.hiddenSize;
  const m2 = cfg.spatialMergeSize ** 2;
  let x = linear(pixels, p.patchEmbedWeight.reshape([d, -1]), p.patchEmbedBias); // [N, D]
  record?.("patch_embed", x.ref);
  x = rmsNorm(x, p.postConvNorm, eps);
  record?.("post_conv_layernorm", x.ref);
  const { posWeights, ...blockAux } = aux;
  x = x.add(np.matmul(posWeights, p.posEmbed)); // bicubic-adapted abs-pos, [N, D]
  record?.("embeddings", x.ref);
  p.blocks.forEach((bp, i) => {
    const last = i === p.blocks.length - 1;
    x = runVisionBlock(bp, x, last ? blockAux : tree.ref(blockAux), cfg.numHeads, eps);
    record?.(`block${i}`, x.ref);
  });
  if (p.blocks.length === 0) tree.dispose(blockAux);
  x = rmsNorm(x, p.postNorm, eps);
  record?.("post_layernorm", x.ref);
  const n = x.shape[0]!;
  const o = cfg.outHiddenSize;
  // each group of m² consecutive tokens is one window, flattened (i, j, d); the conv weight [O, D, i, j]
  // is reordered to match → a single matmul
  const wDown = p.downsampleWeight.transpose([0, 2, 3, 1]).reshape([o, m2 * d]);
  let y = linear(x.reshape([n / m2, m2 * d]), wDown, p.downsampleBias); // [M, O]
  record?.("downsample", y.ref);
  y = geluExact(layerNorm(linear(y, p.mergerProj), p.mergerNormWeight, p.mergerNormBias, 1e-5));
  const out = swiGlu(y, p.mergerGate, p.mergerUp, p.mergerDown);
  record?.("merger", out.ref);
  return out;
}
