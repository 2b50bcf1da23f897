/**
 * `npm run bench:model`: the tensor engine and the model on it, in one run (single thread, WASM backend).
 * 1. Matmul peak: a jitted 1024³ fp32 matmul, median GFLOP/s (2·n³ FLOPs per call).
 * 2. Training step (forward + backward + AdamW, `createTrainStep`) of the `tiny` and `small` presets on text-only
 *    batches, in tokens/s (median step after the compile). The `small` step's effective GFLOP/s uses
 *      FLOPs = 6 · N · tokens + 12 · L · S · d · tokens
 *    where N = text parameters that do matmul work per token (decoder layers + LM head; the embedding lookup and
 *    the vision tower, idle on text batches, are left out), and the second term is attention (QKᵀ and AV,
 *    2·S·d multiply-adds each per token per layer with d = heads·headDim, ×3 for the backward; the full S×S is
 *    computed before masking, so it is counted in full). It is reported as a fraction of the matmul peak.
 *    The `tiny-moe` step (GLM-4.5V layout: + sequence balance loss and bias update, `createMoeTrainStep`) on the
 *    same [8×64] batches, in tokens/s (bench/moe.ts keeps the expert-balance study).
 * 3. Decoding 256 new tokens (tiny, batch 1, greedy): the KV-cache generator against full recomputation at a fixed
 *    padded shape (the same single-compile constraint, no cache), compile time excluded from both; the speedup.
 * Ends with exactly one JSON line:
 * {"matmulGflops", "tinyTokensPerSec", "tinyMoeTokensPerSec", "smallTokensPerSec", "smallFractionOfPeak",
 *  "kvSpeedup"}.
 */
import { type Array as JaxArray, jit, numpy as np, tree } from "@jax-js/jax";
import { type GlmvConfig, presetConfig, textHeadDim } from "../src/model/config.ts";
import { createGenerator } from "../src/model/generate.ts";
import { buildInputs, createForward } from "../src/model/model.ts";
import { initParams } from "../src/model/params.ts";
import { argmax } from "../src/model/sampling.ts";
import { initTensorEngine } from "../src/tensor/engine.ts";
import { mulberry32 } from "../src/util/rng.ts";
import { median, seconds, trainStepRate } from "./lib.ts";

/** Median GFLOP/s of a jitted n³ matmul (result read back each time, so the work is really done). */
async function matmulGflops(n: number, runs: number): Promise<number> {
  const rand = mulberry32(1);
  const a = np.array(
    Float32Array.from({ length: n * n }, () => rand() - 0.5),
    { shape: [n, n] },
  );
  const b = np.array(
    Float32Array.from({ length: n * n }, () => rand() - 0.5),
    { shape: [n, n] },
  );
  const mm = jit((x: JaxArray, y: JaxArray) => np.matmul(x, y));
  await (mm(a.ref, b.ref) as JaxArray).data(); // compile
  const times: number[] = [];
  for (let i = 0; i < runs; i++)
    times.push(
      await seconds(async () => {
        await (mm(a.ref, b.ref) as JaxArray).data();
      }),
    );
  mm.dispose();
  tree.dispose([a, b]);
  return (2 * n ** 3) / median(times) / 1e9;
}

/** Parameters doing matmul work per text token: decoder layers and the LM head. */
function textMatmulParams(cfg: GlmvConfig): number {
  const t = cfg.text;
  const hd = textHeadDim(t); // explicit on GLM-4.5V, where heads·hd ≠ hidden
  const q = t.numHeads * hd;
  const kv = t.numKvHeads * hd;
  const h = t.hiddenSize;
  const perLayer = q * h + 2 * kv * h + h * q + 3 * t.intermediateSize * h;
  return t.numLayers * perLayer + t.vocabSize * h;
}

/** A dense preset's training step on a text batch [b, s]: tokens/s and effective GFLOP/s (header formula). */
async function denseStepRate(cfg: GlmvConfig, b: number, s: number, steps: number) {
  const { stepSeconds, tokensPerSec } = await trainStepRate(cfg, b, s, steps);
  const n = b * s;
  const t = cfg.text;
  const attention = 12 * t.numLayers * s * t.numHeads * textHeadDim(t) * n;
  const flops = 6 * textMatmulParams(cfg) * n + attention;
  return { tokensPerSec, gflops: flops / stepSeconds / 1e9, stepSeconds };
}

