/**
 * `npm run bench:model`: the tensor engine and the model on it, in one run (single thread, WASM backend).
 * 1. Matmul peak: a jitted 1024³ fp32 matmul, median GFLOP/s (2·n³ FLOPs per call).
 * 2. Training step (forward + backward + AdamW on the trainer core, pinned to jax-js: these figures and the matmul
 *    peak are the WASM engine's) of the `tiny` and `small` presets on text-only batches, and the `tiny` step on the
 *    native engine too (`tinyNativeTokensPerSec`), in tokens/s (median step after the compile). The `small` step runs on [8×256] (the RL packer's
 *    micro-batch: 8 sequences × 256 tokens), 2 untimed warm-up steps, then 5 timed ones; after each timed step
 *    the 1024³ matmul is timed again (median of 5 calls), and the fraction of peak is the median over steps of
 *    (step GFLOP/s ÷ that adjacent peak), so a step and its peak see the same load on a shared machine; a
 *    conservative figure (median step GFLOP/s ÷ the highest peak of the run) is printed beside it.
 *    The step's FLOPs are
 *      FLOPs = 6 · N · tokens + 12 · L · S · d · tokens
 *    where N = text parameters that do matmul work per token (decoder layers + LM head; the embedding lookup and
 *    the vision tower, idle on text batches, are left out), and the second term is attention (QKᵀ and AV,
 *    2·S·d multiply-adds each per token per layer with d = heads·headDim, ×3 for the backward; the full S×S is
 *    computed before masking, so it is counted in full).
 *    The `tiny-moe` step (GLM-4.5V layout: + sequence balance loss and bias update) on the
 *    same [8×64] batches, in tokens/s (bench/moe.ts keeps the expert-balance study).
 * 3. Decoding 256 new tokens (tiny, batch 1, greedy): the KV-cache generator against full recomputation at a fixed
 *    padded shape (the same single-compile constraint, no cache), compile time excluded from both; the speedup.
 * 4. One rollout batch of the main job (`rolloutBatch`): prefill and 40 sampled tokens for 64 rows with images,
 *    on jax-js and (when onnxruntime-node loads) on the native generator; `generateTokensPerSec` and
 *    `nativeGenerateTokensPerSec` = generated tokens (stop tokens cut rows short) ÷ the batch's median seconds.
 * 5. Native engine and PyTorch (issue 22), interleaved in this run at `threads` = min(2, cores): the `small` step
 *    [8×256] on the trainer core's native backend (the gradient and AdamW programs lowered to ONNX and run by
 *    onnxruntime-node; weights and moments stay host arrays between steps), and the same decoder step in PyTorch
 *    (bench/torch_step.py through /usr/bin/python3). `pytorchRatio` = glmv's step time ÷ PyTorch's at the same
 *    thread count (glmv's step is the native one when onnxruntime-node loads, else jax-js's on 1 thread);
 *    omitted, with a note line, when torch cannot be imported. `physicalPeakFraction` = that step's GFLOP/s ÷ the
 *    cores' FP32 peak from `lscpu`: threads × clock (CPU max MHz, else BogoMIPS / 2) × FLOPs/cycle, ASSUMING two
 *    FMA units per core of 32 FP32 FLOPs/cycle each with AVX-512 (64/cycle; 32 with AVX2 only).
 * Ends with exactly one JSON line:
 * {"matmulGflops", "tinyTokensPerSec", "tinyNativeTokensPerSec", "tinyMoeTokensPerSec", "smallTokensPerSec", "smallFractionOfPeak",
 *  "kvSpeedup", "rolloutPrefillSeconds", "rolloutBatchSeconds", "generateTokensPerSec",
 *  "nativeGenerateTokensPerSec", "threads", "smallNativeTokensPerSec", "pytorchRatio", "physicalPeakFraction"}.
 *
 * Profile of the `small` step (kernel traces via jax-js `profiler.startTrace`, [4×128], 2 shared cores):
 * - Before: 16 s a step, 12.6 s of it in ONE kernel, the embedding table's gradient. The token embedding was a
 *   one-hot matmul; its transpose broadcasts the incoming cotangent over the vocabulary, and jax-js 0.1.25 then
 *   fuses that cotangent's whole elementwise chain (the RMSNorm backward) into the matmul's inner loop, so it
 *   was recomputed for each of the 4096 rows (0.2 GFLOP/s). Now the embedding is a gather (`np.take`) whose
 *   gradient is a scatter-add routine (25 ms); model.ts keeps the routine's inputs materialised.
 * - After that, at [4×128]: 2.5 s a step, 85% in matmul kernels at 20–28 GFLOP/s (45 GFLOP executed vs 44
 *   counted), 14% elementwise (norms, SiLU, softmax, AdamW over 20M parameters ≈ 0.2 s), the scatter 1%.
 *   GQA by `np.repeat` and rope by an [hd, hd] matmul cost ~0.25 s more (now a grouped matmul and a pair flip).
 * - Weight gradients read both operands with a stride along the reduction (tokens): 20–23 GFLOP/s against
 *   25–33 for the forward's layout; jax-js gives no way to choose the backward's layout.
 * - Batch: per-step costs (AdamW, dispatch of ~1000 kernels) amortise over more tokens; [8×256] measured
 *   0.97 of the adjacent peak against 0.85 at [4×128] (same run), attention included.
 */
