/**
 * Timing helpers shared by the benches (bench/model.ts, bench/moe.ts): the median, wall-clock seconds of an async
 * piece of work, a seeded random text batch, and the median training-step time of a fresh model on the trainer
 * core (`forwardBackwardRows` + `optimStep`; glm4v_moe configs with the balance loss and bias update included).
 */
import { tree } from "@jax-js/jax";
import type { GlmvConfig } from "../src/model/config.ts";
import { buildTrainBatch, type TrainBatch } from "../src/model/model.ts";
import { initParams } from "../src/model/params.ts";
import { createTrainerCore } from "../src/model/trainer-core.ts";
import type { Backend } from "../src/model/trainer-core-config.ts";
import { AdamWConfig } from "../src/tensor/adamw.ts";
import { mulberry32 } from "../src/util/rng.ts";

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wall-clock seconds `fn` takes. */
export async function seconds(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/**
 * A text-only training batch [b, s] of seeded random ids below 96 (clear of the special-token ids), with the
 * loss on the last three quarters of each row. The caller owns the arrays.
 */
export function randomTextBatch(cfg: GlmvConfig, b: number, s: number, seed = 2): TrainBatch {
  const rand = mulberry32(seed);
  const used = Math.min(cfg.text.vocabSize, 96);
  const tokens = Array.from({ length: b }, () => Array.from({ length: s }, () => Math.floor(rand() * used)));
  const lossMask = tokens.map((row) => row.map((_, i) => (i >= s / 4 ? 1 : 0)));
  return buildTrainBatch(cfg, { tokens }, lossMask);
}

/** Options of `trainStepTimes`. */
export type StepTimingOptions = {
  /** Untimed steps first: the first compiles, the next lets memory and caches settle. Default 1. */
  warmup?: number;
  /** Timed steps. */
  steps: number;
  /** Awaited after each timed step, outside its timing (e.g. to measure the matmul peak beside it). */
  afterStep?: (index: number) => Promise<void>;
} & StepEngine;

/** The engine a timed step runs on: the trainer core's backend (default: the core's own choice) and threads. */
export type StepEngine = { backend?: Backend; threads?: number };

/**
 * Wall-clock seconds of each timed training step (forward + backward + AdamW, including reading the loss back)
 * of a freshly initialised `cfg` on a random text batch [b, s], after `warmup` untimed steps.
 * @example const times = await trainStepTimes(presetConfig("small"), 8, 256, { warmup: 2, steps: 5 });
 */
export async function trainStepTimes(
  cfg: GlmvConfig,
  b: number,
  s: number,
  opts: StepTimingOptions,
): Promise<number[]> {
  const { warmup = 1, steps, afterStep, backend, threads } = opts;
  const batch = randomTextBatch(cfg, b, s);
  const core = createTrainerCore(cfg, initParams(cfg, 1), {
    ...(backend ? { backend } : {}),
    ...(threads ? { nativeThreads: threads } : {}),
  });
  const adamw = AdamWConfig.parse({});
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const dt = await seconds(async () => {
        await core.forwardBackwardRows(tree.ref(batch), { kind: "cross_entropy" });
        await core.optimStep(1e-3, adamw); // reading the grad norm waits for the whole step
      });
      if (i >= warmup) {
        times.push(dt);
        await afterStep?.(i - warmup);
      }
    }
  } finally {
    core.dispose();
    tree.dispose(batch);
  }
  return times;
}

/**
 * Median seconds of one training step of a freshly initialised `cfg` on a random text batch [b, s], over `steps`
 * timed steps after an untimed first step (the compile). Returns tokens/s too.
 * @example const { tokensPerSec } = await trainStepRate(presetConfig("tiny-moe"), 8, 64, 5);
 */
export async function trainStepRate(
  cfg: GlmvConfig,
  b: number,
  s: number,
  steps: number,
  engine: StepEngine = {},
): Promise<{ stepSeconds: number; tokensPerSec: number }> {
  const stepSeconds = median(await trainStepTimes(cfg, b, s, { steps, ...engine }));
  return { stepSeconds, tokensPerSec: (b * s) / stepSeconds };
}
