/**
 * The RL runs of the main job (design.md "Embedded default"): one RL run from the SFT checkpoint into its own run
 * store, resumable and recorded in the store's meta (`rlPhase`), and the `--compare` continuation of RLCS to
 * uniform sampling's rollout budget (`compareAtUniformBudget`).
 */
import { join } from "node:path";
import { z } from "zod";
import type { TaskItem } from "../../data/tasks/types.ts";
import { writeFileAtomic } from "../../util/fs.ts";
import type { RlConfig } from "../loop/config.ts";
import type { Policy } from "../loop/policy.ts";
import type { RunStore } from "../loop/run-store.ts";
import { HeldoutResult, type StepMetrics } from "../loop/step-metrics.ts";
import { initialTrainerState, type RlContext, runRl, type Scorer } from "../loop/trainer.ts";
import { initialPromptStats } from "../loop/trainer-phases.ts";
import { type CompareResult, compareRuns, rolloutsToReach } from "./compare.ts";
import { noSignalWarning, recordWarning } from "./main-job-checks.ts";
import type { MainJobEngine, ProgressBars } from "./main-job-engine.ts";

/** The last held-out evaluation's responses, one JSON line per item in the eval harness's `synthetic` records. */
export const HELDOUT_RESPONSES = "heldout-responses.jsonl";

/** Held-out items and their greedy responses as `glmv eval score --task synthetic` records. */
export function heldoutRecords(items: readonly TaskItem[], responses: readonly string[]): string {
  return items
    .map((item, i) => {
      const { id, family, domain, level, question, options, answer } = item;
      return `${JSON.stringify({ id, family, domain, level, question, options, answer, response: responses[i] ?? "" })}\n`;
    })
    .join("");
}

/** The training pool and the held-out items of a run. */
export type Suites = { train: TaskItem[]; heldout: TaskItem[] };

/** What every RL run of a job shares: the engine, the SFT checkpoint, the suites, and where lines go. */
export type RlJob = {
  engine: MainJobEngine;
  /** The SFT checkpoint every RL run (and the control) starts from. */
  sftDir: string;
  suites: Suites;
  log: (line: string) => void;
  warn: (line: string) => void;
  progress?: ProgressBars | undefined;
};

/** One RL run: its store and config, its progress label, and the curriculum's offline difficulty. */
export type RlRun = {
  store: RunStore;
  config: RlConfig;
  label: string;
  /** Per training prompt, the `sft-likelihood` offline difficulty; absent: the task level. */
  difficulty?: ReadonlyMap<string, number> | undefined;
  /** The meta key its result is recorded under (default `rl`). */
  meta?: string | undefined;
  /** The last step to run (default `rl.steps`). */
  steps?: number | undefined;
  /** Stop after the first step for which this holds. */
  until?: ((m: StepMetrics) => boolean) | undefined;
  /**
   * Write the last evaluation's responses to `HELDOUT_RESPONSES` (default true); false for a run whose figures
   * are not the summary's (the compare extension), so the file stays what the summary's RL accuracy scored.
   */
  writeResponses?: boolean | undefined;
};

export type RlPhaseResult = { heldout: HeldoutResult; metrics: StepMetrics[]; seconds: number };

/** What the store's meta records of a finished RL run (its metrics are metrics.jsonl's). */
const RlPhaseRecord = z.object({ heldout: HeldoutResult, seconds: z.number() });

/**
 * One RL run from the SFT checkpoint into `run.store`, resumable; its result (held-out accuracy and seconds) is
 * recorded in the store's meta, and a finished run is read back from there and its metrics.jsonl.
 * @example const rl = await rlPhase(job, { store, config, label: "rl (rlcs)" }); rl.heldout.accuracy
 */
