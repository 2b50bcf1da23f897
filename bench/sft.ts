/**
 * `node --import tsx bench/sft.ts [--steps N] [--rows N] [--context N] [--families a,b] [--per-family N]
 * [--heldout N] [--eval-every N] [--lr X] [--seed N]`: SFT of the tiny preset on the synthetic suite, with the
 * packed-step throughput, the fill ratio and held-out accuracy per family. Prints progress, then one JSON line.
 */
import { parseArgs } from "node:util";
import { buildSuite } from "../src/data/tasks/suite.ts";
import { TASK_FAMILIES, type TaskFamily } from "../src/data/tasks/types.ts";
import { presetConfig } from "../src/model/config.ts";
import { initParams } from "../src/model/params.ts";
import { loadTinyTokenizer } from "../src/model/tokenizer.ts";
import { LocalPolicy } from "../src/rl/engines/local/local-policy.ts";
import { runSft } from "../src/rl/job/sft.ts";
import { initTensorEngine } from "../src/tensor/engine.ts";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "80" },
    rows: { type: "string", default: "12" },
    context: { type: "string", default: "256" },
    families: { type: "string", default: TASK_FAMILIES.join(",") },
    "per-family": { type: "string", default: "600" },
    heldout: { type: "string", default: "64" },
    "eval-every": { type: "string", default: "0" },
    lr: { type: "string", default: "3e-3" },
    seed: { type: "string", default: "1" },
    levels: { type: "string", default: "1,2,3" },
    "min-lr": { type: "string", default: "3e-4" },
  },
});
const countBy = (xs: string[]) => {
  const m: Record<string, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
};
const num = (k: keyof typeof values) => Number(values[k]);
await initTensorEngine();
const tok = await loadTinyTokenizer();
const cfg = presetConfig("tiny", { text: { vocabSize: tok.vocabSize } });
const families = String(values.families).split(",") as TaskFamily[];
const seed = num("seed");
const levels = String(values.levels).split(",").map(Number);
const train = buildSuite({ seed, families, levels, perFamily: num("per-family"), split: "train" });
const heldout = buildSuite({ seed, families, levels, perFamily: num("heldout"), split: "heldout" });
const policy = new LocalPolicy(cfg, initParams(cfg, seed), tok, { batchSize: 32, promptLen: 48 });
const t0 = performance.now();
const result = await runSft(
  policy,
  train,
  heldout,
  {
    steps: num("steps"),
    rows: num("rows"),
    context: num("context"),
    imageSlots: num("rows") * 6,
    lr: num("lr"),
    minLr: num("min-lr"),
    warmupSteps: 10, // the warm-up its recorded figures were measured with
    evalEvery: num("eval-every"),
    seed,
  },
  {
    onStep: (l) => {
      if (l.step % 10 === 0 || l.step === 1)
        console.log(
          `step ${l.step} loss ${l.loss.toFixed(3)} lr ${l.lr.toExponential(2)} samples ${l.samples} fill ${l.fill.toFixed(2)} ${Math.round(l.tokensPerSecond)} tok/s ${(l.seconds * 1000).toFixed(0)} ms`,
        );
    },
    onEval: (step, r) =>
      console.log(
        `answers ${JSON.stringify(countBy(r.results.map((x) => x.text.match(/box\|>(.*?)<\|end/)?.[1] ?? "?")))}\n` +
          `eval @${step}: acc ${r.accuracy.toFixed(3)} format ${r.formatOk.toFixed(2)} ${Object.entries(
            r.perFamily,
          )
            .map(([f, c]) => `${f} ${c.accuracy.toFixed(2)}`)
            .join(" ")}`,
      ),
  },
);
const last = result.evals.at(-1)?.report;
console.log(
  JSON.stringify({
    steps: num("steps"),
    tokensPerSecond: Math.round(result.tokensPerSecond),
    fill: Number(result.fill.toFixed(3)),
    samplesPerStep: result.logs.reduce((a, l) => a + l.samples, 0) / result.logs.length,
    finalLoss: result.logs.at(-1)?.loss,
    heldoutAccuracy: last?.accuracy,
    formatOk: last?.formatOk,
    perFamily: Object.fromEntries(Object.entries(last?.perFamily ?? {}).map(([f, c]) => [f, c.accuracy])),
    wallSeconds: Math.round((performance.now() - t0) / 1000),
  }),
);
policy.dispose();
