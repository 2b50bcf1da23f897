import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { presetBackend } from "../../src/cli/serve-trainer.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { TinkerClient, type TinkerTransport } from "../../src/rl/engines/tinker/tinker-client.ts";
import { TinkerPolicy } from "../../src/rl/engines/tinker/tinker-policy.ts";
import type {
  PolicyPrompt,
  Rollout,
  RolloutParams,
  UpdateBatch,
  UpdateParams,
} from "../../src/rl/loop/policy.ts";
import { createTrainerApp, type TrainerApp } from "../../src/serve/trainer-server.ts";
import { spawnGlmvServer } from "../helpers/spawn-glmv.ts";

let tok: GlmvTokenizer;
beforeAll(async () => {
  tok = await loadTinyTokenizer();
});

const IMAGE = { data: new Uint8Array(28 * 28 * 3).fill(90), width: 28, height: 28, channels: 3 };
const prompts: PolicyPrompt[] = ["1+2", "3+4", "5+1"].map((q, i) => ({
  id: `p${i}`,
  images: [IMAGE],
  messages: [{ role: "user", content: [{ type: "image" }, { type: "text", text: q }] }],
}));
const GEN: RolloutParams = {
  n: 4,
  temperature: 1,
  topP: 1,
  maxNewTokens: 10,
  thinkBudget: 10,
  style: "4.1v",
  seed: 11,
};
const UPD: UpdateParams = { lr: 0.05, passes: 2, clipLow: 0.2, clipHigh: 0.28, aggregation: "sample" };

/** An in-process server reached through `app.request` (no socket), optionally recording every call. */
async function inProcess(record?: { path: string; body: unknown }[], checkpointRoot?: string) {
  const app = createTrainerApp({
    backend: await presetBackend("bigram"),
    pollWaitMs: 5,
    ...(checkpointRoot ? { checkpointRoot } : {}),
  });
  const transport: TinkerTransport = (method, path, body) => {
    record?.push({ path, body });
    return app.request(method, path, body);
  };
  return { app, client: new TinkerClient({ transport, pollIntervalMs: 1 }) };
}

const newPolicy = (client: TinkerClient) =>
  TinkerPolicy.create({ client, tokenizer: tok, baseModel: "glmv-bigram", seed: 7 });

/** How often `target` was sampled (injected tokens do not count). */
const countOf = (target: number) => (r: Rollout) =>
  r.tokens.filter((t, k) => t === target && !r.injected[k]).length;

/** A GRPO-shaped batch: advantage = reward − group mean. */
function batchOf(groups: Rollout[][], reward: (r: Rollout) => number): UpdateBatch {
  const samples = groups.flatMap((g, i) => {
    const rewards = g.map(reward);
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    return g.map((rollout, j) => ({ prompt: prompts[i]!, rollout, advantage: rewards[j]! - mean }));
  });
  const idx = samples.map((_, i) => i);
  return { samples, microBatches: [idx.filter((i) => i % 2 === 0), idx.filter((i) => i % 2 === 1)] };
}