/** Greedy decoding of `newTokens` tokens: KV-cache generator vs fixed-shape full recomputation. */
async function kvVersusRecompute(cfg: GlmvConfig, promptLen: number, newTokens: number) {
  const params = initParams(cfg, 4, 0.3);
  const rand = mulberry32(3);
  const prompt = Array.from({ length: promptLen }, () => Math.floor(rand() * 96));
  const gen = createGenerator(cfg, { batchSize: 1, promptLen, maxNewTokens: newTokens });
  const fwd = createForward(cfg);
  try {
    const opts = { temperature: 0, allowedVocab: 96 };
    await gen.generate(params, { prompts: [prompt] }, { ...opts }); // compile prefill + decode
    let kvTokens: number[] = [];
    const kv = await seconds(async () => {
      kvTokens = (await gen.generate(params, { prompts: [prompt] }, opts)).tokens[0]!;
    });
    // Recomputation: the whole sequence, right-padded to one fixed length, every token.
    const total = promptLen + newTokens;
    const run = async (steps: number) => {
      const seq = [...prompt];
      for (let i = 0; i < steps; i++) {
        const len = seq.length;
        const row = [...seq, ...new Array<number>(total - len).fill(0)];
        const mask = row.map((_, j) => (j < len ? 1 : 0));
        const { inputs } = buildInputs(cfg, { tokens: [row], attentionMask: [mask] });
        const logits = fwd(tree.ref(params), inputs) as JaxArray;
        const v = cfg.text.vocabSize;
        const host = (await logits.data()) as Float32Array;
        seq.push(argmax(host.subarray((len - 1) * v, (len - 1) * v + 96)));
      }
      return seq.slice(promptLen);
    };
    await run(1); // compile
    let fullTokens: number[] = [];
    const full = await seconds(async () => {
      fullTokens = await run(newTokens);
    });
    const same = fullTokens.every((t, i) => t === kvTokens[i]);
    return { kvSeconds: kv, fullSeconds: full, speedup: full / kv, same };
  } finally {
    gen.dispose();
    fwd.dispose();
    tree.dispose(params);
  }
}

async function main(): Promise<void> {
  await initTensorEngine();
  const t0 = performance.now();
  const peak = await matmulGflops(1024, 7);
  console.log(`matmul 1024³ (jit, median of 7): ${peak.toFixed(1)} GFLOP/s`);
  const tiny = await denseStepRate(presetConfig("tiny"), 8, 64, 5);
  console.log(
    `train step tiny  [8×64]:  ${tiny.tokensPerSec.toFixed(0)} tokens/s (${(tiny.stepSeconds * 1000).toFixed(0)} ms/step, ${tiny.gflops.toFixed(2)} GFLOP/s)`,
  );
  const tinyMoe = await trainStepRate(presetConfig("tiny-moe"), 8, 64, 5);
  console.log(
    `train step tiny-moe [8×64]: ${tinyMoe.tokensPerSec.toFixed(0)} tokens/s (${(tinyMoe.stepSeconds * 1000).toFixed(0)} ms/step)`,
  );
  const small = await denseStepRate(presetConfig("small"), 4, 128, 2); // ~5–15 s a step on 1 thread
  const fraction = small.gflops / peak;
  console.log(
    `train step small [4×128]: ${small.tokensPerSec.toFixed(0)} tokens/s (${(small.stepSeconds * 1000).toFixed(0)} ms/step, ${small.gflops.toFixed(2)} GFLOP/s = ${(100 * fraction).toFixed(1)}% of the matmul peak)`,
  );
  const kv = await kvVersusRecompute(presetConfig("tiny"), 32, 256);
  console.log(
    `decode 256 tokens (tiny, greedy): KV cache ${kv.kvSeconds.toFixed(2)} s, full recomputation ${kv.fullSeconds.toFixed(2)} s → ${kv.speedup.toFixed(1)}× (same tokens: ${kv.same})`,
  );
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log(
    JSON.stringify({
      matmulGflops: Number(peak.toFixed(2)),
      tinyTokensPerSec: Math.round(tiny.tokensPerSec),
      tinyMoeTokensPerSec: Math.round(tinyMoe.tokensPerSec),
      smallTokensPerSec: Math.round(small.tokensPerSec),
      smallFractionOfPeak: Number(fraction.toFixed(4)),
      kvSpeedup: Number(kv.speedup.toFixed(2)),
    }),
  );
}

await main();
