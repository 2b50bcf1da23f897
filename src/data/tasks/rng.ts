/**
 * A small seeded PRNG (sfc32 state, seeded through splitmix32) for the synthetic task generators.
 * Never `Math.random`: every item must be reproducible from its seed alone.
 */
import { fnv1a32 } from "../../util/rng.ts";

/** A deterministic random source. Methods advance its internal state. */
export type Rng = {
  /** Next unsigned 32-bit integer. */
  nextU32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[];
};

/** One splitmix32 step: a well-mixed 32-bit output from a 32-bit state. */
function splitmix32(state: number): { state: number; out: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return { state: next, out: z >>> 0 };
}

/**
 * Create a PRNG from a 32-bit seed. sfc32 passes PractRand far beyond what a task generator draws,
 * and splitmix32 seeding keeps nearby seeds (0, 1, 2, …) uncorrelated.
 * @example const rng = createRng(42); rng.int(1, 9) // same value on every run
 */
export function createRng(seed: number): Rng {
  let sm = seed >>> 0;
  const take = (): number => {
    const r = splitmix32(sm);
    sm = r.state;
    return r.out;
  };
  let a = take();
  let b = take();
  let c = take();
  let d = take();
  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard a few outputs so the first draws do not echo the seeding.
  for (let i = 0; i < 12; i++) nextU32();
  const float = (): number => nextU32() / 4294967296;
  const int = (lo: number, hi: number): number => lo + Math.floor(float() * (hi - lo + 1));
  return {
    nextU32,
    float,
    int,
    pick: <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!,
    shuffle: <T>(items: readonly T[]): T[] => {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}

/**
 * Derive an independent 32-bit seed from parts (a base seed, a split name, a family, an index):
 * FNV-1a over the parts' text, then one splitmix32 round to spread the bits.
 * @example deriveSeed(7, "heldout", "counting", 3)
 */
export function deriveSeed(...parts: (string | number)[]): number {
  return splitmix32(fnv1a32(parts.map(String).join("\u0000"))).out;
}
