/**
 * `npm run bench -- difficulty --from RUN_DIR [--checkpoint DIR] [--prompts 300] [--rollouts 16] [--draw 22]`: how
 * well RLCS's likelihood difficulty predicts which prompts give a group with signal, at one checkpoint of a finished
 * main-job run (default: its SFT checkpoint).
 *
 * It takes `--prompts` random training prompts (one step's rescored candidates), scores each one's reference
 * likelihood ℓ as the rescore phase does, and samples `--rollouts` rollouts per prompt as RL does to measure its
 * pass rate p. It prints, by bins of ℓ, the mean p and the probability that a group of G rollouts disagrees,
 * signal(p) = 1 − p^G − (1 − p)^G; the Platt calibration of ℓ fitted on all prompts (calibration.ts); and the
 * expected signal of a draw of `--draw` prompts from the candidates: uniform, by curriculum weights
 * `floor + signal(p̂)^sharpness` for several settings (p̂ the calibrated ℓ), the `--draw` best by p̂, and the
 * oracle (the `--draw` best by the measured p). Then one JSON line.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { calibratedPassRate, fitCalibration } from "../src/rl/algorithm/calibration.ts";
import {
  CURRICULUM_DEFAULTS,
  curriculumWeight,
  newPromptStats,
  sampleUniform,
  sampleWithoutReplacement,
  signalProbability,
} from "../src/rl/algorithm/curriculum.ts";
import { createLocalEngine } from "../src/rl/job/local-engine.ts";
import { buildSuites } from "../src/rl/job/suites.ts";
import { StoredRlConfig } from "../src/rl/loop/config.ts";
import { RunStore } from "../src/rl/loop/run-store.ts";
import { scoreInputs } from "../src/rl/loop/trainer-phases.ts";
import { initTensorEngine } from "../src/tensor/engine.ts";
import { deriveSeed, mulberry32 } from "../src/util/rng.ts";

const { values } = parseArgs({
  options: {
    from: { type: "string" },
    checkpoint: { type: "string" },
    prompts: { type: "string", default: "300" },
    rollouts: { type: "string", default: "16" },
    draw: { type: "string", default: "22" },
  },
});
if (!values.from || !existsSync(join(values.from, "sft")))
  throw new Error("--from must name a finished main-job run folder (with sft/), e.g. runs/main");
const checkpoint = values.checkpoint ?? join(values.from, "sft");
const [nPrompts, nRollouts, nDraw] = [values.prompts, values.rollouts, values.draw].map(Number) as [
  number,
  number,
  number,
];

await initTensorEngine();
const source = RunStore.open(values.from);
const config = source.readConfig(StoredRlConfig);
source.close();
const rl = config.rl;
const engine = await createLocalEngine(config);
if (!engine.referenceLikelihood) throw new Error("the local engine cannot score reference responses");
const policy = await engine.createPolicy(config.seed);
await policy.load(checkpoint);

const byId = new Map(buildSuites(config).train.map((item) => [item.id, item]));
const ids = sampleUniform(
  [...byId.keys()],
  nPrompts,
  mulberry32(deriveSeed(config.seed, "bench-difficulty")),
);
const items = ids.map((id) => byId.get(id)!);
const likelihood = await engine.referenceLikelihood(policy, items);
const { score, close } = engine.scorer();
const passRate: number[] = [];
for (let at = 0; at < items.length; at += config.batchSize) {
  const chunk = items.slice(at, at + config.batchSize);
  const rollouts = await policy.generate(chunk.map(engine.toPrompt), {
    n: nRollouts,
    temperature: rl.temperature,
    topP: rl.topP,
    maxNewTokens: rl.maxNewTokens,
    thinkBudget: rl.thinkBudget,
    style: rl.style,
    seed: deriveSeed(config.seed, "bench-difficulty-gen", at),
  });
  const results = await score(scoreInputs(chunk, rollouts, rl.style));
  for (let i = 0; i < chunk.length; i++) {
    const group = results.slice(i * nRollouts, (i + 1) * nRollouts);
    passRate.push(group.filter((r) => r.correct).length / nRollouts);
  }
}
await close();
await policy.dispose();

const G = rl.groupSize;
const signal = (p: number) => signalProbability(p, G);
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const prompts = items.map((_, i) => ({ i, likelihood: likelihood[i]!, pass: passRate[i]! }));
console.log(
  `checkpoint ${checkpoint}: ${nPrompts} prompts × ${nRollouts} rollouts, mean pass rate ${mean(passRate).toFixed(3)}`,
);

const edges = [0, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1 + 1e-9];
for (let b = 0; b + 1 < edges.length; b++) {
  const inBin = prompts.filter((p) => p.likelihood >= edges[b]! && p.likelihood < edges[b + 1]!);
  if (inBin.length === 0) continue;
  const p = mean(inBin.map((x) => x.pass));
  const s = mean(inBin.map((x) => signal(x.pass)));
  const bin = `[${edges[b]}, ${Math.min(1, edges[b + 1]!)})`;
  console.log(`  ℓ in ${bin}: ${inBin.length} prompts, pass ${p.toFixed(2)}, signal ${s.toFixed(2)}`);
}

const fit = fitCalibration(
  prompts.map((p) => ({ step: 0, likelihood: p.likelihood, right: p.pass * nRollouts, trials: nRollouts })),
  rl.curriculum.calibrationPrior,
);
console.log(`Platt calibration of ℓ: slope ${fit.slope.toFixed(2)}, intercept ${fit.intercept.toFixed(2)}`);
const predicted = prompts.map((p) => calibratedPassRate(fit, p.likelihood));

/** Expected signal of `nDraw` prompts drawn (200 times) with the given weights. */
const drawnSignal = (weights: readonly number[]): number => {
  const rand = mulberry32(1);
  const items = prompts.map((p) => ({ id: String(p.i), weight: weights[p.i]! }));
  const trials = Array.from({ length: 200 }, () =>
    mean(sampleWithoutReplacement(items, nDraw, rand).map((id) => signal(passRate[Number(id)]!))),
  );
  return mean(trials);
};
const topSignal = (key: (i: number) => number): number =>
  mean(
    [...prompts]
      .sort((a, b) => key(b.i) - key(a.i))
      .slice(0, nDraw)
      .map((p) => signal(p.pass)),
  );

const figures: Record<string, number> = { uniform: mean(prompts.map((p) => signal(p.pass))) };
// the RL loop's weight of a fresh prompt (no rollouts yet) whose estimated pass rate is p
for (const [sharpness, floor] of [
  [2, 0.02],
  [4, 0.005],
  [8, 0.001],
  [16, 0.001],
  [32, 0.001],
] as const)
  figures[`sharpness ${sharpness}, floor ${floor}`] = drawnSignal(
    predicted.map((p) =>
      curriculumWeight(newPromptStats(1 - p), 0, { ...CURRICULUM_DEFAULTS, groupSize: G, sharpness, floor }),
    ),
  );
figures[`best ${nDraw} by ℓ`] = topSignal((i) => signal(predicted[i]!));
figures[`oracle best ${nDraw}`] = topSignal((i) => signal(passRate[i]!));
console.log(`expected signal of ${nDraw} prompts drawn from these ${nPrompts}:`);
for (const [name, value] of Object.entries(figures)) console.log(`  ${name.padEnd(26)} ${value.toFixed(3)}`);
console.log(JSON.stringify({ bench: "difficulty", checkpoint, calibration: fit, expectedSignal: figures }));
