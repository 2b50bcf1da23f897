/**
 * Neural-network building blocks on jax-js. Every function CONSUMES its array arguments (jax-js move
 * semantics); callers pass `.ref` for any array they still need. Shapes in comments: B batch, S query length,
 * T key length, H heads, K kv heads, D head dim.
 */
import { type Array as JaxArray, nn, numpy as np } from "@jax-js/jax";

/**
 * RMSNorm: `x · rsqrt(mean(x²) + eps) · weight` over the last axis.
 * @example rmsNorm(x, w, 1e-5) // x [N, C], w [C]
 */
export function rmsNorm(x: JaxArray, weight: JaxArray, eps: number): JaxArray {
  const meanSquare = np.square(x.ref).mean(-1, { keepdims: true }); // [..., 1]
  return x.mul(np.reciprocal(np.sqrt(meanSquare.add(eps)))).mul(weight);
}

/**
 * LayerNorm with affine weight and bias over the last axis (torch semantics: biased variance).
 * @example layerNorm(x, w, b, 1e-5)
 */
export function layerNorm(x: JaxArray, weight: JaxArray, bias: JaxArray, eps: number): JaxArray {
  const mean = x.ref.mean(-1, { keepdims: true });
  const centred = x.sub(mean);
  const variance = np.square(centred.ref).mean(-1, { keepdims: true });
  return centred
    .mul(np.reciprocal(np.sqrt(variance.add(eps))))
    .mul(weight)
    .add(bias);
}

/**
 * Linear layer with a torch-layout weight [out, in]: `x · Wᵀ (+ b)`.
 * @example linear(x, w)         // x [..., in], w [out, in] → [..., out]
 */
export function linear(x: JaxArray, weight: JaxArray, bias?: JaxArray): JaxArray {
  const y = np.matmul(x, weight.transpose());
  return bias ? y.add(bias) : y;
}

/** SiLU: x·sigmoid(x). */
export function silu(x: JaxArray): JaxArray {
  return nn.silu(x);
}

/** Exact (erf) GELU; jax-js's default is the tanh approximation, which the merger must not use. */
export function geluExact(x: JaxArray): JaxArray {
  return nn.gelu(x, { approximate: false });
}

/** SwiGLU MLP with separate gate/up/down torch-layout weights and no biases: down(silu(gate(x)) ⊙ up(x)). */
export function swiGlu(x: JaxArray, gate: JaxArray, up: JaxArray, down: JaxArray): JaxArray {
  const g = silu(linear(x.ref, gate));
  return linear(g.mul(linear(x, up)), down);
}

/** A large negative logit for masked-out attention entries (finite, so fully masked rows stay NaN-free). */
const MASKED = -1e30;

/**
 * Masked multi-head attention with grouped-query support (kv head j serves q heads j·g … j·g+g−1), per kv head
 * and group: [B, K, G, S, D]. Softmax in fp32 with scale 1/√D; k and v are never repeated per query head (and
 * their gradients need no group sum).
 *
 * G and S stay separate axes (5-D matmuls): on jax-js 0.1.25 a matmul reading a transposed-then-merged view runs
 * ~20× slower (docs/experiments.md#speedups).
 */
function groupedAttention(q: JaxArray, k: JaxArray, v: JaxArray, mask: JaxArray): JaxArray {
  const [b, s, heads, dim] = q.shape as [number, number, number, number];
  const [, t, kvHeads] = k.shape as [number, number, number, number];
  const groups = heads / kvHeads;
  const q5 = q.reshape([b, s, kvHeads, groups, dim]).transpose([0, 2, 3, 1, 4]); // [B, K, G, S, D]
  const kt = k.transpose([0, 2, 3, 1]).reshape([b, kvHeads, 1, dim, t]); // [B, K, 1, D, T]
  const vh = v.transpose([0, 2, 1, 3]).reshape([b, kvHeads, 1, t, dim]); // [B, K, 1, T, D]
  const scores = np.matmul(q5, kt).mul(1 / Math.sqrt(dim)); // [B, K, G, S, T]
  const probs = nn.softmax(np.where(groupedMask(mask, kvHeads, groups), scores, MASKED), -1);
  return np.matmul(probs, vh);
}

/**
 * Masked grouped-query attention (see `groupedAttention`).
 * @param q    [B, S, H, D]
 * @param k    [B, T, K, D]
 * @param v    [B, T, K, D]
 * @param mask boolean [B or 1, 1 or H, S, T]; true = attend
 * @returns    [B, S, H, D]
 */
