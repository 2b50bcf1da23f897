/**
 * Rotary position tables, computed on the host as plain Float32Arrays and applied in the graph as
 * `q·cos + (q·R)·sin` with a constant rotation matrix R (model-spec §2.3, §2.5, §3.2).
 * - Vision: 2-D rope, rotate-half style over the full head (pairs i ↔ i + hd/2).
 * - Text: 3-D M-RoPE, interleaved pairs (2k, 2k+1) over the first `rotaryDim` dims, the rest pass through.
 */

/** `1 / theta^(2k/dim)` for k = 0..dim/2−1. */
export function inverseFrequencies(dim: number, theta = 10000): Float64Array {
  const out = new Float64Array(dim / 2);
  for (let k = 0; k < dim / 2; k++) out[k] = 1 / theta ** ((2 * k) / dim);
  return out;
}

/** Per-patch (row, col) ids in merge-window order for one (t, h, w) item (model-spec §2.3). */
export function visionPatchIds(t: number, h: number, w: number, merge: number): Array<[number, number]> {
  const ids: Array<[number, number]> = [];
  for (let ti = 0; ti < t; ti++)
    for (let br = 0; br < h / merge; br++)
      for (let bc = 0; bc < w / merge; bc++)
        for (let ir = 0; ir < merge; ir++)
          for (let ic = 0; ic < merge; ic++) ids.push([br * merge + ir, bc * merge + ic]);
  return ids;
}

/**
 * Vision cos/sin [N, headDim] for the given patch ids: θ = [r·f, c·f] (f over headDim/2), emb = concat(θ, θ).
 * @example visionRopeTable([[0, 1]], 16) // cos/sin of length 16
 */
export function visionRopeTable(
  ids: ReadonlyArray<readonly [number, number]>,
  headDim: number,
  theta = 10000,
): { cos: Float32Array; sin: Float32Array } {
  const inv = inverseFrequencies(headDim / 2, theta); // headDim/4 frequencies
  const q = inv.length;
  const cos = new Float32Array(ids.length * headDim);
  const sin = new Float32Array(ids.length * headDim);
  ids.forEach(([r, c], n) => {
    for (let k = 0; k < q; k++) {
      // fp32 angle as the reference computes it (positions × fp32 inv_freq)
      const ar = Math.fround(r * Math.fround(inv[k]!));
      const ac = Math.fround(c * Math.fround(inv[k]!));
      for (const [slot, angle] of [
        [k, ar],
        [q + k, ac],
        [2 * q + k, ar],
        [3 * q + k, ac],
      ] as const) {
        cos[n * headDim + slot] = Math.cos(angle);
        sin[n * headDim + slot] = Math.sin(angle);
      }
    }
  });
  return { cos, sin };
}

/**
 * Text M-RoPE cos/sin [S, headDim] from 3 position components [3][S]: slot k uses component sec(k) by
 * `mropeSection`; each angle is repeated for the pair (2k, 2k+1); dims ≥ rotaryDim get cos 1, sin 0.
 */
export function textRopeTable(
  positions: ReadonlyArray<ArrayLike<number>>,
  headDim: number,
  rotaryDim: number,
  mropeSection: readonly [number, number, number],
  theta = 10000,
): { cos: Float32Array; sin: Float32Array } {
  const inv = inverseFrequencies(rotaryDim, theta);
  const seq = positions[0]!.length;
  const component = new Int32Array(inv.length);
  let k0 = 0;
  mropeSection.forEach((n, ci) => {
    for (let k = k0; k < k0 + n; k++) component[k] = ci;
    k0 += n;
  });
  const cos = new Float32Array(seq * headDim).fill(1);
  const sin = new Float32Array(seq * headDim);
  for (let s = 0; s < seq; s++) {
    for (let k = 0; k < inv.length; k++) {
      const pos = positions[component[k]!]![s]!;
      const angle = Math.fround(pos * Math.fround(inv[k]!));
      const c = Math.cos(angle);
      const si = Math.sin(angle);
      cos[s * headDim + 2 * k] = c;
      cos[s * headDim + 2 * k + 1] = c;
      sin[s * headDim + 2 * k] = si;
      sin[s * headDim + 2 * k + 1] = si;
    }
  }
  return { cos, sin };
}

/**
 * Rotation matrix R [d, d] (row-major) so that `(x·R)` is rotate_half(x): out[i] = −x[i+d/2] (i < d/2),
 * out[i] = x[i−d/2] (i ≥ d/2).
 */
export function rotateHalfMatrix(d: number): Float32Array {
  const r = new Float32Array(d * d);
  const h = d / 2;
  for (let i = 0; i < h; i++) {
    r[(i + h) * d + i] = -1; // out[i] gets −x[i+h]
    r[i * d + (i + h)] = 1; // out[i+h] gets x[i]
  }
  return r;
}

/**
 * Rotation matrix R [d, d] for interleaved pairs over the first `rot` dims: out[2k] = −x[2k+1],
 * out[2k+1] = x[2k]; dims ≥ rot map to 0 (their sin is 0 anyway).
 */
export function rotatePairsMatrix(d: number, rot: number): Float32Array {
  const r = new Float32Array(d * d);
  for (let k = 0; k < rot / 2; k++) {
    r[(2 * k + 1) * d + 2 * k] = -1;
    r[2 * k * d + (2 * k + 1)] = 1;
  }
  return r;
}