import { availableParallelism, loadavg } from "node:os";
import { type Array as JaxArray, jit, numpy as np, tree } from "@jax-js/jax";
import { promptFromItem } from "../src/data/task-encoding.ts";
import { type GlmvConfig, presetConfig, textHeadDim } from "../src/model/config.ts";
import { createGenerator } from "../src/model/generate.ts";
import { buildInputs, createForward } from "../src/model/model.ts";
import { initParams } from "../src/model/params.ts";
import { argmax } from "../src/model/sampling.ts";
import { loadTinyTokenizer } from "../src/model/tokenizer.ts";
import { LocalPolicy } from "../src/rl/engines/local/local-policy.ts";
import { buildSuites } from "../src/rl/job/suites.ts";
import { parseRlConfig } from "../src/rl/loop/config.ts";
import { initTensorEngine } from "../src/tensor/engine.ts";
import { loadOnnxRuntime } from "../src/tensor/onnx/program.ts";
import { mulberry32 } from "../src/util/rng.ts";
import { median, type StepEngine, seconds, trainStepRate, trainStepTimes } from "./lib.ts";
import { physicalPeakGflops, torchStepSeconds } from "./native-step.ts";

/** A jitted n³ matmul on fixed random operands; `gflops(runs)` is the median GFLOP/s over `runs` calls. */
function matmulMeter(n: number) {
  const rand = mulberry32(1);
  const operand = () =>
    np.array(
      Float32Array.from({ length: n * n }, () => rand() - 0.5),
      { shape: [n, n] },
    );
  const a = operand();
  const b = operand();
  const mm = jit((x: JaxArray, y: JaxArray) => np.matmul(x, y));
  const once = async () => {
    await (mm(a.ref, b.ref) as JaxArray).data(); // reading the result back makes the work really happen
  };
  return {
    async gflops(runs: number): Promise<number> {
      await once(); // compile (cached after the first meter call)
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await seconds(once));
      return (2 * n ** 3) / median(times) / 1e9;
    },
    dispose() {
      mm.dispose();
      tree.dispose([a, b]);
    },
  };
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

/** Forward + backward FLOPs of a dense preset's step on a text batch [b, s] (header formula). */
function denseStepFlops(cfg: GlmvConfig, b: number, s: number): number {
  const n = b * s;
  const t = cfg.text;
  const attention = 12 * t.numLayers * s * t.numHeads * textHeadDim(t) * n;
  return 6 * textMatmulParams(cfg) * n + attention;
}

