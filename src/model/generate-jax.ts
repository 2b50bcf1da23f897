/**
 * The generator's steps on jax-js (generate.ts): the attention mask and one-hot cache write of a cache slot, a
 * zeroed KV cache, and one batch's prefill and decode steps through the jitted step functions, the cache and the
 * pending logits held as jax-js arrays.
 */
import { type Array as JaxArray, type jit, numpy as np, tree } from "@jax-js/jax";
import { type GlmvConfig, textHeadDim } from "./config.ts";
import type { CacheWrite, LayerCache } from "./decoder.ts";
import type { BatchStart, BatchSteps, StepInputs, StepOutput } from "./generate-native.ts";
import { textRopeArrays } from "./model.ts";

/**
 * Attention mask [B, 1, S, Tmax] for S queries at cache slots start..start+S−1: key j is visible when j ≤ the
 * query's slot and j is not a prompt pad slot.
 */
export function cacheMask(attention: readonly (readonly number[])[], start: number, s: number, tmax: number) {
  const out: boolean[] = [];
  for (const row of attention)
    for (let i = 0; i < s; i++)
      for (let j = 0; j < tmax; j++) out.push(j <= start + i && (j >= row.length || row[j] === 1));
  return np.array(out, { shape: [attention.length, 1, s, tmax], dtype: np.bool });
}

/**
 * One-hot cache write of S new entries at slots start..start+S−1 (see decoder.ts `CacheWrite`). `place` is given
 * as [1, 1, Tmax, S] rather than [Tmax, S]: jax-js 0.1.25's matmul of a 2-D matrix with a 4-D batch puts the
 * matrix's row axis first ([Tmax,S]·[B,K,S,hd] → [Tmax,B,K,hd]), while explicit unit batch axes broadcast right.
 */
export function cacheWriteAt(start: number, s: number, tmax: number): CacheWrite {
  const keep = new Float32Array(tmax).fill(1);
  const place = new Float32Array(tmax * s);
  for (let i = 0; i < s; i++) {
    keep[start + i] = 0;
    place[(start + i) * s + i] = 1;
  }
  return {
    keep: np.array(keep, { shape: [tmax, 1, 1] }),
    place: np.array(place, { shape: [1, 1, tmax, s] }),
  };
}

/** A generator's jitted steps and the sizes its jax-js batches need. */
export type JaxGeneration = {
  t: GlmvConfig["text"];
  b: number;
  promptLen: number;
  tmax: number;
  prefill: ReturnType<typeof jit>;
  decode: ReturnType<typeof jit>;
  rotate: JaxArray;
};

/** A batch's steps on jax-js: the cache and the pending logits are jax-js arrays. */
export function jaxSteps(
  j: JaxGeneration,
  { params, inputs, attention, ropeDeltas }: BatchStart,
): BatchSteps {
  const { t, b, promptLen, tmax } = j;
  let cache = emptyCache(t, b, tmax);
  let logits: JaxArray | undefined;
  const read = async () => {
    const host = (await logits!.data()) as Float32Array;
    logits = undefined;
    return host;
  };
  return {
    prefill() {
      ({ logits, cache } = j.prefill(
        tree.ref(params),
        inputs,
        cache,
        cacheWriteAt(0, promptLen, tmax),
      ) as StepOutput);
      return read();
    },
    decode(c, fed) {
      const positions = ropeDeltas.map((d) => [[c + d], [c + d], [c + d]]);
      const step: StepInputs = {
        tokens: np.array(Int32Array.from(fed), { shape: [b, 1], dtype: np.int32 }),
        rope: textRopeArrays(t, positions, j.rotate.ref),
        mask: cacheMask(attention, c, 1, tmax),
      };
      ({ logits, cache } = j.decode(
        tree.ref(params.text),
        step,
        cache,
        cacheWriteAt(c, 1, tmax),
      ) as StepOutput);
      return read();
    },
    close: () => tree.dispose([cache, logits ?? null]),
  };
}

/** A zeroed KV cache per layer, each [B, Tmax, K, hd]. */
export function emptyCache(t: GlmvConfig["text"], b: number, tmax: number): LayerCache[] {
  const hd = textHeadDim(t);
  return Array.from({ length: t.numLayers }, () => ({
    k: np.zeros([b, tmax, t.numKvHeads, hd]),
    v: np.zeros([b, tmax, t.numKvHeads, hd]),
  }));
}