describe("TinkerPolicy: generate", () => {
  it("renders, tokenizes and samples G rollouts per prompt, deterministically by seed", async () => {
    const { client } = await inProcess();
    const policy = await newPolicy(client);
    const groups = await policy.generate(prompts, GEN);
    expect(groups.map((g) => g.length)).toEqual([4, 4, 4]);
    const r = groups[1]![2]!;
    expect(r.promptId).toBe("p1");
    expect(r.logprobs).toHaveLength(r.tokens.length);
    expect(r.injected.every((x) => !x)).toBe(true);
    expect(r.text).toBe(tok.decode(r.tokens));
    // GLM-V's processor smart-resizes 28×28 up to 84×84 (min pixels): 3·3 = 9 image tokens, plus the text tokens
    const text = tok.encode("[gMASK]<sop><|user|>\n<|begin_of_image|><|end_of_image|>3+4<|assistant|>\n");
    expect(r.promptTokens).toBe(text.length + 9);
    expect(await policy.generate(prompts, GEN)).toEqual(groups);
    expect(await policy.generate(prompts, { ...GEN, seed: 12 })).not.toEqual(groups);
  });

  it("force-answers: after the think budget it injects </think><answer> and continues", async () => {
    const { client } = await inProcess();
    const policy = await newPolicy(client);
    const s = tok.special;
    const groups = await policy.generate(prompts, { ...GEN, thinkBudget: 3, maxNewTokens: 12 });
    let forced = 0;
    for (const r of groups.flat()) {
      const head = r.tokens.slice(0, 3);
      const stoppedEarly = [s.endOfText, s.user, s.observation].some((t) => head.includes(t));
      const drewMedia = head.some((t) => t >= s.beginImage && t <= s.video); // never continued (tested below)
      if (stoppedEarly || drewMedia || head.includes(s.thinkEnd)) continue;
      forced++;
      expect(r.tokens.slice(3, 5)).toEqual([s.thinkEnd, s.answerStart]);
      expect(r.injected.slice(0, 6)).toEqual([false, false, false, true, true, false]);
      expect(r.logprobs.slice(3, 5)).toEqual([0, 0]);
      expect(r.tokens.length).toBeLessThanOrEqual(12);
    }
    expect(forced).toBeGreaterThan(6);
  });
});

describe("TinkerPolicy: media placeholders in samples", () => {
  it("does not force-answer a sample that drew a media placeholder (its continuation prompt could not be laid out)", async () => {
    const { client } = await inProcess();
    const policy = await newPolicy(client);
    const sp = tok.special;
    const media = new Set([sp.image, sp.video, sp.beginImage, sp.endImage, sp.beginVideo, sp.endVideo]);
    const groups = await policy.generate(prompts, { ...GEN, n: 8, thinkBudget: 4, maxNewTokens: 10 });
    const drew = groups.flat().filter((r) => r.tokens.slice(0, 4).some((t) => media.has(t)));
    expect(drew.length).toBeGreaterThan(0); // the untrained bigram model samples them now and then
    for (const r of drew) {
      expect(r.injected.some(Boolean)).toBe(false);
      expect(r.tokens.length).toBeLessThanOrEqual(4);
    }
  });
});

