/**
 * A small seeded PRNG (mulberry32): pure JS, deterministic by seed, fast. glmv never uses Math.random in code
 * whose result must be reproducible (sampling, curricula, task generation).
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
