import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnGlmvServer } from "../../test/helpers/spawn-glmv.ts";
import { presetBackend } from "../cli/serve-trainer.ts";
import { promptFromItem } from "../data/task-encoding.ts";
import { sftTarget } from "../data/tasks/cot.ts";
import { buildSuite } from "../data/tasks/index.ts";
import { presetConfig } from "../model/config.ts";
import { initParams } from "../model/params.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../model/tokenizer.ts";
import { LocalPolicy } from "../rl/local-policy.ts";
import type { Rollout, RolloutParams, UpdateBatch } from "../rl/policy.ts";
import { TinkerClient } from "../rl/tinker-client.ts";
import { TinkerPolicy } from "../rl/tinker-policy.ts";
import type { Datum, ForwardBackwardOutput } from "../rl/tinker-protocol.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { presetImageTokens, tinyBackend } from "./tiny-backend.ts";
import { createTrainerApp } from "./trainer-server.ts";

let tok: GlmvTokenizer;
beforeAll(async () => {
  await initTensorEngine();
  tok = await loadTinyTokenizer();
});

const cfg = presetConfig("tiny");
const ITEMS = buildSuite({ seed: 3, perFamily: 2, split: "train", families: ["counting"] }).slice(0, 2);
const prompts = ITEMS.map(promptFromItem);
const GEN: RolloutParams = {
  n: 4,
  temperature: 1,
  topP: 1,
  maxNewTokens: 10,
  thinkBudget: 6,
  style: "4.1v",
  seed: 3,
};

/** An in-process trainer on the tiny backend (4 rows of 64 + 128 tokens) and a `TinkerPolicy` on it. */
async function smallTinyPolicy(seed: number) {
  const app = createTrainerApp({
    backend: tinyBackend({ cfg, tok, batchSize: 4, promptLen: 64, context: 128 }),
    pollWaitMs: 5,
  });
  const client = new TinkerClient({ transport: (m, p, b) => app.request(m, p, b), pollIntervalMs: 1 });
  const policy = await TinkerPolicy.create({
    client,
    tokenizer: tok,
    baseModel: "glmv-tiny",
    seed,
    imageTokens: presetImageTokens(cfg),
  });
  return { app, client, policy };
}

describe("tiny backend through TinkerPolicy", () => {
  it("samples with force-answering, and the training forward agrees with the sampler's logprobs; an update changes the policy", async () => {
    const app = createTrainerApp({
      backend: tinyBackend({ cfg, tok, batchSize: 4, promptLen: 64, context: 128 }),
      pollWaitMs: 5,
    });
    const replies: ForwardBackwardOutput[] = [];
    const client = new TinkerClient({
      pollIntervalMs: 1,
      transport: async (method, path, body) => {
        const reply = await app.request(method, path, body);
        const b = reply.body as { loss_fn_outputs?: unknown };
        if (path.endsWith("/retrieve_future") && b?.loss_fn_outputs) replies.push(b as ForwardBackwardOutput);
        return reply;
      },
    });
    const policy = await TinkerPolicy.create({
      client,
      tokenizer: tok,
      baseModel: "glmv-tiny",
      seed: 1,
      imageTokens: presetImageTokens(cfg),
    });
    const groups = await policy.generate(prompts, GEN);
    expect(groups.map((g) => g.length)).toEqual([4, 4]);
    const forced = groups.flat().filter((r) => r.injected.some(Boolean));
    expect(forced.length).toBeGreaterThan(0); // an untrained model rarely closes </think> within 6 tokens
    for (const r of forced) expect(r.tokens[6]).toBe(tok.special.thinkEnd);
    // media placeholders are never sampled (an untrained model would draw them: 6 of 116 ids)
    const sp = tok.special;
    expect(groups.flat().some((r) => r.tokens.some((t) => t >= sp.beginImage && t <= sp.video))).toBe(false);
    expect(await policy.generate(prompts, GEN)).toEqual(groups);

    const samples = groups.flatMap((g, i) =>
      g.map((rollout: Rollout, j) => ({ prompt: prompts[i]!, rollout, advantage: j % 2 === 0 ? 1 : -1 })),
    );
    const batch: UpdateBatch = { samples, ranks: [[samples.map((_, i) => i)]] };
    const metrics = await policy.update(batch, {
      lr: 1e-2,
      passes: 1,
      clipLow: 0.2,
      clipHigh: 0.28,
      aggregation: "sample",
    });
    expect(metrics.gradNorm).toBeGreaterThan(0);
    expect(metrics.clipFraction).toBe(0); // first pass on fresh samples: the ratio is 1
    // the packed training forward reproduces the generator's logprobs of every sampled token
    const out = replies[0]!.loss_fn_outputs;
    samples.forEach((s, k) => {
      const lps = out[k]!.logprobs.data.slice(s.rollout.promptTokens - 1);
      s.rollout.tokens.forEach((_, t) => {
        if (!s.rollout.injected[t]) expect(Math.abs(lps[t]! - s.rollout.logprobs[t]!)).toBeLessThan(2e-3);
      });
    });
    expect(await policy.generate(prompts, GEN)).not.toEqual(groups);
    await policy.dispose();
    await app.close();
  }, 120_000);
});