describe("TinkerPolicy: update", () => {
  it("sends next-token-aligned datums: prompt and injected tokens weigh 0, ppo with clip-higher thresholds", async () => {
    const calls: { path: string; body: unknown }[] = [];
    const { client } = await inProcess(calls);
    const policy = await newPolicy(client);
    const groups = await policy.generate(prompts.slice(0, 1), { ...GEN, thinkBudget: 2, maxNewTokens: 8 });
    const batch = batchOf(groups, (r) => r.tokens[0]!); // any reward that differs within a group
    const metrics = await policy.update(batch, UPD);
    const fbs = calls
      .filter((c) => c.path.endsWith("/forward_backward"))
      .map((c) => c.body as never as FbBody);
    expect(fbs).toHaveLength(4); // 2 micro-batches × 2 passes
    expect(calls.filter((c) => c.path.endsWith("/optim_step"))).toHaveLength(2);
    expect(fbs[0]!.forward_backward_input.loss_fn).toBe("ppo");
    expect(fbs[0]!.forward_backward_input.loss_fn_config).toEqual({
      clip_low_threshold: 0.8,
      clip_high_threshold: 1.28,
    });
    const sample = batch.samples[0]!;
    const datum = fbs[0]!.forward_backward_input.data[0]!;
    const promptLen = sample.rollout.promptTokens;
    const L = promptLen + sample.rollout.tokens.length - 1;
    const inputs = datum.loss_fn_inputs;
    for (const t of ["target_tokens", "weights", "logprobs", "advantages"])
      expect(inputs[t]!.data).toHaveLength(L);
    expect(inputs.target_tokens!.data.slice(promptLen - 1)).toEqual(sample.rollout.tokens);
    expect(inputs.weights!.data.slice(0, promptLen - 1).every((w) => w === 0)).toBe(true);
    const trained = sample.rollout.injected.filter((x) => !x).length;
    sample.rollout.injected.forEach((inj, k) => {
      expect(inputs.weights!.data[promptLen - 1 + k]).toBeCloseTo(
        inj ? 0 : 1 / (trained * batch.samples.length),
        12,
      );
    });
    expect(inputs.logprobs!.data.slice(promptLen - 1)).toEqual(sample.rollout.logprobs);
    expect(metrics.tokens).toBe(
      batch.samples.reduce((a, x) => a + x.rollout.injected.filter((i) => !i).length, 0),
    );
    expect(metrics).toMatchObject({ microSteps: 4 });
    expect(metrics.gradNorm).toBeGreaterThan(0);
    expect(metrics.clipFraction).toBeGreaterThanOrEqual(0);
    expect(metrics.clipFraction).toBeLessThanOrEqual(1);
    expect(Number.isFinite(metrics.loss)).toBe(true);
  });

  it("RL through the API raises the reward: a rewarded token becomes more frequent", async () => {
    const { client } = await inProcess();
    const policy = await newPolicy(client);
    const target = tok.encode("7")[0]!;
    const freq = (groups: Rollout[][]) => {
      const all = groups.flat();
      return all.reduce((a, r) => a + r.tokens.filter((t) => t === target).length, 0) / all.length;
    };
    const params = { ...GEN, n: 8 };
    const before = freq(await policy.generate(prompts, { ...params, seed: 1000 }));
    for (let step = 0; step < 15; step++) {
      const groups = await policy.generate(prompts, { ...params, seed: step });
      await policy.update(batchOf(groups, countOf(target)), { ...UPD, lr: 0.3 });
    }
    const after = freq(await policy.generate(prompts, { ...params, seed: 1000 }));
    expect(after).toBeGreaterThan(0.4); // measured: 0.04 → 0.71 occurrences per rollout
    expect(after).toBeGreaterThan(5 * before);
  });
});

describe("TinkerPolicy: supervised steps and cut rollouts", () => {
  it("teacher-forces with cross_entropy on response tokens only; the learned answer is then sampled greedily", async () => {
    const calls: { path: string; body: unknown }[] = [];
    const { client } = await inProcess(calls);
    const policy = await newPolicy(client);
    // distinct tokens: a bigram model can then reproduce the sequence exactly
    const response = tok.encode("<think>so</think><answer>7</answer>");
    const greedy = {
      ...GEN,
      n: 1,
      temperature: 0,
      maxNewTokens: response.length,
      thinkBudget: response.length,
    };
    const before = (await policy.generate(prompts.slice(0, 1), greedy))[0]![0]!;
    expect(before.tokens).not.toEqual(response);
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      const r = await policy.supervisedStep([{ prompt: prompts[0]!, response }], { lr: 0.3, style: "4.1v" });
      expect(r.tokens).toBe(response.length);
      losses.push(r.loss);
    }
    expect(losses.at(-1)!).toBeLessThan(0.2 * losses[0]!);
    const fb = calls.find((c) => c.path.endsWith("/forward_backward"))!.body as FbBody;
    expect(fb.forward_backward_input.loss_fn).toBe("cross_entropy");
    const w = fb.forward_backward_input.data[0]!.loss_fn_inputs.weights!.data;
    const promptLen = before.promptTokens;
    expect(w.slice(0, promptLen - 1).every((x) => x === 0)).toBe(true);
    expect(w.slice(promptLen - 1).every((x) => Math.abs(x - 1 / response.length) < 1e-12)).toBe(true);
    // the weights were published before sampling: greedy decoding now gives the taught response
    const after = (await policy.generate(prompts.slice(0, 1), greedy))[0]![0]!;
    expect(after.tokens).toEqual(response);
  });

  it("an update skips rollouts cut to no tokens (they keep their share of the aggregation)", async () => {
    const calls: { path: string; body: unknown }[] = [];
    const { client } = await inProcess(calls);
    const policy = await newPolicy(client);
    const groups = await policy.generate(prompts.slice(0, 1), GEN);
    const batch = batchOf(groups, (r) => r.tokens[0]!);
    const first = batch.samples[0]!;
    batch.samples[0] = { ...first, rollout: { ...first.rollout, tokens: [], logprobs: [], injected: [] } };
    const metrics = await policy.update(batch, { ...UPD, passes: 1 });
    const sent = calls
      .filter((c) => c.path.endsWith("/forward_backward"))
      .reduce((a, c) => a + (c.body as FbBody).forward_backward_input.data.length, 0);
    expect(sent).toBe(batch.samples.length - 1);
    expect(metrics.gradNorm).toBeGreaterThan(0);
  });
});

