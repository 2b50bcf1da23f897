import { describe, expect, it } from "vitest";
import { fnv1a32, mulberry32 } from "./rng.ts";

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
