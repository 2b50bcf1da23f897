import { tree } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../tensor/engine.ts";
import { totalRefCount } from "../tensor/own.ts";
import { type GlmvConfig, presetConfig } from "./config.ts";
import { createGenerator, type GenerateInputs, type Generator, leftPad } from "./generate.ts";
import { generateBatches } from "./generate-batches.fixture.ts";
import { buildInputs, forwardLogits } from "./model.ts";
import { type GlmvParams, initParams } from "./params.ts";
import { argmax, logSoftmax } from "./sampling.ts";

const PROMPT_LEN = 24;
const NEW = 8;

let cfg: GlmvConfig;
let params: GlmvParams;
let gen: Generator;
let textBatch: GenerateInputs;
let imageBatch: GenerateInputs;
let thinkEnd: number;
let answerStart: number;

beforeAll(async () => {
  await initTensorEngine();
  cfg = presetConfig("tiny");
  // a wider init than the 0.02 default spreads the logits, so greedy picks are not near-ties
  params = initParams(cfg, 3, 0.3);
  gen = createGenerator(cfg, { batchSize: 2, promptLen: PROMPT_LEN, maxNewTokens: NEW });
  ({ textBatch, imageBatch, thinkEnd, answerStart } = await generateBatches());
});

afterAll(() => {
  gen?.dispose();
  if (params) tree.dispose(params);
});

/** Greedy decoding by full recomputation: `forwardLogits` on the whole growing sequence, eager. */
function recomputeGreedy(batch: GenerateInputs, steps: number, forcedAt: Map<number, number> = new Map()) {
  const { tokens: seq, attention } = leftPad(batch.prompts, PROMPT_LEN, 0);
  const out = seq.map(() => [] as number[]);
  const logprobs = seq.map(() => [] as number[]);
  for (let step = 0; step < steps; step++) {
    const { inputs } = buildInputs(cfg, {
      tokens: seq,
      attentionMask: attention,
      ...(batch.imageGridThw ? { imageGridThw: batch.imageGridThw, pixels: batch.pixels! } : {}),
    });
    const logits = forwardLogits(tree.ref(params), inputs, cfg);
    const [b, s, v] = logits.shape as [number, number, number];
    const host = logits.dataSync() as Float32Array;
    for (let r = 0; r < b; r++) {
      const row = host.subarray((r * s + s - 1) * v, (r * s + s) * v);
      const forced = forcedAt.get(step);
      const next = forced ?? argmax(row);
      out[r]!.push(next);
      logprobs[r]!.push(forced === undefined ? logSoftmax(row)[next]! : 0);
      seq[r]!.push(next);
      attention[r]!.push(1);
    }
  }
  return { tokens: out, logprobs };
}

describe("createGenerator: greedy with the KV cache equals full recomputation", () => {
  it("text batch with left padding", async () => {
    const got = await gen.generate(params, textBatch, { temperature: 0 });
    const want = recomputeGreedy(textBatch, NEW);
    expect(got.tokens).toEqual(want.tokens);
    for (let r = 0; r < 2; r++)
      for (let i = 0; i < NEW; i++) expect(got.logprobs[r]![i]).toBeCloseTo(want.logprobs[r]![i]!, 3);
    expect(got.finished).toEqual([false, false]);
    expect(got.injected.flat().every((x) => !x)).toBe(true);
    expect(got.samplerLogprobs.flat().every((x) => x === 0)).toBe(true);
  });

  it("batch with an image (3-D positions, rope delta at decode)", async () => {
    const got = await gen.generate(params, imageBatch, { temperature: 0 });
    const want = recomputeGreedy(imageBatch, NEW);
    expect(got.tokens).toEqual(want.tokens);
    for (let i = 0; i < NEW; i++) expect(got.logprobs[0]![i]).toBeCloseTo(want.logprobs[0]![i]!, 3);
  });

  it("decode compiles once across batches; prefill once per prompt geometry", async () => {
    const before = gen.traces();
    await gen.generate(params, textBatch, { temperature: 1, seed: 4 });
    await gen.generate(params, imageBatch, { temperature: 1, seed: 5 });
    expect(gen.traces()).toEqual(before);
    expect(gen.traces().decode).toBe(1);
    expect(gen.traces().prefill).toBe(2); // text-only and with-image inputs
  });

  it("borrows params (refcounts unchanged)", async () => {
    const before = totalRefCount(params);
    await gen.generate(params, textBatch, { temperature: 0.7, topK: 5 });
    expect(totalRefCount(params)).toBe(before);
  });
});

describe("stop tokens and sampling", () => {
  it("a row stops at its first stop token, kept in the output", async () => {
    const free = await gen.generate(params, textBatch, { temperature: 0 });
    const stop = free.tokens[0]![2]!;
    const got = await gen.generate(params, textBatch, { temperature: 0, stopIds: [stop] });
    for (let r = 0; r < 2; r++) {
      const at = free.tokens[r]!.indexOf(stop);
      expect(got.tokens[r]).toEqual(at >= 0 ? free.tokens[r]!.slice(0, at + 1) : free.tokens[r]);
      expect(got.finished[r]).toBe(at >= 0);
    }
  });

  it("sampling is seeded per row: same seed same output, a row ignores its neighbours", async () => {
    const opts = { temperature: 1.5, seed: 11 };
    const a = await gen.generate(params, textBatch, opts);
    const b = await gen.generate(params, textBatch, opts);
    expect(a).toEqual(b);
    const other = { prompts: [textBatch.prompts[0]!, textBatch.prompts[0]!] };
    const c = await gen.generate(params, other, opts);
    expect(c.tokens[0]).toEqual(a.tokens[0]);
    const d = await gen.generate(params, textBatch, { ...opts, seed: 12 });
    expect(d.tokens).not.toEqual(a.tokens);
    // both logprobs are real log-probabilities; the sampler's differs from the policy's at T ≠ 1
    expect(a.logprobs.flat().every((x) => x < 0)).toBe(true);
    expect(a.samplerLogprobs.flat().some((x, i) => Math.abs(x - a.logprobs.flat()[i]!) > 1e-3)).toBe(true);
  });
});

