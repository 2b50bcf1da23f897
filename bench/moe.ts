/**
 * `npm run bench:moe`: the MoE balance study (`npm run bench:model` also reports the step rate below).
 * 1. The `tiny-moe` training step (forward + backward + sequence balance loss + AdamW + bias update,
 *    the trainer core) on text-only [8×64] batches, in tokens/s (median step after the compile).
 * 2. Expert-load balance after a short training run on task text (questions, CoTs and boxed answers of the
 *    synthetic suite, packed into rows), with the loss-free bias update (u = 1e-3, and u = 1e-2 to show the
 *    trend in a short run) and without it (u = 0): per MoE layer the max/mean load and the idle experts, averaged
 *    over the last 10 steps. max/mean = 1 is a perfectly even load; E/k = 4 means every token goes to the same pair.
 * Ends with exactly one JSON line: {"tinyMoeTokensPerSec", "balance": {"u0": …, "u1e-3": …, "u1e-2": …}}.
 * 150 steps by default (GLMV_MOE_BENCH_STEPS); about 4 minutes on one thread. Measured (150 steps, layers 1/2):
 * u = 0 → max/mean 2.70/3.56, u = 1e-3 → 1.69/2.55, u = 1e-2 → 1.54/1.45 (no idle experts); 60 steps are too few
 * for u = 1e-3 to show (the bias moves at most 0.06).
 */
import { tree } from "@jax-js/jax";
import { buildSuite } from "../src/data/tasks/suite.ts";
import { type GlmvConfig, presetConfig } from "../src/model/config.ts";
import { buildTrainBatch, type TrainBatch } from "../src/model/model.ts";
import { expertLoadStats, moeLayerIndices } from "../src/model/moe-balance.ts";
import { initParams } from "../src/model/params.ts";
import { loadTinyTokenizer } from "../src/model/tokenizer.ts";
import { createTrainerCore } from "../src/model/trainer-core.ts";
import { AdamWConfig } from "../src/tensor/adamw.ts";
import { initTensorEngine } from "../src/tensor/engine.ts";
import { trainStepRate } from "./lib.ts";

/** Rows of `s` tokens cut from the suite's text (question, CoT, boxed answer), `b` rows per batch. */
async function textBatches(cfg: GlmvConfig, b: number, s: number, count: number): Promise<TrainBatch[]> {
  const tok = await loadTinyTokenizer();
  const items = buildSuite({ seed: 11, perFamily: 40, split: "train" });
  const stream = items.flatMap((it) =>
    tok.encode(`${it.question} <think>${it.cot}</think><|begin_of_box|>${it.responseAnswer}<|end_of_box|>\n`),
  );
  const batches: TrainBatch[] = [];
  for (let k = 0; k < count; k++) {
    const tokens = Array.from({ length: b }, (_, r) => {
      const at = ((k * b + r) * s) % Math.max(1, stream.length - s);
      return stream.slice(at, at + s);
    });
    batches.push(
      buildTrainBatch(
        cfg,
        { tokens },
        tokens.map((row) => row.map(() => 1)),
      ),
    );
  }
  return batches;
}

type Balance = { maxOverMean: number[]; idleExperts: number[]; finalLmLoss: number };

/** Train `steps` steps with bias rate `u`; balance figures averaged over the last 10 steps, per MoE layer. */
async function balanceRun(
  cfg: GlmvConfig,
  batches: TrainBatch[],
  u: number,
  steps: number,
): Promise<Balance> {
  const layers = moeLayerIndices(cfg);
  const core = createTrainerCore(cfg, initParams(cfg, 3), { moeBalance: { biasUpdateRate: u } });
  const adamw = AdamWConfig.parse({});
  const ratio = layers.map(() => 0);
  const idle = layers.map(() => 0);
  let lm = 0;
  const tail = 10;
  try {
    for (let i = 0; i < steps; i++) {
      const out = await core.forwardBackwardRows(tree.ref(batches[i % batches.length]!), {
        kind: "cross_entropy",
      });
      await core.optimStep(3e-3, adamw);
      lm = out.loss;
      if (i < steps - tail) continue;
      const stats = expertLoadStats(out.loads ?? [], layers);
      stats.forEach((st, j) => {
        ratio[j]! += st.maxOverMean / tail;
        idle[j]! += st.idleExperts.length / tail;
      });
    }
  } finally {
    core.dispose();
  }
  const r2 = (x: number) => Number(x.toFixed(2));
  return { maxOverMean: ratio.map(r2), idleExperts: idle.map(r2), finalLmLoss: r2(lm) };
}

async function main(): Promise<void> {
  await initTensorEngine();
  const t0 = performance.now();
  const cfg = presetConfig("tiny-moe");
  const rate = (await trainStepRate(cfg, 8, 64, 5)).tokensPerSec;
  console.log(`train step tiny-moe [8×64]: ${rate.toFixed(0)} tokens/s`);
  const steps = Number(process.env.GLMV_MOE_BENCH_STEPS ?? 150);
  const batches = await textBatches(cfg, 8, 64, 20);
  const balance: Record<string, Balance> = {};
  for (const [name, u] of [
    ["u0", 0],
    ["u1e-3", 1e-3],
    ["u1e-2", 1e-2],
  ] as const) {
    balance[name] = await balanceRun(cfg, batches, u, steps);
    const b = balance[name]!;
    console.log(
      `balance after ${steps} steps, ${name}: max/mean per MoE layer ${b.maxOverMean.join(", ")}; idle experts ${b.idleExperts.join(", ")}; LM loss ${b.finalLmLoss}`,
    );
  }
  tree.dispose(batches);
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log(JSON.stringify({ tinyMoeTokensPerSec: Math.round(rate), balance }));
}

await main();
