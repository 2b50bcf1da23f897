/**
 * The GLM-4.5V mixture-of-experts block (model-spec-glm45v §2): a sigmoid router whose correction bias picks the
 * experts but never weighs them, top-k routed SwiGLU experts plus an always-on shared expert.
 *
 * The routed experts are computed densely: every expert runs on every token and the combine weights are zero
 * off the chosen k. That is the same function as a gather/scatter dispatch (an unchosen expert adds exactly
 * 0·E(x) = 0), keeps every shape static under `jit`, and costs E/k times the sparse FLOPs — right for the tiny
 * in-process models; the 4.5V-scale model runs on external engines (tensor-engine.md).
 */
import { type Array as JaxArray, lax, nn, numpy as np } from "@jax-js/jax";
import { linear, swiGlu } from "../tensor/ops.ts";
import type { MoeConfig } from "./config.ts";
import type { Recorder } from "./vision.ts";

/** What the router decided for T tokens over E experts. All arrays are owned by the caller. */
export type Routing = {
  logits: JaxArray; // [T, E] fp32 router logits (no bias)
  scores: JaxArray; // [T, E] sigmoid(logits), unbiased
  selected: JaxArray; // [T, E] float 1 on the k chosen experts (top-k of scores + bias), else 0
  weights: JaxArray; // [T, E] combine weights: chosen unbiased scores, renormalised and scaled; 0 elsewhere
};

/** Router and expert weights of one MoE layer (a subset of `MoeLayerParams`). */
export type MoeBlockParams = {
  router: JaxArray; // [E, H]
  correctionBias: JaxArray; // [E]
  experts: { gate: JaxArray; up: JaxArray; down: JaxArray }[]; // each [I, H], [I, H], [H, I]
  shared?: { gate: JaxArray; up: JaxArray; down: JaxArray } | undefined;
};

/**
 * 1 where an entry is among the k largest of its row, else 0 (float32). Ties go to the lower index, like a
 * stable top-k. Built from pairwise comparisons (rank < k), so it has static shapes and no gradient.
 * @param values [T, E]
 * @example topKMask(np.array([[0.1, 0.9, 0.5]]), 2) // [[0, 1, 1]]
 */
export function topKMask(values: JaxArray, k: number): JaxArray {
  const [t, e] = values.shape as [number, number];
  const v = lax.stopGradient(values);
  const mine = v.ref.reshape([t, e, 1]); // v_i
  const other = v.reshape([t, 1, e]); // v_j
  const lowerIndex = new Array<boolean>(e * e);
  for (let i = 0; i < e; i++) for (let j = 0; j < e; j++) lowerIndex[i * e + j] = j < i;
  const before = np.array(lowerIndex, { shape: [1, e, e], dtype: np.bool });
  // j outranks i if v_j > v_i, or v_j = v_i and j < i
  const beats = np.logicalOr(np.greater(other.ref, mine.ref), np.logicalAnd(np.equal(other, mine), before));
  const rank = beats.astype(np.float32).sum(-1); // [T, E]
  return np.less(rank, k).astype(np.float32);
}

/**
 * Route T tokens (model-spec-glm45v §2 steps 1–7): logits = x·W_gᵀ, s = σ(logits); choose the top-k of s + b
 * (b only selects); weights = chosen s / (Σ chosen s + 1e-20) when `normTopK`, then × `routedScalingFactor`.
 * Consumes all arguments.
 * @param x [T, H]
 * @example const r = routeTokens(x, p.router, p.correctionBias, cfg.text.moe!);
 */
export function routeTokens(x: JaxArray, router: JaxArray, bias: JaxArray, moe: MoeConfig): Routing {
  const logits = linear(x, router); // [T, E]
  const scores = nn.sigmoid(logits.ref);
  // the bias is a buffer: no gradient reaches it, and it never enters the weights
  const selected = topKMask(scores.ref.add(lax.stopGradient(bias)), moe.topK);
  let weights = scores.ref.mul(selected.ref);
  if (moe.normTopK) weights = weights.ref.div(weights.sum(-1, { keepdims: true }).add(1e-20));
  if (moe.routedScalingFactor !== 1) weights = weights.mul(moe.routedScalingFactor);
  return { logits, scores, selected, weights };
}

/**
 * The MoE feed-forward (steps 8–10): Σ_k w_k·E_k(x) over the chosen experts plus the shared expert on every
 * token. Consumes `p` and `x`. Records `moe.router_logits`, `moe.scores`, `moe.selected`, `moe.weights`,
 * `moe.routed_out`, `moe.shared_out` when a recorder is given.
 * @param x [..., H] (any leading shape; flattened to T tokens for routing)
 * @returns out shaped like x, and the routing (owned by the caller)
 */
export function runMoeBlock(
  p: MoeBlockParams,
  x: JaxArray,
  moe: MoeConfig,
  record?: Recorder,
): { out: JaxArray; routing: Routing } {
  const shape = x.shape;
  const h = shape[shape.length - 1]!;
  const t = shape.reduce((a, b) => a * b, 1) / h;
  const e = p.experts.length;
  const xf = x.reshape([t, h]);
  const routing = routeTokens(xf.ref, p.router, p.correctionBias, moe);
  if (record) {
    record("moe.router_logits", routing.logits.ref);
    record("moe.scores", routing.scores.ref);
    record("moe.selected", routing.selected.ref);
    record("moe.weights", routing.weights.ref);
  }
  // all experts side by side: gate/up [E·I, H], down [H, E·I]
  const gate = np.concatenate(
    p.experts.map((x) => x.gate),
    0,
  );
  const up = np.concatenate(
    p.experts.map((x) => x.up),
    0,
  );
  const down = np.concatenate(
    p.experts.map((x) => x.down),
    1,
  );
  const width = gate.shape[0]! / e;
  const hidden = nn.silu(linear(xf.ref, gate)).mul(linear(xf.ref, up)); // [T, E·I]
  // weighting the hidden activations = weighting each expert's output (down is linear)
  const weighted = hidden.reshape([t, e, width]).mul(routing.weights.ref.reshape([t, e, 1]));
  let out = linear(weighted.reshape([t, e * width]), down); // [T, H]
  record?.("moe.routed_out", out.ref);
  if (p.shared) {
    const shared = swiGlu(xf, p.shared.gate, p.shared.up, p.shared.down);
    record?.("moe.shared_out", shared.ref);
    out = out.add(shared);
  } else {
    xf.dispose();
  }
  return { out: out.reshape(shape), routing };
}

/** Dispose a routing's arrays. */
export function disposeRouting(r: Routing): void {
  r.logits.dispose();
  r.scores.dispose();
  r.selected.dispose();
  r.weights.dispose();
}
