import { describe, expect, it } from "vitest";
import { mulberry32 } from "../util/rng.ts";
import { argmax, logSoftmax, processedProbs, SamplingConfig, sampleToken } from "./sampling.ts";

const cfg = (o: Partial<SamplingConfig> = {}) => SamplingConfig.parse(o);

/** Empirical token frequencies over n draws. */
function frequencies(logits: Float32Array, c: SamplingConfig, n: number, seed = 1): number[] {
  const rand = mulberry32(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampleToken(logits, c, rand).token]!++;
  return counts.map((x) => x / n);
}

describe("logSoftmax / argmax", () => {
  it("normalises and is shift-invariant and stable for large logits", () => {
    const a = logSoftmax([1, 2, 3]);
    const b = logSoftmax([1001, 1002, 1003]);
    const total = Array.from(a).reduce((s, x) => s + Math.exp(x), 0);
    expect(total).toBeCloseTo(1, 12);
    for (let i = 0; i < 3; i++) expect(b[i]).toBeCloseTo(a[i]!, 9);
    expect(a[2]).toBeCloseTo(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 12);
  });
  it("argmax picks the first maximum", () => {
    expect(argmax([0, 5, 5, 1])).toBe(1);
    expect(argmax([-3])).toBe(0);
  });
});

describe("processedProbs", () => {
  const logits = Float32Array.of(3, 2, 1, 0);

  it("temperature sharpens and flattens", () => {
    const p1 = processedProbs(logits, cfg());
    const cold = processedProbs(logits, cfg({ temperature: 0.5 }));
    const hot = processedProbs(logits, cfg({ temperature: 4 }));
    expect(cold[0]).toBeGreaterThan(p1[0]!);
    expect(hot[0]).toBeLessThan(p1[0]!);
    const soft = logSoftmax([6, 4, 2, 0]);
    for (let i = 0; i < 4; i++) expect(cold[i]).toBeCloseTo(Math.exp(soft[i]!), 12);
  });

  it("without filters every token keeps its tempered softmax mass, the far tail included", () => {
    const wide = Float32Array.from({ length: 4096 }, (_, i) => (i === 9 ? 40 : -(i % 13)));
    const p = processedProbs(wide, cfg({ temperature: 0.7 }));
    const soft = logSoftmax(Array.from(wide, (x) => x / 0.7));
    for (const i of [0, 9, 12, 4095]) expect(p[i]).toBeCloseTo(Math.exp(soft[i]!), 15);
    expect(p.every((v) => v > 0)).toBe(true);
  });

  it("top-k keeps exactly k tokens, renormalised", () => {
    const p = processedProbs(logits, cfg({ topK: 2 }));
    expect(p[2]).toBe(0);
    expect(p[3]).toBe(0);
    expect(p[0]! + p[1]!).toBeCloseTo(1, 12);
    expect(p[0]! / p[1]!).toBeCloseTo(Math.E, 9);
  });

  it("top-p keeps the smallest prefix reaching the mass", () => {
    const full = processedProbs(logits, cfg());
    // top token alone has ~0.64 of the mass: p=0.5 keeps 1, p=0.7 keeps 2, p=0.99 keeps 4
    expect(full[0]).toBeGreaterThan(0.6);
    expect(Array.from(processedProbs(logits, cfg({ topP: 0.5 })))).toEqual([1, 0, 0, 0]);
    const two = processedProbs(logits, cfg({ topP: 0.7 }));
    expect(two.filter((x) => x > 0).length).toBe(2);
    expect(processedProbs(logits, cfg({ topP: 0.99 })).filter((x) => x > 0).length).toBe(4);
  });

  it("top-k then top-p on the renormalised survivors", () => {
    // top-2 survivors have masses e/(1+e) ≈ 0.731 and 0.269: p = 0.72 keeps 1, 0.75 keeps 2
    expect(processedProbs(logits, cfg({ topK: 2, topP: 0.72 })).filter((x) => x > 0).length).toBe(1);
    expect(processedProbs(logits, cfg({ topK: 2, topP: 0.75 })).filter((x) => x > 0).length).toBe(2);
  });

  it("rejects temperature 0 and empty logits", () => {
    expect(() => processedProbs(logits, cfg({ temperature: 0 }))).toThrow(/temperature/);
    expect(() => processedProbs(new Float32Array(0), cfg())).toThrow(/empty/);
  });
});

describe("sampleToken", () => {
  const logits = Float32Array.of(1, 2, 0.5, 2.5);

  it("greedy is argmax with the raw logprob, and draws no random numbers", () => {
    let calls = 0;
    const rand = () => {
      calls++;
      return 0.5;
    };
    const s = sampleToken(logits, cfg({ temperature: 0 }), rand);
    expect(s.token).toBe(3);
    expect(s.logprob).toBeCloseTo(logSoftmax(logits)[3]!, 12);
    expect(s.samplerLogprob).toBe(0);
    expect(calls).toBe(0);
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const draw = (seed: number) => {
      const rand = mulberry32(seed);
      return Array.from({ length: 40 }, () => sampleToken(logits, cfg(), rand).token);
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it("matches the processed distribution empirically", () => {
    const c = cfg({ temperature: 0.8, topK: 3 });
    const want = processedProbs(logits, c);
    const got = frequencies(logits, c, 20000);
    for (let i = 0; i < 4; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(0.015);
    expect(got[2]).toBe(0); // outside the top 3
  });

  it("returns the raw policy logprob and the sampler's own logprob", () => {
    const c = cfg({ temperature: 0.5, topP: 0.9 });
    const rand = mulberry32(3);
    const raw = logSoftmax(logits);
    const proc = processedProbs(logits, c);
    for (let i = 0; i < 20; i++) {
      const s = sampleToken(logits, c, rand);
      expect(proc[s.token]).toBeGreaterThan(0);
      expect(s.logprob).toBeCloseTo(raw[s.token]!, 12);
      expect(s.samplerLogprob).toBeCloseTo(Math.log(proc[s.token]!), 12);
    }
  });

  it("a rand() at the top of the range still picks a kept token", () => {
    const s = sampleToken(logits, cfg({ topK: 2 }), () => 0.9999999999999999);
    expect([1, 3]).toContain(s.token);
  });
});
