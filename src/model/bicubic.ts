/**
 * Bicubic adaptation of the vision tower's learned absolute position table (model-spec §2.4), written as a
 * precomputed weight matrix: `pos = W · table` with W [patches, tableRows]. This equals PyTorch's
 * `grid_sample(mode="bicubic", align_corners=False, padding_mode="border")` exactly, and the table's gradient
 * comes for free from the matmul.
 */

/** Cubic-convolution constant used by PyTorch's bicubic kernels. */
const A = -0.75;

/** Kernel for |x| ≤ 1. */
function cubic1(x: number): number {
  return ((A + 2) * x - (A + 3)) * x * x + 1;
}

/** Kernel for 1 < |x| < 2. */
function cubic2(x: number): number {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

/** The four tap weights for fractional offset t ∈ [0, 1), taps at x0−1, x0, x0+1, x0+2. */
export function cubicWeights(t: number): [number, number, number, number] {
  return [cubic2(t + 1), cubic1(t), cubic1(1 - t), cubic2(2 - t)];
}

/**
 * Weight matrix rows for a grid of patches (row-major over (r, c) as given by `ids`), sampling a
 * `side × side` table. Each tap coordinate is clamped to [0, side−1] on its own (border padding).
 * Computed in float64 then stored as float32 (the reference computes in fp32; the difference is ≪ 1e-6).
 *
 * @param ids   per patch: [row, col] in patch units
 * @param gridH the patch grid height of this image/frame (the target size, NOT the merged grid)
 * @param gridW the patch grid width
 * @param side  table side (imageSize / patchSize)
 * @returns Float32Array [ids.length, side*side]
 * @example bicubicPosWeights([[0, 0]], 4, 4, 4) // identity row: sampling at the centre of cell (0,0)
 */
export function bicubicPosWeights(
  ids: ReadonlyArray<readonly [number, number]>,
  gridH: number,
  gridW: number,
  side: number,
): Float32Array {
  const rows = side * side;
  const out = new Float32Array(ids.length * rows);
  const clamp = (i: number) => Math.min(side - 1, Math.max(0, i));
  ids.forEach(([r, c], n) => {
    // grid_sample unnormalisation with align_corners=False: ((g + 1)·side − 1)/2, g = ((c+0.5)/w)·2 − 1
    const ix = ((((c + 0.5) / gridW) * 2 - 1 + 1) * side - 1) / 2;
    const iy = ((((r + 0.5) / gridH) * 2 - 1 + 1) * side - 1) / 2;
    const x0 = Math.floor(ix);
    const y0 = Math.floor(iy);
    const wx = cubicWeights(ix - x0);
    const wy = cubicWeights(iy - y0);
    for (let a = 0; a < 4; a++) {
      const y = clamp(y0 - 1 + a);
      for (let b = 0; b < 4; b++) {
        const x = clamp(x0 - 1 + b);
        out[n * rows + y * side + x]! += wy[a]! * wx[b]!;
      }
    }
  });
  return out;
}