export async function rlPhase(job: RlJob, run: RlRun): Promise<RlPhaseResult> {
  const { store, config, label } = run;
  const meta = run.meta ?? "rl";
  const done = store.getMetaParsed(meta, RlPhaseRecord);
  // the meta records the result without its metrics: they are the store's
  if (done) return { heldout: done.heldout, seconds: done.seconds, metrics: store.readStepMetrics() };
  const { engine } = job;
  const policy = await engine.createPolicy(config.seed);
  const reward = engine.scorer();
  try {
    await policy.load(job.sftDir);
    engine.resetOptimizer(policy);
    const steps = run.steps ?? config.rl.steps;
    let lastResponses: string[] | undefined;
    const bar = job.progress?.(steps, label);
    await runRl(rlContext(job, run, policy, reward.score), {
      steps,
      until: run.until,
      store,
      resume: true,
      evaluate: async () => {
        const { responses, ...heldout } = await engine.evaluate(policy, job.suites.heldout);
        lastResponses = responses;
        return heldout;
      },
      onStep: (m) => {
        bar?.tick();
        if (m.step === 1 && m.sampledSignalRate === 0) recordWarning(store, job.warn, noSignalWarning(label));
        if (m.heldout) job.log(`${label} step ${m.step}: held-out ${(100 * m.heldout.accuracy).toFixed(1)}%`);
      },
    });
    bar?.stop();
    const metrics = store.readStepMetrics();
    const last = metrics.filter((m) => m.heldout).at(-1);
    const heldout = last?.heldout ?? (await engine.evaluate(policy, job.suites.heldout));
    // responses of the evaluation the figures came from (a resumed run whose last one predates the crash has none)
    if (run.writeResponses !== false && lastResponses && last?.heldout) {
      await writeFileAtomic(
        join(store.dir, HELDOUT_RESPONSES),
        heldoutRecords(job.suites.heldout, lastResponses),
      );
    }
    const result = { heldout, seconds: metrics.reduce((s, m) => s + (m.timings.step ?? 0), 0) };
    store.setMeta(meta, result);
    return { ...result, metrics };
  } finally {
    await reward.close();
    await policy.dispose();
  }
}

/** The trainer's context of one RL run: fresh curriculum state from the run's offline difficulty. */
function rlContext(job: RlJob, run: RlRun, policy: Policy, score: Scorer): RlContext {
  const { engine, suites } = job;
  return {
    config: run.config.rl,
    seed: run.config.seed,
    policy,
    items: new Map(suites.train.map((i) => [i.id, i])),
    toPrompt: engine.toPrompt,
    score,
    // the likelihood prior is kept fresh under the current policy (curriculum.rescorePerStep)
    referenceLikelihood:
      run.difficulty && engine.referenceLikelihood
        ? (items: readonly TaskItem[]) => engine.referenceLikelihood!(policy, items)
        : undefined,
    state: initialTrainerState(initialPromptStats(suites.train, run.difficulty)),
  };
}

/** The RLCS run `compareAtUniformBudget` continues: its store, config and offline difficulty. */
export type RlcsRun = Pick<RlRun, "store" | "config" | "difficulty">;

/**
 * RLCS spends fewer rollouts per step than uniform sampling, so equal steps are not an equal budget: continue the
 * RLCS run from its last checkpoint until it reaches uniform's final held-out accuracy or has spent as many
 * rollouts as uniform did (at most as many steps again), then compare the two (`compareRuns`). Returns the RLCS
 * run's metrics, extension included, and the comparison; the summary's RL figures stay those of the configured
 * steps.
 * @example const { compare } = await compareAtUniformBudget(job, { store, config }, uniformMetrics);
 */
export async function compareAtUniformBudget(
  job: RlJob,
  rlcs: RlcsRun,
  uniform: readonly StepMetrics[],
): Promise<{ rlcs: StepMetrics[]; compare: CompareResult }> {
  const target = uniform.filter((m) => m.heldout).at(-1)?.heldout?.accuracy;
  const budget = uniform.at(-1)?.rolloutsTotal ?? 0;
  const sofar = rlcs.store.readStepMetrics();
  const spent = sofar.at(-1)?.rolloutsTotal ?? 0;
  if (target === undefined || spent >= budget || rolloutsToReach(sofar, target) !== null)
    return { rlcs: sofar, compare: compareRuns(sofar, uniform) };
  await rlPhase(job, {
    ...rlcs,
    label: "rl (rlcs, on to uniform's rollouts)",
    meta: "rl-extended",
    writeResponses: false,
    steps: 2 * rlcs.config.rl.steps,
    until: (m) => m.rolloutsTotal >= budget || (m.heldout?.accuracy ?? 0) >= target - 1e-12,
  });
  const extended = rlcs.store.readStepMetrics();
  return { rlcs: extended, compare: compareRuns(extended, uniform) };
}
