/**
 * What the native engine's training step is measured against (bench:model, issue 22): the PyTorch reference on
 * the same decoder and batch (bench/torch_step.py) and the CPU's FP32 peak from `lscpu`. The native step itself is
 * the trainer core's (`trainStepTimes` with `backend: "native"`).
 *
 * Run alone: node --import tsx bench/native-step.ts [threads…] — the `small` step on the native engine and in
 * PyTorch, per thread count.
 */
import { execFileSync } from "node:child_process";
import { presetConfig } from "../src/model/config.ts";
import { initTensorEngine } from "../src/tensor/engine.ts";
import { loadOnnxRuntime } from "../src/tensor/onnx/program.ts";
import { median, trainStepTimes } from "./lib.ts";

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
    const native = median(
      await trainStepTimes(cfg, 8, 256, { backend: "native", threads: n, warmup: 2, steps: 3 }),
    );
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
