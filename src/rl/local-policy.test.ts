import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSuite } from "../data/tasks/suite.ts";
import { loadCheckpointDir } from "../model/checkpoint.ts";
import { expectedTensors, type GlmvConfig, presetConfig } from "../model/config.ts";
import { initParams, paramsToNamed } from "../model/params.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../model/tokenizer.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { promptFromItem } from "./encode.ts";
import { LocalPolicy, splitByImages } from "./local-policy.ts";
import type { PolicyPrompt, Rollout, RolloutParams, UpdateBatch, UpdateParams } from "./policy.ts";

let cfg: GlmvConfig;
let tok: GlmvTokenizer;
let prompts: PolicyPrompt[];
const dirs: string[] = [];

const ROLLOUT: RolloutParams = {
  n: 2,
  temperature: 1,
  topP: 1,
  maxNewTokens: 10,
  thinkBudget: 4,
  style: "4.1v",
  seed: 11,
};
const UPDATE: UpdateParams = { lr: 1e-2, passes: 1, clipLow: 0.2, clipHigh: 0.28, aggregation: "sample" };
const SETTINGS = { batchSize: 4, promptLen: 40, context: 128, imagesPerRow: 4 };

const newPolicy = (weightDecay = 0.01) =>
  new LocalPolicy(cfg, initParams(cfg, 2), tok, { ...SETTINGS, adamw: { weightDecay } });

