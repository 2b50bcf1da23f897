import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promptFromItem } from "../../src/data/task-encoding.ts";
import { buildSuite } from "../../src/data/tasks/suite.ts";
import { loadCheckpointDir } from "../../src/model/checkpoint.ts";
import { type GlmvConfig, presetConfig } from "../../src/model/config.ts";
import { expectedTensors } from "../../src/model/config-tensors.ts";
import { moeLayerIndices } from "../../src/model/moe-balance.ts";
import { initParams, type MoeLayerParams, paramsToNamed } from "../../src/model/params.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { LocalPolicy } from "../../src/rl/engines/local/local-policy.ts";
import { createLocalEngine } from "../../src/rl/job/local-engine.ts";
import { runMainJob } from "../../src/rl/job/main-job.ts";
import { parseRlConfig } from "../../src/rl/loop/config.ts";
import type {
  PolicyPrompt,
  Rollout,
  RolloutParams,
  UpdateBatch,
  UpdateParams,
} from "../../src/rl/loop/policy.ts";
import type { StepMetrics } from "../../src/rl/loop/trainer.ts";
import { initTensorEngine } from "../../src/tensor/engine.ts";

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

describe("LocalPolicy.sequenceLogprobs", () => {
  it("scores a batch spread over several packed calls exactly as each sequence alone", async () => {
    // 2 images per row and 2 rows per call: 6 sequences take 3 rows, so 2 calls, the second padded
    const policy = new LocalPolicy(cfg, initParams(cfg, 2), tok, {
      ...SETTINGS,
      imagesPerRow: 2,
      rowsPerCall: 2,
    });
    try {
      const seqs = [...prompts, ...prompts].map((prompt, i) => ({
        prompt,
        rollout: { tokens: tok.encode(`<think>${i} dots.</think>`).slice(0, 3 + i) },
      }));
      const together = await policy.sequenceLogprobs(seqs);
      expect(together.map((lp) => lp.length)).toEqual(seqs.map((q) => q.rollout.tokens.length));
      for (const [i, q] of seqs.entries()) {
        const [alone] = await policy.sequenceLogprobs([q]);
        for (const [j, lp] of alone!.entries()) expect(together[i]![j]).toBeCloseTo(lp, 4);
        expect(alone!.every((lp) => lp < 0 && Number.isFinite(lp))).toBe(true);
      }
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
        microBatches: [[0]],
      };
      const m = await policy.update(batch, UPDATE);
      expect(m.tokens).toBe(0);
      expect(m.gradNorm).toBe(0);
      expect(paramsToNamed(policy.params).get("lm_head.weight")!.data).toEqual(before);
    } finally {
      policy.dispose();
    }
  });

  it("raises a positive-advantage sample's logprob and lowers a negative one (two micro-batches, packed)", async () => {
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
        { samples, microBatches: [[0, 2], [1]] },
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
        { samples: [{ prompt: prompts[0]!, rollout: r, advantage: 1 }], microBatches: [[0]] },
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
        { samples: [{ prompt: prompts[0]!, rollout: r, advantage: 1 }], microBatches: [[0]] },
        UPDATE,
      );
      await b.update(
        { samples: [{ prompt: prompts[0]!, rollout: r, advantage: 1 }], microBatches: [[0]] },
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

describe("LocalPolicy on tiny-moe (GLM-4.5V layout)", () => {
  const moeCfg = () => presetConfig("tiny-moe");
  const biases = (policy: LocalPolicy) =>
    moeLayerIndices(policy.cfg).map((l) =>
      Array.from(
        (policy.params.text.layers[l] as MoeLayerParams).correctionBias.ref.dataSync() as Float32Array,
      ),
    );
  const samplesFor = async (policy: LocalPolicy) => {
    const good = tok.encode("<think>4 dots.</think><answer><|begin_of_box|>4<|end_of_box|></answer>");
    const bad = tok.encode("<think>zz q</think><answer>qq</answer>");
    const none = (t: number[]) => t.map(() => false);
    return [
      { prompt: prompts[0]!, rollout: await rolloutOf(policy, prompts[0]!, good, none(good)), advantage: 1 },
      { prompt: prompts[1]!, rollout: await rolloutOf(policy, prompts[1]!, bad, none(bad)), advantage: -1 },
      { prompt: prompts[2]!, rollout: await rolloutOf(policy, prompts[2]!, good, none(good)), advantage: 1 },
    ];
  };

  it("an update returns per-layer expert load and moves the correction bias by u·sign(mean − load)", async () => {
    const u = 1e-2;
    const c = moeCfg();
    const policy = new LocalPolicy(c, initParams(c, 4), tok, {
      ...SETTINGS,
      moeBalance: { biasUpdateRate: u },
    });
    try {
      const samples = await samplesFor(policy);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const before = (await policy.sequenceLogprobs(samples)).map(sum);
      // one pass: the bias moves once, from zero, so every entry is exactly −u, 0 or +u
      const m = await policy.update({ samples, microBatches: [[0, 2], [1]] }, { ...UPDATE, lr: 3e-3 });
      expect(m.expertLoad!.map((s) => s.layer)).toEqual([1, 2]);
      const after = (await policy.sequenceLogprobs(samples)).map(sum);
      expect(after[0]!).toBeGreaterThan(before[0]!);
      expect(after[1]!).toBeLessThan(before[1]!);
      for (const [j, b] of biases(policy).entries()) {
        expect(m.expertLoad![j]!.maxOverMean).toBeGreaterThan(1); // an untrained router is never exactly even
        for (const v of b) expect([-u, 0, u].some((x) => Math.abs(v - x) < 1e-7)).toBe(true);
        // the most loaded expert(s) lost u, some under-loaded expert gained it
        expect(b.some((v) => v < 0)).toBe(true);
        expect(b.some((v) => v > 0)).toBe(true);
      }
      // a second update with two passes moves it twice more
      const m2 = await policy.update(
        { samples, microBatches: [[0, 1, 2]] },
        { ...UPDATE, lr: 3e-3, passes: 2 },
      );
      expect(m2.expertLoad).toHaveLength(2);
      for (const b of biases(policy)) expect(Math.max(...b.map(Math.abs))).toBeGreaterThan(u * 1.5);
    } finally {
      policy.dispose();
    }
  }, 60_000);

  it("u = 0 freezes the bias (load is still reported)", async () => {
    const c = moeCfg();
    const policy = new LocalPolicy(c, initParams(c, 4), tok, {
      ...SETTINGS,
      moeBalance: { biasUpdateRate: 0 },
    });
    try {
      const samples = await samplesFor(policy);
      const m = await policy.update({ samples, microBatches: [[0, 1, 2]] }, UPDATE);
      expect(m.expertLoad).toHaveLength(2);
      expect(
        biases(policy)
          .flat()
          .every((v) => v === 0),
      ).toBe(true);
    } finally {
      policy.dispose();
    }
  }, 60_000);
});

describe("glmv rl on tiny-moe (local engine)", () => {
  it("runs SFT and two RL steps; every metrics.jsonl line carries per-layer expert load", async () => {
    const outDir = join(mkdtempSync(join(tmpdir(), "glmv-moe-rl-")), "run");
    dirs.push(join(outDir, ".."));
    const config = parseRlConfig({
      model: "tiny-moe",
      batchSize: 8,
      control: false,
      data: { families: ["counting"], trainPerFamily: 12, heldoutItems: 4 },
      sft: { steps: 2, warmupSteps: 1 },
      rl: {
        steps: 2,
        batchPrompts: 2,
        groupSize: 4,
        maxNewTokens: 10,
        thinkBudget: 6,
        evalEvery: 0,
        checkpointEvery: 1,
        refillRounds: 0,
        packContext: 128,
      },
    });
    const summary = await runMainJob({ outDir, config, engine: await createLocalEngine(config) });
    expect(summary.rl.steps).toBe(2);
    const lines = readFileSync(join(outDir, "metrics.jsonl"), "utf8").trim().split("\n");
    const metrics = lines.map((l) => JSON.parse(l) as StepMetrics);
    expect(metrics.map((m) => m.step)).toEqual([1, 2]);
    for (const m of metrics) {
      expect(m.expertLoad!.map((s) => s.layer)).toEqual([1, 2]);
      for (const s of m.expertLoad!) {
        expect(s.maxOverMean).toBeGreaterThanOrEqual(1);
        expect(s.idleExperts).toBeGreaterThanOrEqual(0);
      }
    }
    // the SFT checkpoint is a glm4v_moe one with a trained (non-zero) router bias
    const moe = presetConfig("tiny-moe");
    const { tensors } = await loadCheckpointDir(join(outDir, "sft"), expectedTensors(moe));
    const bias = tensors.get("model.language_model.layers.1.mlp.gate.e_score_correction_bias")!;
    expect(Array.from(bias.data).some((v) => v !== 0)).toBe(true);

    // moeBalance.biasUpdateRate 0 in the run config freezes the router bias
    const frozenDir = join(outDir, "..", "frozen");
    const frozen = parseRlConfig({
      ...config,
      moeBalance: { biasUpdateRate: 0 },
      rl: { ...config.rl, steps: 0 },
    });
    await runMainJob({ outDir: frozenDir, config: frozen, engine: await createLocalEngine(frozen) });
    const after = await loadCheckpointDir(join(frozenDir, "sft"), expectedTensors(moe));
    const still = after.tensors.get("model.language_model.layers.1.mlp.gate.e_score_correction_bias")!;
    expect(Array.from(still.data).every((v) => v === 0)).toBe(true);
  }, 180_000);
});