type FbBody = {
  forward_backward_input: {
    loss_fn: string;
    loss_fn_config?: Record<string, number>;
    data: { loss_fn_inputs: Record<string, { data: number[] }> }[];
  };
};

describe("TinkerPolicy across two processes (glmv serve trainer)", () => {
  let child: ChildProcess;
  let url = "";
  /** The two servers' checkpoint roots (the paths sent are relative to them). */
  let localRoot = "";
  let httpRoot = "";
  beforeAll(async () => {
    localRoot = mkdtempSync(join(tmpdir(), "glmv-tinker-local-"));
    httpRoot = mkdtempSync(join(tmpdir(), "glmv-tinker-http-"));
    ({ child, url } = await spawnGlmvServer(
      [
        "serve",
        "trainer",
        "--preset",
        "bigram",
        "--port",
        "0",
        "--poll-wait-ms",
        "5",
        "--checkpoint-root",
        httpRoot,
      ],
      "ignore",
    ));
  }, 60_000);
  afterAll(() => {
    child?.kill("SIGTERM");
    for (const d of [localRoot, httpRoot]) if (d) rmSync(d, { recursive: true, force: true });
  });

  /** generate → update → generate → update → save → generate → load → generate: rollouts and metrics. */
  async function scenario(client: TinkerClient, dir: string) {
    const policy = await newPolicy(client);
    const target = tok.encode("3")[0]!;
    const out: unknown[] = [];
    for (let step = 0; step < 2; step++) {
      const groups = await policy.generate(prompts, { ...GEN, thinkBudget: 6, seed: step });
      const { seconds: _, ...metrics } = await policy.update(batchOf(groups, countOf(target)), UPD);
      out.push(groups, metrics);
    }
    await policy.save(dir);
    const saved = await policy.generate(prompts, { ...GEN, seed: 99 });
    await policy.update(batchOf(saved, countOf(target)), UPD);
    await policy.load(dir);
    out.push(saved, await policy.generate(prompts, { ...GEN, seed: 99 }));
    await policy.dispose();
    return out;
  }

  it("reaches the same rollouts and metrics as the in-process server", async () => {
    const local = await inProcess(undefined, localRoot);
    const viaLocal = await scenario(local.client, "run/ckpt");
    const viaHttp = await scenario(new TinkerClient({ url, pollIntervalMs: 2 }), "run/ckpt");
    expect(viaHttp).toEqual(viaLocal);
    expect(viaLocal[4]).toEqual(viaLocal[5]); // after load, sampling matches sampling at save time
    // each server wrote under its own root, at the relative path the client sent
    for (const root of [localRoot, httpRoot]) expect(existsSync(join(root, "run", "ckpt"))).toBe(true);
    await (local.app as TrainerApp).close();
  }, 60_000);
});