/** A dense preset's training step on a text batch [b, s]: tokens/s and effective GFLOP/s (header formula). */
async function denseStepRate(cfg: GlmvConfig, b: number, s: number, steps: number, engine: StepEngine) {
  const { stepSeconds, tokensPerSec } = await trainStepRate(cfg, b, s, steps, engine);
  return { tokensPerSec, gflops: denseStepFlops(cfg, b, s) / stepSeconds / 1e9, stepSeconds };
}

/**
 * A dense preset's step against the matmul peak measured beside it: after each timed step (warm-up excluded)
 * the 1024³ matmul is timed again, so a step and its peak see the same machine load; the fraction is the
 * median over steps of (step GFLOP/s ÷ adjacent peak).
 */
async function stepVersusPeak(cfg: GlmvConfig, b: number, s: number, warmup: number, steps: number) {
  const meter = matmulMeter(1024);
  const peaks: number[] = [];
  try {
    const times = await trainStepTimes(cfg, b, s, {
      backend: "jax", // the matmul peak beside it is jax-js's
      warmup,
      steps,
      afterStep: async () => {
        peaks.push(await meter.gflops(5));
      },
    });
    const flops = denseStepFlops(cfg, b, s);
    const fractions = times.map((t, i) => flops / t / 1e9 / peaks[i]!);
    const stepSeconds = median(times);
    return {
      times,
      peaks,
      stepSeconds,
      tokensPerSec: (b * s) / stepSeconds,
      gflops: flops / stepSeconds / 1e9,
      peak: median(peaks),
      fraction: median(fractions),
    };
  } finally {
    meter.dispose();
  }
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

/**
 * One rollout batch of the main job (tiny, 64 rows = 8 counting prompts × 8 samples, a 56×56 image each, prompts
 * padded to 48 tokens) on `backend`: the prefill alone (1 new token) and 40 sampled tokens, median of 3 after a
 * compile; `tokens` = tokens generated by one 40-token batch.
 */
async function rolloutBatch(backend: "jax" | "native") {
  const config = parseRlConfig({});
  const cfg = presetConfig("tiny");
  const policy = new LocalPolicy(cfg, initParams(cfg, 1), await loadTinyTokenizer(), {
    batchSize: 64,
    promptLen: 48,
    backend,
  });
  let tokens = 0;
  try {
    const prompts = buildSuites(config).train.slice(0, 8).map(promptFromItem);
    const time = async (maxNewTokens: number) => {
      const { thinkBudget, style } = config.rl;
      const p = {
        n: 8,
        temperature: 1,
        topP: 1,
        maxNewTokens,
        seed: 1,
        thinkBudget: Math.min(thinkBudget, maxNewTokens - 1),
        style,
      };
      await policy.generate(prompts, p); // compile
      const times: number[] = [];
      for (let i = 0; i < 3; i++)
        times.push(
          await seconds(async () => {
            const out = await policy.generate(prompts, p);
            tokens = out.flat().reduce((n, r) => n + r.tokens.length, 0);
          }),
        );
      return median(times);
    };
    const prefillSeconds = await time(1);
    const batchSeconds = await time(40);
    return { prefillSeconds, batchSeconds, tokensPerSec: tokens / batchSeconds };
  } finally {
    await policy.dispose();
  }
}

/**
 * glmv's `small` step (native when onnxruntime-node loads, else the jax-js step measured before) against PyTorch's
 * at the same thread count, interleaved: native, torch, native, torch; and its share of the CPU's FP32 peak.
 */
async function versusPytorch(cfg: GlmvConfig, b: number, s: number, jaxSeconds: number) {
  const native = await loadOnnxRuntime();
  const threads = native ? Math.min(2, availableParallelism()) : 1;
  const nativeTimes: number[] = [];
  const torchTimes: number[] = [];
  for (let round = 0; round < 2; round++) {
    if (native)
      nativeTimes.push(
        ...(await trainStepTimes(cfg, b, s, { backend: "native", threads, warmup: 2, steps: 3 })),
      );
    const t = torchStepSeconds(b, s, threads, 3);
    if (t !== undefined) torchTimes.push(t);
  }
  const nativeSeconds = nativeTimes.length > 0 ? median(nativeTimes) : undefined;
  const torchSeconds = torchTimes.length > 0 ? median(torchTimes) : undefined;
  const glmvSeconds = nativeSeconds ?? jaxSeconds;
  const peak = physicalPeakGflops(threads);
  const gflops = denseStepFlops(cfg, b, s) / glmvSeconds / 1e9;
  if (nativeSeconds !== undefined)
    console.log(
      `native small step [${b}×${s}], ${threads} threads (onnxruntime-node): ${((b * s) / nativeSeconds).toFixed(0)} tokens/s (median ${(nativeSeconds * 1000).toFixed(0)} ms of ${nativeTimes.map((x) => x.toFixed(2)).join(", ")} s; ${gflops.toFixed(1)} GFLOP/s)`,
    );
  else console.log("note: onnxruntime-node did not load; glmv's step is jax-js's (1 thread)");
  if (torchSeconds !== undefined)
    console.log(
      `PyTorch small step, same decoder and batch, ${threads} threads: ${((b * s) / torchSeconds).toFixed(0)} tokens/s (median ${(torchSeconds * 1000).toFixed(0)} ms); pytorchRatio ${(glmvSeconds / torchSeconds).toFixed(3)}`,
    );
  else console.log("note: /usr/bin/python3 cannot import torch; pytorchRatio omitted");
  if (peak) console.log(`physical peak ${peak.gflops.toFixed(0)} GFLOP/s = ${peak.assumption}`);
  return {
    threads,
    nativeSeconds,
    ratio: torchSeconds !== undefined ? glmvSeconds / torchSeconds : undefined,
    peakFraction: peak ? gflops / peak.gflops : undefined,
  };
}

/** The small preset's benchmark batch [rows, tokens]: the RL packer's micro-batch (8 sequences × 256). */
const SMALL_BATCH: [number, number] = [8, 256];

async function main(): Promise<void> {
  await initTensorEngine();
  const t0 = performance.now();
  const load = () => loadavg()[0]!.toFixed(2);
  console.log(`load average (1 min) at start: ${load()} on ${availableParallelism()} cores`);
  const meter = matmulMeter(1024);
  const peak = await meter.gflops(7);
  meter.dispose();
  console.log(`matmul 1024³ (jit, median of 7): ${peak.toFixed(1)} GFLOP/s`);
  const tiny = await denseStepRate(presetConfig("tiny"), 8, 64, 5, { backend: "jax" });
  console.log(
    `train step tiny  [8×64] (jax-js): ${tiny.tokensPerSec.toFixed(0)} tokens/s (${(tiny.stepSeconds * 1000).toFixed(0)} ms/step, ${tiny.gflops.toFixed(2)} GFLOP/s)`,
  );
  const nativeThreads = Math.min(2, availableParallelism());
  const tinyNative = (await loadOnnxRuntime())
    ? await denseStepRate(presetConfig("tiny"), 8, 64, 5, { backend: "native", threads: nativeThreads })
    : undefined;
  if (tinyNative)
    console.log(
      `train step tiny  [8×64] (native, ${nativeThreads} threads): ${tinyNative.tokensPerSec.toFixed(0)} tokens/s (${(tinyNative.stepSeconds * 1000).toFixed(0)} ms/step, ${tinyNative.gflops.toFixed(2)} GFLOP/s)`,
    );
  const tinyMoe = await trainStepRate(presetConfig("tiny-moe"), 8, 64, 5, { backend: "jax" });
  console.log(
    `train step tiny-moe [8×64] (jax-js): ${tinyMoe.tokensPerSec.toFixed(0)} tokens/s (${(tinyMoe.stepSeconds * 1000).toFixed(0)} ms/step)`,
  );
  const [sb, ss] = SMALL_BATCH;
  const small = await stepVersusPeak(presetConfig("small"), sb, ss, 2, 5);
  console.log(
    `train step small [${sb}×${ss}] (jax-js): ${small.tokensPerSec.toFixed(0)} tokens/s (median ${(small.stepSeconds * 1000).toFixed(0)} ms/step of ${small.times.map((t) => t.toFixed(2)).join(", ")} s; ${small.gflops.toFixed(2)} GFLOP/s; adjacent matmul peaks ${small.peaks.map((p) => p.toFixed(1)).join(", ")} GFLOP/s) = ${(100 * small.fraction).toFixed(1)}% of the matmul peak`,
  );
  const highest = Math.max(peak, ...small.peaks);
  console.log(
    `  (conservative: against the highest matmul peak seen in this run, ${highest.toFixed(1)} GFLOP/s, the small step is ${((100 * small.gflops) / highest).toFixed(1)}%)`,
  );
  const kv = await kvVersusRecompute(presetConfig("tiny"), 32, 256);
  console.log(
    `decode 256 tokens (tiny, greedy): KV cache ${kv.kvSeconds.toFixed(2)} s, full recomputation ${kv.fullSeconds.toFixed(2)} s → ${kv.speedup.toFixed(1)}× (same tokens: ${kv.same})`,
  );
  const rollout = await rolloutBatch("jax");
  const nativeRollout = (await loadOnnxRuntime()) ? await rolloutBatch("native") : undefined;
  for (const [name, r] of [
    ["jax-js", rollout],
    ["native", nativeRollout],
  ] as const)
    if (r)
      console.log(
        `rollout batch (tiny, 64 rows with images, ${name}): prefill ${(r.prefillSeconds * 1000).toFixed(0)} ms, 40 tokens ${(r.batchSeconds * 1000).toFixed(0)} ms (${((r.batchSeconds * 1000) / 64).toFixed(1)} ms/rollout, ${r.tokensPerSec.toFixed(0)} tokens/s)`,
      );
  const vs = await versusPytorch(presetConfig("small"), sb, ss, small.stepSeconds);
  console.log(
    `total ${((performance.now() - t0) / 1000).toFixed(0)} s; load average (1 min) at end: ${load()}`,
  );
  console.log(
    JSON.stringify({
      matmulGflops: Number(peak.toFixed(2)),
      tinyTokensPerSec: Math.round(tiny.tokensPerSec),
      ...(tinyNative ? { tinyNativeTokensPerSec: Math.round(tinyNative.tokensPerSec) } : {}),
      tinyMoeTokensPerSec: Math.round(tinyMoe.tokensPerSec),
      smallTokensPerSec: Math.round(small.tokensPerSec),
      smallFractionOfPeak: Number(small.fraction.toFixed(4)),
      kvSpeedup: Number(kv.speedup.toFixed(2)),
      rolloutPrefillSeconds: Number(rollout.prefillSeconds.toFixed(3)),
      rolloutBatchSeconds: Number(rollout.batchSeconds.toFixed(3)),
      generateTokensPerSec: Math.round(rollout.tokensPerSec),
      ...(nativeRollout ? { nativeGenerateTokensPerSec: Math.round(nativeRollout.tokensPerSec) } : {}),
      threads: vs.threads,
      ...(vs.nativeSeconds !== undefined
        ? { smallNativeTokensPerSec: Math.round((sb * ss) / vs.nativeSeconds) }
        : {}),
      ...(vs.ratio !== undefined ? { pytorchRatio: Number(vs.ratio.toFixed(3)) } : {}),
      ...(vs.peakFraction !== undefined ? { physicalPeakFraction: Number(vs.peakFraction.toFixed(4)) } : {}),
    }),
  );
}

await main();