export function attention(q: JaxArray, k: JaxArray, v: JaxArray, mask: JaxArray): JaxArray {
  const [b, s, heads, dim] = q.shape as [number, number, number, number];
  return groupedAttention(q, k, v, mask).transpose([0, 3, 1, 2, 4]).reshape([b, s, heads, dim]);
}

/**
 * Attention followed by its output projection, `linear(attention(q, k, v, mask) as [B, S, H·D], weight, bias)`,
 * computed as a sum of per-head projections so that no matmul reads a transposed-then-merged view
 * (docs/experiments.md#speedups).
 * @param weight [out, H·D] (torch layout), bias [out]
 * @returns      [B, S, out]
 */
export function attentionProjected(
  q: JaxArray,
  k: JaxArray,
  v: JaxArray,
  mask: JaxArray,
  weight: JaxArray,
  bias?: JaxArray,
): JaxArray {
  const [, , heads, dim] = q.shape as [number, number, number, number];
  const kvHeads = k.shape[2]!;
  const groups = heads / kvHeads;
  const att = groupedAttention(q, k, v, mask); // [B, K, G, S, D]
  const w = weight.reshape([weight.shape[0]!, kvHeads, groups, dim]);
  let out: JaxArray | undefined;
  for (let j = 0; j < kvHeads; j++)
    for (let g = 0; g < groups; g++) {
      const head = linear(att.ref.slice([], j, g), w.ref.slice([], j, g)); // [B, S, out]
      out = out ? out.add(head) : head;
    }
  att.dispose();
  w.dispose();
  return bias ? out!.add(bias) : out!;
}

/** A [B?, 1 or H, S, T] mask as [B?, 1 or K, 1 or G, S, T], to broadcast over the grouped scores. */
function groupedMask(mask: JaxArray, kvHeads: number, groups: number): JaxArray {
  const m = mask.ndim < 4 ? mask.reshape([...new Array<number>(4 - mask.ndim).fill(1), ...mask.shape]) : mask;
  const [m0, m1, m2, m3] = m.shape as [number, number, number, number];
  return m1 === 1 ? m.reshape([m0, 1, 1, m2, m3]) : m.reshape([m0, kvHeads, groups, m2, m3]);
}

/**
 * Rotary embedding over interleaved pairs: `x·cos + rot(x)·sin` with rot(x)[2j] = −x[2j+1],
 * rot(x)[2j+1] = x[2j] over the whole last axis (pass-through dims must have sin 0, as the text tables do).
 * Equals `x·cos + (x·R)·sin` with `rotatePairsMatrix`, without the [D, D] matmul.
 * @param x [..., D]; cos/sin broadcastable to x
 */
export function ropeInterleaved(x: JaxArray, cos: JaxArray, sin: JaxArray): JaxArray {
  const shape = x.shape;
  const d = shape[shape.length - 1]!;
  const sign = np.array(new Float32Array([-1, 1]), { shape: [2] });
  const rot = np
    .flip(x.ref.reshape([...shape.slice(0, -1), d / 2, 2]), -1)
    .mul(sign)
    .reshape(shape);
  return x.mul(cos).add(rot.mul(sin));
}

/**
 * Rotary embedding in rotate-half form: `x·cos + rot(x)·sin` with rot(x) = [−x₂, x₁] (halves of the last
 * axis). Equals `x·cos + (x·R)·sin` with `rotateHalfMatrix`, without the [D, D] matmul.
 * @param x [..., D]; cos/sin broadcastable to x
 */
export function ropeHalf(x: JaxArray, cos: JaxArray, sin: JaxArray): JaxArray {
  const shape = x.shape;
  const d = shape[shape.length - 1]!;
  const sign = np.array(new Float32Array([-1, 1]), { shape: [2, 1] });
  const rot = np
    .flip(x.ref.reshape([...shape.slice(0, -1), 2, d / 2]), -2)
    .mul(sign)
    .reshape(shape);
  return x.mul(cos).add(rot.mul(sin));
}

/**
 * Weighted token cross-entropy: Σ w[b,s] · (−log softmax(logits)[b,s,target]). Pass weights that already
 * include the mask and the normalisation (e.g. mask / count) so the graph has no data-dependent division.
 * @param logits  [B, S, V]
 * @param targets int32 [B, S] (any value where the weight is 0)
 * @param weights float [B, S]
 * @returns scalar
 */
export function crossEntropy(logits: JaxArray, targets: JaxArray, weights: JaxArray): JaxArray {
  const vocab = logits.shape[logits.ndim - 1]!;
  const logp = nn.logSoftmax(logits, -1); // [B, S, V]
  const picked = logp.mul(nn.oneHot(targets, vocab)).sum(-1); // [B, S]
  return picked.mul(weights).sum().neg();
}