describe("streaming and allowed vocabulary", () => {
  it("onToken sees every chosen token in order, with its injected flag", async () => {
    const seen: [number, number, boolean][] = [];
    const got = await gen.generate(
      params,
      textBatch,
      { temperature: 0, thinkBudget: 2, forceAnswer: { style: "4.5v", thinkEndId: thinkEnd } },
      (row, token, injected) => seen.push([row, token, injected]),
    );
    for (let r = 0; r < 2; r++) {
      const mine = seen.filter(([row]) => row === r);
      expect(mine.map(([, t]) => t)).toEqual(got.tokens[r]);
      expect(mine.map(([, , i]) => i)).toEqual(got.injected[r]);
    }
  });

  it("allowedVocab bounds the ids; logprobs stay full-vocabulary", async () => {
    const got = await gen.generate(params, textBatch, { temperature: 1, seed: 2, allowedVocab: 40 });
    expect(got.tokens.flat().every((t) => t < 40)).toBe(true);
    // T = 1, no filter: the sampler renormalises over ids < 40, so its logprob is ≥ the full-vocab one
    got.logprobs.flat().forEach((lp, i) => {
      expect(got.samplerLogprobs.flat()[i]!).toBeGreaterThanOrEqual(lp - 1e-9);
    });
    expect(got.samplerLogprobs.flat().some((x, i) => x > got.logprobs.flat()[i]! + 1e-3)).toBe(true);
  });

  it("bannedIds are never sampled, even the ones an unrestricted run draws", async () => {
    const free = await gen.generate(params, textBatch, { temperature: 1, seed: 5 });
    const banned = [...new Set(free.tokens.flat())].slice(0, 6);
    expect(banned.length).toBeGreaterThan(0);
    const got = await gen.generate(params, textBatch, { temperature: 1, seed: 5, bannedIds: banned });
    expect(got.tokens.flat().some((t) => banned.includes(t))).toBe(false);
    got.logprobs.flat().forEach((lp, i) => {
      expect(Number.isFinite(lp)).toBe(true);
      expect(got.samplerLogprobs.flat()[i]!).toBeGreaterThanOrEqual(lp - 1e-9);
    });
  });
});

describe("force-answering", () => {
  it("4.1V: injects </think><answer> after the budget, marked, logprob 0, then continues", async () => {
    const budget = 3;
    const got = await gen.generate(params, textBatch, {
      temperature: 0,
      thinkBudget: budget,
      forceAnswer: { style: "4.1v", thinkEndId: thinkEnd, answerStartId: answerStart },
    });
    const want = recomputeGreedy(
      textBatch,
      NEW,
      new Map([
        [budget, thinkEnd],
        [budget + 1, answerStart],
      ]),
    );
    expect(got.tokens).toEqual(want.tokens); // the injected tokens were fed back through the cache
    for (let r = 0; r < 2; r++) {
      expect(got.tokens[r]!.slice(budget, budget + 2)).toEqual([thinkEnd, answerStart]);
      expect(got.injected[r]).toEqual([false, false, false, true, true, false, false, false]);
      expect(got.logprobs[r]![budget]).toBe(0);
      expect(got.logprobs[r]![budget + 1]).toBe(0);
      expect(got.tokens[r]).toHaveLength(NEW);
    }
  });

  it("4.5V injects only </think>; budget 0 forces it first", async () => {
    const got = await gen.generate(params, textBatch, {
      temperature: 0,
      thinkBudget: 0,
      forceAnswer: { style: "4.5v", thinkEndId: thinkEnd },
    });
    for (let r = 0; r < 2; r++) {
      expect(got.tokens[r]![0]).toBe(thinkEnd);
      expect(got.injected[r]!.filter(Boolean)).toHaveLength(1);
      expect(got.injected[r]![0]).toBe(true);
    }
  });

  it("a row that closes its thinking itself is not forced", async () => {
    const free = await gen.generate(params, textBatch, { temperature: 0 });
    // pretend row 0's second token is </think>: it appears within the budget, so nothing is injected in row 0
    const ownEnd = free.tokens[0]![1]!;
    const got = await gen.generate(params, textBatch, {
      temperature: 0,
      thinkBudget: 4,
      forceAnswer: { style: "4.5v", thinkEndId: ownEnd },
    });
    expect(got.injected[0]!.some(Boolean)).toBe(false);
    expect(got.tokens[0]).toEqual(free.tokens[0]);
  });
});

describe("input checks", () => {
  it("rejects a wrong batch size, an over-long prompt, and a budget without force-answer ids", async () => {
    await expect(gen.generate(params, { prompts: [[1]] })).rejects.toThrow(/batch size/);
    await expect(gen.generate(params, { prompts: [[1], new Array(PROMPT_LEN + 1).fill(1)] })).rejects.toThrow(
      /prompt length/,
    );
    await expect(gen.generate(params, textBatch, { thinkBudget: 2 })).rejects.toThrow(/forceAnswer/);
    await expect(
      gen.generate(params, textBatch, {
        thinkBudget: 2,
        forceAnswer: { style: "4.1v", thinkEndId: thinkEnd },
      }),
    ).rejects.toThrow(/answerStartId/);
  });
});
