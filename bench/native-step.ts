/**
 * The native engine's training step (bench:model, issue 22): the trainer core's gradient function and its AdamW
 * update, each traced by jax-js and run by onnxruntime-node (src/tensor/onnx/), with weights and AdamW moments
 * kept as host arrays fed from one step's outputs to the next (jax-js never sees them between steps). Also the
 * PyTorch reference (bench/torch_step.py) and the CPU's FP32 peak from `lscpu`.
 *
 * Run alone: node --import tsx bench/native-step.ts [threads…] — interleaves native and PyTorch per thread count.
 */
import { execFileSync } from "node:child_process";
import { type Array as JaxArray, type JsTree, numpy as np, tree } from "@jax-js/jax";
import { type GlmvConfig, presetConfig } from "../src/model/config.ts";
import { type GlmvParams, initParams } from "../src/model/params.ts";
import { gradStep } from "../src/model/trainer-core-train.ts";
import { AdamWConfig, type AdamWState, adamwInit, adamwUpdate } from "../src/tensor/adamw.ts";
import { initTensorEngine } from "../src/tensor/engine.ts";
import { compileNative, loadOnnxRuntime, toHost } from "../src/tensor/onnx/program.ts";
import { median, randomTextBatch, seconds } from "./lib.ts";

/** Median seconds of a native training step (gradient + AdamW) of `cfg` on a random text batch [b, s]. */
export async function nativeStepTimes(
  cfg: GlmvConfig,
  b: number,
  s: number,
  opts: { threads: number; warmup: number; steps: number },
): Promise<number[]> {
  const params = initParams(cfg, 1);
  const batch = randomTextBatch(cfg, b, s);
  const adamw = AdamWConfig.parse({});
  const grad = await compileNative(gradStep(cfg, { kind: "cross_entropy" }, 0), [params, batch], opts);
  const opt = adamwInit(params);
  const lr = np.array(1e-3);
  const update = await compileNative(
    (p: GlmvParams, g: GlmvParams, o: AdamWState<GlmvParams>, rate: JaxArray) =>
      adamwUpdate(p, g, o, rate, adamw) as unknown as JsTree<JaxArray>,
    [params, params, opt, lr],
    opts,
  );
  const hosts = async (t: unknown) =>
    Promise.all((tree.leaves(tree.ref(t as never)) as JaxArray[]).map(toHost));
  let p = await hosts(params);
  const batchHost = await hosts(batch);
  let o = await hosts(opt);
  const lrHost = await hosts(lr);
  tree.dispose([params, batch, opt, lr] as never);
  // where the gradients sit among the gradient program's outputs, and the new params and state among AdamW's
  const slots = (t: { outTree: unknown }, n: number) =>
    tree.unflatten(
      t.outTree as never,
      Array.from({ length: n }, (_, i) => i),
    ) as Record<string, unknown>;
  const gradOut = slots(grad, p.length + 5);
  const gradIdx = tree.leaves(gradOut.grads as never) as number[];
  const upOut = slots(update, 1 + p.length + o.length);
  const paramIdx = tree.leaves(upOut.params as never) as number[];
  const stateIdx = tree.leaves(upOut.state as never) as number[];
  const times: number[] = [];
  try {
    for (let i = 0; i < opts.warmup + opts.steps; i++) {
      const dt = await seconds(async () => {
        const out = await grad.run([...p, ...batchHost]);
        const grads = gradIdx.map((j) => out[j]!);
        const up = await update.run([...p, ...grads, ...o, ...lrHost]);
        p = paramIdx.map((j) => up[j]!);
        o = stateIdx.map((j) => up[j]!);
      });
      if (i >= opts.warmup) times.push(dt);
    }
  } finally {
    await grad.dispose();
    await update.dispose();
  }
  return times;
}

/** PyTorch's median step seconds on the same decoder and batch, or undefined when torch cannot be imported. */
export function torchStepSeconds(b: number, s: number, threads: number, steps: number): number | undefined {
  try {
    const out = execFileSync(
      "/usr/bin/python3",
      [
        "bench/torch_step.py",
        "--threads",
        `${threads}`,
        "--batch",
        `${b}`,
        "--seq",
        `${s}`,
        "--steps",
        `${steps}`,
        "--warmup",
        "2",
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    return (JSON.parse(out.trim().split("\n").pop()!) as { stepSeconds: number }).stepSeconds;
  } catch {
    return undefined;
  }
}

/**
 * FP32 peak GFLOP/s of `cores` cores from `lscpu`: cores × max clock × FLOPs/cycle, assuming two FMA units of
 * 16 FP32 lanes with AVX-512 (64 FLOPs/cycle), else two of 8 lanes with AVX2 (32); the assumption is returned.
 */
export function physicalPeakGflops(cores: number): { gflops: number; assumption: string } | undefined {
  try {
    const text = execFileSync("lscpu", { encoding: "utf8" });
    const mhz = Number(/CPU max MHz:\s*([\d.]+)/.exec(text)?.[1] ?? /BogoMIPS:\s*([\d.]+)/.exec(text)?.[1]);
    const avx512 = /avx512f/.test(text);
    const perCycle = avx512 ? 64 : 32;
    const ghz = /CPU max MHz/.test(text) ? mhz / 1000 : mhz / 2000; // BogoMIPS ≈ 2 × clock
    return {
      gflops: cores * ghz * perCycle,
      assumption: `${cores} cores × ${ghz.toFixed(2)} GHz × ${perCycle} FP32 FLOPs/cycle (${avx512 ? "AVX-512: 2 FMA units × 16 lanes × 2" : "AVX2: 2 FMA units × 8 lanes × 2"})`,
    };
  } catch {
    return undefined;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await initTensorEngine();
  if (!(await loadOnnxRuntime())) throw new Error("onnxruntime-node did not load");
  const cfg = presetConfig("small");
  const threads = process.argv.slice(2).map(Number);
  for (const n of threads.length > 0 ? threads : [1, 2]) {
    const native = median(await nativeStepTimes(cfg, 8, 256, { threads: n, warmup: 2, steps: 3 }));
    const torch = torchStepSeconds(8, 256, n, 3);
    console.log(
      JSON.stringify({
        threads: n,
        nativeStepSeconds: native,
        nativeTokensPerSec: 2048 / native,
        torchStepSeconds: torch,
        torchTokensPerSec: torch ? 2048 / torch : undefined,
      }),
    );
  }
}
