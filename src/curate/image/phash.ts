/**
 * The 64-bit DCT perceptual hash (pHash): a 32×32 grayscale, its 2-D DCT, the 8×8 lowest frequencies, one bit per
 * coefficient above their median (DC left out of the median). Near-identical images (re-encoded, resized, lightly
 * recoloured) land within a few bits; `hamming` counts them.
 */
import { grayOf, imageThumbnail, type Thumbnail } from "./decode.ts";

const N = 32;
const K = 8;

// DCT-II basis rows for the K lowest frequencies over N samples: COS[u*N + x] = cos((2x+1)uπ / 2N).
const COS = new Float64Array(K * N);
for (let u = 0; u < K; u++)
  for (let x = 0; x < N; x++) COS[u * N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));

/**
 * The pHash of a 32×32 grayscale (row-major, any scale) as an unsigned 64-bit bigint; bit 63 is coefficient (0,0).
 * @example
 * phashOfGray(grayOf(thumb, 2))
 */
export function phashOfGray(gray: Float64Array): bigint {
  if (gray.length !== N * N) throw new Error(`phash needs a ${N}×${N} grayscale, got ${gray.length} values`);
  // Rows first: tmp[y][u] = Σx gray[y][x]·cos(u, x); then columns: coef[v][u] = Σy cos(v, y)·tmp[y][u].
  const tmp = new Float64Array(N * K);
  for (let y = 0; y < N; y++)
    for (let u = 0; u < K; u++) {
      let s = 0;
      for (let x = 0; x < N; x++) s += gray[y * N + x]! * COS[u * N + x]!;
      tmp[y * K + u] = s;
    }
  const coef = new Float64Array(K * K);
  for (let v = 0; v < K; v++)
    for (let u = 0; u < K; u++) {
      let s = 0;
      for (let y = 0; y < N; y++) s += COS[v * N + y]! * tmp[y * K + u]!;
      coef[v * K + u] = s;
    }
  const median = medianOf(coef.subarray(1));
  let hash = 0n;
  for (let i = 0; i < K * K; i++) hash = (hash << 1n) | (coef[i]! > median ? 1n : 0n);
  return hash;
}

function medianOf(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The pHash of a decoded thumbnail (see `imageThumbnail`). */
export const phashOfThumbnail = (thumb: Thumbnail): bigint => phashOfGray(grayOf(thumb, thumb.side / N));

/**
 * The 64-bit perceptual hash of an encoded image (JPEG, PNG, WebP, …); rejects if it cannot be decoded.
 * @example
 * const d = hamming(await phash64(a), await phash64(b)); // ≤ 8 or so: the same picture
 */
export async function phash64(bytes: Uint8Array): Promise<bigint> {
  return phashOfThumbnail(await imageThumbnail(bytes));
}

/** Bits set in a 32-bit unsigned integer. */
export function popcount32(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * The Hamming distance between two 64-bit hashes.
 * @example
 * hamming(0b1011n, 0b0001n) // 2
 */
export function hamming(a: bigint, b: bigint): number {
  const x = BigInt.asUintN(64, a ^ b);
  return popcount32(Number(x >> 32n)) + popcount32(Number(x & 0xffffffffn));
}

/** A 64-bit hash as 16 hex digits (how items carry it in `fields.phash`). */
export const hashToHex = (hash: bigint): string => BigInt.asUintN(64, hash).toString(16).padStart(16, "0");

/** The inverse of `hashToHex`. */
export const hexToHash = (hex: string): bigint => BigInt.asUintN(64, BigInt(`0x${hex}`));
