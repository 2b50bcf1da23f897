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
 * Masked multi-head attention with grouped-query support (kv head j serves q heads j·g … j·g+g−1).
 * Softmax in fp32 with scale 1/√D.
 * @param q    [B, S, H, D]
 * @param k    [B, T, K, D]
 * @param v    [B, T, K, D]
 * @param mask boolean, broadcastable to [B, 1, S, T]; true = attend
 * @returns    [B, S, H, D]
 */
export function attention(q: JaxArray, k: JaxArray, v: JaxArray, mask: JaxArray): JaxArray {
  const [, , heads, dim] = q.shape as [number, number, number, number];
  const kvHeads = k.shape[2]!;
  const groups = heads / kvHeads;
  if (groups > 1) {
    k = np.repeat(k, groups, 2);
    v = np.repeat(v, groups, 2);
  }
  const qh = q.transpose([0, 2, 1, 3]); // [B, H, S, D]
  const kh = k.transpose([0, 2, 3, 1]); // [B, H, D, T]
  const vh = v.transpose([0, 2, 1, 3]); // [B, H, T, D]
  const scores = np.matmul(qh, kh).mul(1 / Math.sqrt(dim)); // [B, H, S, T]
  const probs = nn.softmax(np.where(mask, scores, MASKED), -1);
  return np.matmul(probs, vh).transpose([0, 2, 1, 3]); // [B, S, H, D]
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