describe("tiny backend: greedy requests share batches", () => {
  it("answers greedy requests sent together exactly as each alone", async () => {
    const { app, policy } = await smallTinyPolicy(5);
    const greedy = { ...GEN, n: 1, temperature: 0 };
    const more = buildSuite({ seed: 4, perFamily: 3, split: "train", families: ["counting"] }).map(
      promptFromItem,
    );
    const all = [...prompts, ...more]; // 5 prompts: more than one batch of 4 rows
    const together = await policy.generate(all, greedy);
    const alone = [];
    for (const p of all) alone.push(...(await policy.generate([p], greedy)));
    expect(together).toEqual(alone);
    expect(new Set(together.map((g) => g[0]!.text)).size).toBeGreaterThan(1);
    await policy.dispose();
    await app.close();
  }, 120_000);
});

describe("tiny backend: cross_entropy", () => {
  it("teacher-forces the response (loss = −Σ w·logprob of the returned logprobs) and lowers it step by step", async () => {
    const app = createTrainerApp({
      backend: tinyBackend({ cfg, tok, batchSize: 4, promptLen: 64, context: 128 }),
      pollWaitMs: 5,
    });
    const replies: ForwardBackwardOutput[] = [];
    const sent: Datum[][] = [];
    const client = new TinkerClient({
      pollIntervalMs: 1,
      transport: async (method, path, body) => {
        if (path.endsWith("/forward_backward"))
          sent.push((body as { forward_backward_input: { data: Datum[] } }).forward_backward_input.data);
        const reply = await app.request(method, path, body);
        const b = reply.body as { loss_fn_outputs?: unknown };
        if (path.endsWith("/retrieve_future") && b?.loss_fn_outputs) replies.push(b as ForwardBackwardOutput);
        return reply;
      },
    });
    const policy = await TinkerPolicy.create({
      client,
      tokenizer: tok,
      baseModel: "glmv-tiny",
      seed: 4,
      imageTokens: presetImageTokens(cfg),
    });
    const examples = ITEMS.map((item, i) => ({
      prompt: prompts[i]!,
      response: [...tok.encode(sftTarget(item, "4.1v")), tok.special.endOfText],
    }));
    const losses: number[] = [];
    for (let step = 0; step < 4; step++)
      losses.push((await policy.supervisedStep(examples, { lr: 1e-2, style: "4.1v" })).loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.9);
    // the reported loss is the weighted negative log-likelihood of the logprobs the same pass returned
    const nll = sent[0]!.reduce((a, d, k) => {
      const w = d.loss_fn_inputs.weights!.data;
      const lp = replies[0]!.loss_fn_outputs[k]!.logprobs.data;
      return a - w.reduce((x, wi, p) => x + wi * lp[p]!, 0);
    }, 0);
    expect(Math.abs(nll - losses[0]!)).toBeLessThan(1e-3 * Math.abs(losses[0]!));
    await policy.dispose();
    await app.close();
  }, 120_000);
});