beforeAll(async () => {
  await initTensorEngine();
  cfg = presetConfig("tiny");
  tok = await loadTinyTokenizer();
  prompts = buildSuite({
    seed: 2,
    perFamily: 1,
    families: ["counting", "math", "chart"],
    split: "train",
  }).map(promptFromItem);
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("LocalPolicy.generate", () => {
  it("returns n rollouts per prompt in order, force-answering marked as injected", async () => {
    const policy = newPolicy();
    try {
      const groups = await policy.generate(prompts, ROLLOUT);
      expect(groups.map((g) => g.length)).toEqual([2, 2, 2]);
      for (const [i, g] of groups.entries())
        for (const r of g) {
          expect(r.promptId).toBe(prompts[i]!.id);
          expect(r.tokens.length).toBe(r.logprobs.length);
          expect(r.tokens.length).toBeLessThanOrEqual(10);
          expect(r.promptTokens).toBeGreaterThan(20);
        }
      // an untrained model never closes </think> by itself within 4 tokens: the 5th and 6th are forced
      const unfinished = groups.flat().filter((r) => !r.tokens.slice(0, 4).includes(tok.special.thinkEnd));
      expect(unfinished.length).toBeGreaterThan(0);
      for (const r of unfinished) {
        expect(r.injected.slice(4, 6)).toEqual([true, true]);
        expect(r.tokens.slice(4, 6)).toEqual([tok.special.thinkEnd, tok.special.answerStart]);
        expect(r.logprobs[4]).toBe(0);
        expect(r.text).toContain("</think><answer>");
      }
      // the update path (packed rows) scores the sampled tokens as the generator did
      const flat = groups.flatMap((g, i) => g.map((r) => ({ prompt: prompts[i]!, rollout: r })));
      const rescored = await policy.sequenceLogprobs(flat);
      let worst = 0;
      for (const [k, { rollout }] of flat.entries())
        for (const [j, lp] of rollout.logprobs.entries())
          if (!rollout.injected[j]) worst = Math.max(worst, Math.abs(lp - rescored[k]![j]!));
      expect(worst).toBeLessThan(1e-3);
      // same seed → same samples
      const again = await policy.generate(prompts, ROLLOUT);
      expect(again.map((g) => g.map((r) => r.tokens))).toEqual(groups.map((g) => g.map((r) => r.tokens)));
    } finally {
      policy.dispose();
    }
  });
});

/** A rollout of `tokens` with sampler logprobs equal to the current policy's. */
async function rolloutOf(policy: LocalPolicy, prompt: PolicyPrompt, tokens: number[], injected: boolean[]) {
  const [lp] = await policy.sequenceLogprobs([{ prompt, rollout: { tokens } }]);
  const r: Rollout = {
    promptId: prompt.id,
    tokens,
    logprobs: lp!.map((x, i) => (injected[i] ? 0 : x)),
    injected,
    text: tok.decode(tokens),
    finished: false,
    promptTokens: 0,
  };
  return r;
}

describe("LocalPolicy.update", () => {
  it("gives injected tokens no gradient: an all-injected batch leaves the weights unchanged", async () => {
    const policy = newPolicy(0); // no weight decay, so only gradients could move the weights
    try {
      const before = paramsToNamed(policy.params).get("lm_head.weight")!.data.slice();
      const tokens = tok.encode("<think>ab</think>");
      const r = await rolloutOf(
        policy,
        prompts[0]!,
        tokens,
        tokens.map(() => true),
      );
      const batch: UpdateBatch = {
        samples: [{ prompt: prompts[0]!, rollout: r, advantage: 1 }],
        ranks: [[[0]]],
      };
      const m = await policy.update(batch, UPDATE);
      expect(m.tokens).toBe(0);
      expect(m.gradNorm).toBe(0);
      expect(paramsToNamed(policy.params).get("lm_head.weight")!.data).toEqual(before);
    } finally {
      policy.dispose();
    }
  });

  it("raises a positive-advantage sample's logprob and lowers a negative one (two ranks, packed)", async () => {
    const policy = newPolicy();
    try {
      const good = tok.encode("<think>4 dots.</think><answer><|begin_of_box|>4<|end_of_box|></answer>");
      const bad = tok.encode("<think>zz q</think><answer>qq</answer>");
      const injectedAt = (t: number[]) => t.map((id) => id === tok.special.answerStart);
      const samples = [
        {
          prompt: prompts[0]!,
          rollout: await rolloutOf(policy, prompts[0]!, good, injectedAt(good)),
          advantage: 1,
        },
        {
          prompt: prompts[1]!,
          rollout: await rolloutOf(policy, prompts[1]!, bad, injectedAt(bad)),
          advantage: -1,
        },
        {
          prompt: prompts[2]!,
          rollout: await rolloutOf(policy, prompts[2]!, good, injectedAt(good)),
          advantage: 1,
        },
      ];
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const before = (await policy.sequenceLogprobs(samples)).map(sum);
      const m = await policy.update(
        { samples, ranks: [[[0, 2]], [[1]]] },
        { ...UPDATE, lr: 3e-3, passes: 2 },
      );
      const after = (await policy.sequenceLogprobs(samples)).map(sum);
      expect(m.microSteps).toBe(4);
      expect(m.tokens).toBe(good.length - 1 + bad.length - 1 + good.length - 1);
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.gradNorm).toBeGreaterThan(0);
      expect(after[0]!).toBeGreaterThan(before[0]! + 0.5);
      expect(after[1]!).toBeLessThan(before[1]! - 0.5);
      expect(after[2]!).toBeGreaterThan(before[2]!);
    } finally {
      policy.dispose();
    }
  });
});

describe("splitByImages", () => {
  it("cuts a micro-batch so no row holds more images than its slots", () => {
    expect(splitByImages([0, 1, 2, 3, 4], () => 1, 2)).toEqual([[0, 1], [2, 3], [4]]);
    expect(splitByImages([0, 1, 2], (i) => (i === 1 ? 0 : 1), 1)).toEqual([[0, 1], [2]]);
    expect(splitByImages([], () => 1, 2)).toEqual([]);
    expect(() => splitByImages([0], () => 3, 2)).toThrow(/more than 2/);
  });
});

describe("LocalPolicy.save / load", () => {
  it("writes a checkpoint folder with optimizer.safetensors and loads it back to the same logprobs", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "glmv-policy-")), "ckpt");
    dirs.push(join(dir, ".."));
    const a = newPolicy();
    const b = new LocalPolicy(cfg, initParams(cfg, 99), tok, SETTINGS);
    try {
      const tokens = tok.encode("<think>x</think>");
      const r = await rolloutOf(
        a,
        prompts[0]!,
        tokens,
        tokens.map(() => false),
      );
      await a.update(
        { samples: [{ prompt: prompts[0]!, rollout: r, advantage: 1 }], ranks: [[[0]]] },
        UPDATE,
      );
      await a.save(dir);
      expect(existsSync(join(dir, "optimizer.safetensors"))).toBe(true);
      const { tensors } = await loadCheckpointDir(dir, expectedTensors(cfg));
      expect(tensors.size).toBe(expectedTensors(cfg).length);
      await b.load(dir);
      const seq = [{ prompt: prompts[0]!, rollout: { tokens } }];
      expect(await b.sequenceLogprobs(seq)).toEqual(await a.sequenceLogprobs(seq));
      // the optimiser state came back too: the same next update gives the same weights
      await a.update(
        { samples: [{ prompt: prompts[0]!, rollout: r, advantage: 1 }], ranks: [[[0]]] },
        UPDATE,
      );
      await b.update(
        { samples: [{ prompt: prompts[0]!, rollout: r, advantage: 1 }], ranks: [[[0]]] },
        UPDATE,
      );
      const w = (p: LocalPolicy) => paramsToNamed(p.params).get("lm_head.weight")!.data;
      expect(Array.from(w(b))).toEqual(Array.from(w(a)));
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
