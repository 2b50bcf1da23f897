import { describe, expect, it } from "vitest";
import { createRng, deriveSeed, fnv1a32, mulberry32 } from "./rng.ts";

describe("mulberry32", () => {
  it("is deterministic by seed, in [0, 1), and differs across seeds", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Array.from({ length: 100 }, () => c())).not.toEqual(xs);
  });
});

describe("fnv1a32", () => {
  it("matches the published FNV-1a 32-bit test vectors with seed 0", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });
  it("gives an unsigned 32-bit value that changes with the seed", () => {
    const h = fnv1a32("model.norm.weight", 3);
    expect(h).toBeGreaterThanOrEqual(0);
    expect(h).toBeLessThan(2 ** 32);
    expect(h).not.toBe(fnv1a32("model.norm.weight", 4));
  });
});

describe("createRng", () => {
  it("replays the same sequence for the same seed and differs across seeds", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(seqA);
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(seqA);
  });

  it("keeps int() inside its inclusive bounds and hits every value", () => {
    const rng = createRng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = rng.int(-2, 3);
      expect(v).toBeGreaterThanOrEqual(-2);
      expect(v).toBeLessThanOrEqual(3);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([-1, -2, 0, 1, 2, 3]);
  });

  it("produces roughly uniform floats in [0, 1)", () => {
    const rng = createRng(1);
    let sum = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const f = rng.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      sum += f;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
  });

  it("shuffles into a permutation without touching the input", () => {
    const input = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = createRng(3).shuffle(input);
    expect(input).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...out].sort()).toEqual(input);
  });
});

describe("deriveSeed", () => {
  it("is stable and separates splits, families and indices", () => {
    expect(deriveSeed(1, "train", "ocr", 0)).toBe(deriveSeed(1, "train", "ocr", 0));
    const seeds = new Set<number>();
    for (const split of ["train", "heldout"])
      for (const fam of ["ocr", "math"])
        for (let i = 0; i < 100; i++) seeds.add(deriveSeed(1, split, fam, i));
    expect(seeds.size).toBe(400);
  });
});
