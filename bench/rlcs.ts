/**
 * `npm run bench:rlcs -- --from RUN_DIR [--seeds 1,2,3,4,5] [--out DIR]`: RLCS against uniform sampling over several
 * RL seeds, all from the SFT checkpoint and offline difficulty of one finished main-job run (`glmv rl --out
 * RUN_DIR`), on its training pool and held-out items. Per seed it runs what `glmv rl --compare` runs after SFT:
 * uniform for the configured steps, RLCS for as many and then on to uniform's rollouts, and reports the rollouts
 * RLCS needed to reach uniform's final accuracy (`compareAtUniformBudget`). Runs are kept under
 * `DIR/seed-N/{uniform,rlcs}` and resume where they stopped. Prints a line per seed, then one JSON line.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLocalEngine } from "../src/rl/job/local-engine.ts";
import { compareAtUniformBudget, type RlJob, rlPhase } from "../src/rl/job/main-job-rl.ts";
import { buildSuites } from "../src/rl/job/suites.ts";
import { RlConfig, StoredRlConfig } from "../src/rl/loop/config.ts";
import { RunStore } from "../src/rl/loop/run-store.ts";
import type { StepMetrics } from "../src/rl/loop/trainer.ts";
import { initTensorEngine } from "../src/tensor/engine.ts";

const { values } = parseArgs({
  options: {
    from: { type: "string" },
    seeds: { type: "string", default: "1,2,3,4,5" },
    out: { type: "string" },
  },
});
if (!values.from || !existsSync(join(values.from, "sft")))
  throw new Error("--from must name a finished main-job run folder (with sft/), e.g. runs/main");
const from = values.from;
const outDir = values.out ?? join(from, "rlcs-bench");
const seeds = values.seeds.split(",").map(Number);

await initTensorEngine();
const source = RunStore.open(from);
const config = source.readConfig(StoredRlConfig);
const offline = source.getMeta<{ difficulty: Record<string, number> }>("offline");
source.close();
const difficulty = offline ? new Map(Object.entries(offline.difficulty)) : undefined;
// the run's pool and held-out items (they follow the run's seed); only the RL seed varies
const suites = buildSuites(config);
const sftDir = join(from, "sft");
const engine = await createLocalEngine(config);

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const openStore = async (dir: string, cfg: RlConfig) =>
  existsSync(join(dir, "config.yaml")) ? RunStore.open(dir) : RunStore.create(dir, RlConfig, cfg);

const results = [];
for (const seed of seeds) {
  const dir = join(outDir, `seed-${seed}`);
  const rlcsConfig = RlConfig.parse({ ...config, seed, rl: { ...config.rl, sampler: "rlcs" } });
  const uniformConfig = RlConfig.parse({ ...config, seed, rl: { ...config.rl, sampler: "uniform" } });
  const job: RlJob = {
    engine,
    sftDir,
    suites,
    log: (line) => console.log(`seed ${seed} ${line}`),
    warn: (line) => console.warn(`seed ${seed} warning: ${line}`),
  };
  const uniformStore = await openStore(join(dir, "uniform"), uniformConfig);
  const rlcsStore = await openStore(join(dir, "rlcs"), rlcsConfig);
  try {
    const uniformRun = { store: uniformStore, config: uniformConfig, label: "uniform" };
    const uniform = (await rlPhase(job, uniformRun)).metrics;
    const rlcsRun = { store: rlcsStore, config: rlcsConfig, difficulty };
    await rlPhase(job, { ...rlcsRun, label: "rlcs" });
    const { rlcs, compare } = await compareAtUniformBudget(job, rlcsRun, uniform);
    const steps = (ms: StepMetrics[]) => ms.filter((m) => m.step <= config.rl.steps);
    const signal = {
      rlcs: mean(steps(rlcs).map((m) => m.sampledSignalRate)),
      uniform: mean(steps(uniform).map((m) => m.sampledSignalRate)),
    };
    const best = Math.max(...rlcs.flatMap((m) => (m.heldout ? [m.heldout.accuracy] : [])));
    results.push({ seed, ...compare, rlcsSteps: rlcs.at(-1)?.step ?? 0, rlcsBestAccuracy: best, signal });
    console.log(
      `seed ${seed}: uniform ${compare.target.toFixed(3)} first at ${compare.uniformRollouts} rollouts; RLCS ${
        compare.rlcsRollouts === null
          ? `not within ${rlcs.at(-1)?.rolloutsTotal} (best ${best.toFixed(3)})`
          : `at ${compare.rlcsRollouts}`
      }; ratio ${compare.ratio?.toFixed(2) ?? "n/a"}; sampled-signal rate ${signal.rlcs.toFixed(2)} / ${signal.uniform.toFixed(2)}`,
    );
  } finally {
    uniformStore.close();
    rlcsStore.close();
  }
}
const met = results.filter((r) => r.ratio !== null && r.ratio <= 0.6).length;
console.log(JSON.stringify({ bench: "rlcs", from, seeds: results, metTarget: `${met}/${results.length}` }));
