import { type Array as JaxArray, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { promptFromItem } from "../data/task-encoding.ts";
import { sftTarget } from "../data/tasks/cot.ts";
import { buildSuite } from "../data/tasks/index.ts";
import { processImageFor } from "../model/encode.ts";
import { presetImageTokens } from "../model/image-tokens.ts";
import { forwardLogits } from "../model/model.ts";
import { alignToTargets, layoutPacked, packedInputs, packedTargets } from "../model/packed-inputs.ts";
import { packSequences } from "../model/packing.ts";
import { type GlmvParams, initParams } from "../model/params.ts";
import { clippedSurrogate, tokenLogprobs } from "../model/policy-loss.ts";
import { decodeImage } from "../model/processor.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../model/tokenizer.ts";
import { LocalPolicy } from "../rl/engines/local/local-policy.ts";
import { TinkerClient } from "../rl/engines/tinker/tinker-client.ts";
import { TinkerPolicy } from "../rl/engines/tinker/tinker-policy.ts";
import type { Datum, ForwardBackwardOutput } from "../rl/engines/tinker/tinker-protocol.ts";
import type { Rollout, UpdateBatch } from "../rl/loop/policy.ts";
import { globalNorm } from "../tensor/adamw.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { mulberry32 } from "../util/rng.ts";
import { cfg, GEN, ITEMS, prompts } from "./tiny-backend.fixture.ts";
import { tinyBackend } from "./tiny-backend.ts";
import { createTrainerApp } from "./trainer-server.ts";

let tok: GlmvTokenizer;
beforeAll(async () => {
  await initTensorEngine();
  tok = await loadTinyTokenizer();
});

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
    const batch: UpdateBatch = { samples, microBatches: [samples.map((_, i) => i)] };
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

describe("tiny backend: forward_backward equals the GRPO objective on the same packed rows", () => {
  it("ppo (clip-higher) and cross_entropy: loss, returned logprobs and grad norm of the clipped surrogate (−Σ w·logprob) by valueAndGrad, summed over the rows", async () => {
    const context = 96;
    const rand = mulberry32(11);
    const item = ITEMS[0]!;
    const png = await sharp(Buffer.from(item.image.data), {
      raw: { width: item.image.width, height: item.image.height, channels: 3 },
    })
      .png()
      .toBuffer();
    const { pixels, grid } = processImageFor(cfg, await decodeImage(new Uint8Array(png)));
    const imageTokens = presetImageTokens(cfg)({ ...item.image, channels: 3 });
    const text = (n: number) => Array.from({ length: n }, () => 3 + Math.floor(rand() * 90));
    // three sequences (one with an image) that pack into two rows of 96
    const heads = [tok.encode("[gMASK]<sop><|user|><|begin_of_image|>"), text(30), text(20)];
    const tails = [[tok.special.endImage, ...text(40)], text(30), text(25)];
    const seqs = heads.map((h, i) => ({
      ids: [...h, ...(i === 0 ? new Array<number>(imageTokens).fill(tok.special.image) : []), ...tails[i]!],
      ...(i === 0 ? { pixels, grids: [grid] } : {}),
    }));
    // per position p (predicting token p + 1): weight on the last 20, old logprob, advantage
    const perPos = seqs.map((q, i) => {
      const n = q.ids.length - 1;
      return {
        weights: Array.from({ length: n }, (_, p) => (p >= n - 20 ? 1 / 60 : 0)),
        logprobs: Array.from({ length: n }, () => -4.6 + 0.3 * rand()),
        advantages: Array.from({ length: n }, () => [1, -1, 0.5][i]!),
      };
    });
    const datum = (i: number, policy: boolean): Datum => {
      const q = seqs[i]!;
      const v = perPos[i]!;
      const tensor = (data: number[], dtype: "int64" | "float32") => ({ data, dtype, shape: [data.length] });
      const input = q.ids.slice(0, -1);
      const split = i === 0 ? heads[0]!.length : input.length;
      return {
        model_input: {
          chunks: [
            { type: "encoded_text", tokens: input.slice(0, split) },
            ...(i === 0
              ? [
                  {
                    type: "image" as const,
                    data: png.toString("base64"),
                    format: "png" as const,
                    expected_tokens: imageTokens,
                  },
                  { type: "encoded_text" as const, tokens: input.slice(split + imageTokens) },
                ]
              : []),
          ],
        },
        loss_fn_inputs: {
          target_tokens: tensor(q.ids.slice(1), "int64"),
          weights: tensor(v.weights, "float32"),
          ...(policy
            ? { logprobs: tensor(v.logprobs, "float32"), advantages: tensor(v.advantages, "float32") }
            : {}),
        },
      };
    };
    /** The reference: the packer and `clippedSurrogate` (cross-entropy: −Σ w·logprob) on the model's own weights. */
    const reference = (policy: boolean) => {
      const params = initParams(cfg, 5);
      let loss = 0;
      let grads: GlmvParams | undefined;
      const logprobs: number[][] = seqs.map(() => []);
      for (const row of packSequences(
        seqs.map((q) => q.ids.length),
        context,
      ).microBatches) {
        const layout = layoutPacked(cfg, [row.map((i) => seqs[i]!)], { rows: 1, context, imageSlots: 8 }, 0);
        const arr = (pick: (i: number) => number[]) =>
          np.array(alignToTargets(layout, [row.map((i) => [0, ...pick(i)])]), { shape: [1, context] });
        const batch = {
          inputs: packedInputs(cfg, layout),
          targets: np.array(packedTargets(layout), { shape: [1, context], dtype: np.int32 }),
          weights: arr((i) => perPos[i]!.weights),
          oldLogprobs: arr((i) => perPos[i]!.logprobs),
          advantages: arr((i) => perPos[i]!.advantages),
        };
        const [[l, lp], g] = valueAndGrad(
          (p: GlmvParams) => {
            const logits = forwardLogits(p, batch.inputs, cfg);
            const logp = tokenLogprobs(logits, batch.targets);
            if (!policy) {
              tree.dispose([batch.oldLogprobs, batch.advantages]);
              return [logp.ref.mul(batch.weights).sum().neg(), logp];
            }
            const [obj, clip] = clippedSurrogate(
              logp.ref,
              batch.oldLogprobs,
              batch.advantages,
              batch.weights,
              {
                clipLow: 0.2,
                clipHigh: 0.28,
              },
            );
            clip.dispose();
            return [obj, logp];
          },
          { hasAux: true },
        )(tree.ref(params)) as [[JaxArray, JaxArray], GlmvParams];
        loss += l.dataSync()[0]!;
        const host = lp.dataSync() as Float32Array;
        row.forEach((i, k) => {
          const start = layout.places[0]![k]!.start;
          logprobs[i] = Array.from(host.slice(start, start + seqs[i]!.ids.length - 1));
        });
        grads = grads ? (tree.map((x: JaxArray, y: JaxArray) => x.add(y), grads, g) as GlmvParams) : g;
      }
      const gradNorm = globalNorm(grads!).dataSync()[0]!;
      tree.dispose(params);
      return { loss, logprobs, gradNorm };
    };
    for (const policy of [true, false]) {
      const model = await tinyBackend({ cfg, tok, context }).createModel({ loraRank: 0, seed: 5 });
      const out = await model.forwardBackward(
        seqs.map((_, i) => datum(i, policy)),
        policy ? "ppo" : "cross_entropy",
        { clip_low_threshold: 0.8, clip_high_threshold: 1.28 },
      );
      const { metrics } = await model.optimStep({ learning_rate: 1e-3 });
      model.dispose();
      const ref = reference(policy);
      expect(Math.abs(out.metrics["loss:sum"]! - ref.loss)).toBeLessThan(1e-4 * Math.abs(ref.loss));
      expect(Math.abs(metrics.grad_norm! - ref.gradNorm)).toBeLessThan(1e-4 * ref.gradNorm);
      for (const [i, lps] of ref.logprobs.entries())
        for (const [p, lp] of lps.entries())
          expect(Math.abs(out.loss_fn_outputs[i]!.logprobs.data[p]! - lp)).toBeLessThan(1e-4);
    }
  }, 120_000);
});
