/**
 * glmv's one home for seeded randomness: pure JS, deterministic by seed. glmv never uses Math.random in code whose
 * result must be reproducible (sampling, init, curricula, task generation). Two generators, kept because every
 * stored seed's output depends on them: `mulberry32` (a bare float stream: sampling, init, curricula) and
 * `createRng` (sfc32 with helpers: the synthetic task generators); `fnv1a32` and `deriveSeed` derive seeds.
 */

/**
 * A small, fast float stream in [0, 1) (mulberry32).
 * @example const rand = mulberry32(7); rand() // same value on every run
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 32-bit FNV-1a hash of a string's UTF-16 code units, unsigned. `seed` is XOR-ed into the offset basis, so one
 * text gives independent hashes per seed (0 = plain FNV-1a). Used to key per-tensor init streams and task seeds.
 * @example fnv1a32("model.norm.weight", 3)
 */
export function fnv1a32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

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