describe("tiny backend: prompt logprobs", () => {
  it("scores sequences as LocalPolicy.sequenceLogprobs does on the same weights; the one-token sample is the generator's", async () => {
    const { app, client, policy } = await smallTinyPolicy(6);
    const items = buildSuite({ seed: 5, perFamily: 6, split: "train", families: ["counting"] });
    const seqs = items.map((item) => ({
      prompt: promptFromItem(item),
      rollout: { tokens: [...tok.encode(sftTarget(item, "4.1v")), tok.special.endOfText] },
    }));
    // 6 sequences sent together share packed scoring calls on the server
    const remote = await policy.sequenceLogprobs(seqs, "4.1v");
    const local = new LocalPolicy(cfg, initParams(cfg, 6), tok, {
      context: 128,
      rowsPerCall: 2,
      imagesPerRow: 4,
    });
    const reference = await local.sequenceLogprobs(seqs);
    local.dispose();
    for (const [i, lps] of remote.entries()) {
      expect(lps).toHaveLength(seqs[i]!.rollout.tokens.length);
      for (const [j, lp] of lps.entries()) expect(Math.abs(lp - reference[i]![j]!)).toBeLessThan(1e-4);
    }

    // asking for prompt logprobs does not change what a one-token request samples
    const { sampling_session_id } = await client.saveWeightsForSampler(policy.modelId, {
      samplingSessionSeqId: 9,
    });
    const ask = (promptLogprobs: boolean) =>
      client.sample({
        prompt: {
          chunks: [{ type: "encoded_text", tokens: tok.encode("<|user|>how many dots?<|assistant|>") }],
        },
        numSamples: 6,
        params: { max_tokens: 1, temperature: 1, seed: 9 },
        samplingSessionId: sampling_session_id!,
        promptLogprobs,
      });
    const [plain, scored] = [await ask(false), await ask(true)];
    expect(scored.sequences.map((q) => q.tokens)).toEqual(plain.sequences.map((q) => q.tokens));
    expect(new Set(plain.sequences.map((q) => q.tokens[0])).size).toBeGreaterThan(1);
    for (const [k, q] of scored.sequences.entries())
      expect(Math.abs(q.logprobs![0]! - plain.sequences[k]!.logprobs![0]!)).toBeLessThan(1e-4);
    await policy.dispose();
    await app.close();
  }, 120_000);
});

describe("glmv serve trainer --preset tiny in a child process", () => {
  let child: ChildProcess;
  let url = "";
  beforeAll(async () => {
    ({ child, url } = await spawnGlmvServer(
      ["serve", "trainer", "--preset", "tiny", "--port", "0", "--poll-wait-ms", "5"],
      "inherit",
    ));
  }, 60_000);
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  /** generate → update → generate with the same seeds: rollouts and metrics (wall time left out). */
  async function scenario(client: TinkerClient) {
    const policy = await TinkerPolicy.create({
      client,
      tokenizer: tok,
      baseModel: "glmv-tiny",
      seed: 2,
      imageTokens: presetImageTokens(cfg),
    });
    const params = { ...GEN, n: 2 };
    const before = await policy.generate(prompts.slice(0, 1), params);
    const samples = before[0]!.map((rollout, j) => ({
      prompt: prompts[0]!,
      rollout,
      advantage: j === 0 ? 1 : -1,
    }));
    const { seconds: _, ...metrics } = await policy.update(
      { samples, ranks: [[[0, 1]]] },
      { lr: 1e-2, passes: 2, clipLow: 0.2, clipHigh: 0.28, aggregation: "token" },
    );
    const after = await policy.generate(prompts.slice(0, 1), params);
    await policy.dispose();
    return { before, metrics, after };
  }

  it("gives the same rollouts and update metrics as the same backend in-process", async () => {
    const remoteClient = new TinkerClient({ url, pollIntervalMs: 2 });
    // the child really serves the tiny model (the bigram backend reports a 2^20 context)
    expect((await remoteClient.capabilities()).supported_models).toEqual([
      { model_name: "glmv-tiny", max_context_length: 256 },
    ]);
    const app = createTrainerApp({ backend: await presetBackend("tiny"), pollWaitMs: 5 });
    const localClient = new TinkerClient({ transport: (m, p, b) => app.request(m, p, b), pollIntervalMs: 1 });
    // both at once: the child process computes on its own core
    const [local, remote] = await Promise.all([scenario(localClient), scenario(remoteClient)]);
    await app.close();
    expect(Math.abs(remote.metrics.loss - local.metrics.loss)).toBeLessThan(1e-5);
    expect(remote).toEqual(local);
    expect(local.metrics.gradNorm).toBeGreaterThan(0);
  }, 120_000);
});
