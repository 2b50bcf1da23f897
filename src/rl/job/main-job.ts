/**
 * The embedded default pipeline behind `glmv rl` (design.md "Embedded default"): build the synthetic suite, SFT the
 * tiny model on the format, run RLCS-GRPO from the SFT checkpoint, evaluate on held-out items, run the honest control
 * (continued SFT from the same checkpoint for the same wall time as RL), optionally the uniform-sampling control
 * (`--compare`), and write `summary.json`, `compare.json` and `report.html` into the run folder.
 *
 * Every phase is recorded in the run's SQLite meta when it completes, so `--resume` skips finished phases; RL itself
 * resumes from its last checkpoint. The engine (model, SFT, evaluation, rewards) is injected, so the same pipeline
 * runs on the local tiny model or on anything else behind `Policy`.
 */
import { existsSync, promises as fsp } from "node:fs";
import { join } from "node:path";
import { GlmvError, isGlmvError } from "../../util/errors.ts";
import { tempSibling, writeFileAtomic } from "../../util/fs.ts";
import {
  type ResolvedOfflineDifficulty,
  type RlConfig,
  RlConfig as RlConfigSchema,
  StoredRlConfig,
} from "../loop/config.ts";
import type { Policy } from "../loop/policy.ts";
import { RunStore } from "../loop/run-store.ts";
import type { HeldoutResult, StepMetrics } from "../loop/step-metrics.ts";
import type { RolloutRecord } from "../loop/trainer.ts";
import type { CompareResult } from "./compare.ts";
import { finishedSummary, recordWarning, zeroSftWarning } from "./main-job-checks.ts";
import type { MainJobEngine, ProgressBars } from "./main-job-engine.ts";
import { compareAtUniformBudget, type RlJob, type RlPhaseResult, rlPhase } from "./main-job-rl.ts";
import { renderReport, reportRollouts } from "./report.ts";
import { buildSuites, labelledSftSet } from "./suites.ts";
import { SftPhaseResult, type Summary, summarizeRun } from "./summary.ts";

export type MainJobOptions = {
  outDir: string;
  /** Ignored on resume (the run's own config.yaml is used). */
  config: RlConfig;
  engine: MainJobEngine;
  resume?: boolean | undefined;
  compare?: boolean | undefined;
  log?: ((line: string) => void) | undefined;
  /** Where warnings go (a zero-signal RL run, a repaired metrics file); default: `log` with a "warning: " prefix. */
  warn?: ((line: string) => void) | undefined;
  /** Progress bar factory (a TTY bar in the CLI, silent elsewhere). */
  progress?: ProgressBars | undefined;
};

/** Save a policy's weights into `dir` atomically (built beside it, then renamed). */
async function savePolicyAtomic(policy: Policy, dir: string): Promise<void> {
  const staging = tempSibling(dir);
  await policy.save(staging);
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rename(staging, dir);
}

const familyLine = (label: string, r: HeldoutResult) =>
  `${label}: ${(100 * r.accuracy).toFixed(1)}% (${Object.entries(r.perFamily)
    .map(([f, a]) => `${f} ${(100 * a).toFixed(1)}%`)
    .join(", ")}${
    r.perLevel
      ? `; ${Object.entries(r.perLevel)
          .map(([l, a]) => `level ${l} ${(100 * a).toFixed(1)}%`)
          .join(", ")}`
      : ""
  }; ${r.items} held-out items${
    r.sampledAccuracy !== undefined
      ? `; sampled at the rollout temperature ${(100 * r.sampledAccuracy).toFixed(1)}%`
      : ""
  })`;

const cannotScore = () =>
  new GlmvError(
    "bad_config",
    "this engine cannot score reference responses (use curriculum.offline: level)",
    {
      where: "rl.curriculum.offline",
    },
  );

type OfflineScores = { seconds: number; difficulty: Record<string, number> };

/**
 * The offline difficulty a run uses: `auto` becomes `sft-likelihood` where the engine can score and some RLCS run
 * will use it (not for a lone uniform run), else `level`.
 */
function resolveOffline(
  config: RlConfig,
  engine: MainJobEngine,
  compare: boolean,
): ResolvedOfflineDifficulty {
  const wanted = config.rl.curriculum.offline;
  const curriculumRuns = config.rl.sampler === "rlcs" || compare;
  if (wanted === "auto") return engine.referenceLikelihood && curriculumRuns ? "sft-likelihood" : "level";
  // fail before SFT, not after it
  if (wanted === "sft-likelihood" && !engine.referenceLikelihood) throw cannotScore();
  return wanted;
}

/**
 * The `sft-likelihood` offline difficulty of every training prompt, 1 − π_SFT(y*|x), scored once from the SFT
 * checkpoint and kept in the run's meta (a resumed run does not score again). Under `auto`, a trainer that turns
 * out to have no prompt logprobs leaves the run on the task level (undefined) instead of failing it.
 */
async function scoreOfflineDifficulty(job: JobContext): Promise<OfflineScores | undefined> {
  const { store, config, sftDir, engine, log } = job;
  const train = job.suites.train;
  if (job.offlineKind === "level") return undefined;
  const done = store.getMeta<OfflineScores>("offline");
  if (done) return done;
  if (!engine.referenceLikelihood) throw cannotScore();
  const t0 = performance.now();
  const policy = await engine.createPolicy(config.seed);
  try {
    await policy.load(sftDir);
    engine.resetOptimizer(policy); // this policy only scores: a remote trainer then loads the weights alone
    let likelihood: number[];
    try {
      likelihood = await engine.referenceLikelihood(policy, train);
    } catch (e) {
      // `auto` asked for the likelihood only where it can be had: a trainer without prompt logprobs (SkyRL's Tinker
      // server) leaves the run on the task level, as if the engine could not score at all
      const auto = config.rl.curriculum.offline === "auto";
      if (!(auto && isGlmvError(e) && e.where === "asample.prompt_logprobs")) throw e;
      log(`offline difficulty: ${e.message}; using the task level`);
      return undefined;
    }
    const difficulty = Object.fromEntries(train.map((item, i) => [item.id, 1 - likelihood[i]!]));
    const scores = { seconds: (performance.now() - t0) / 1000, difficulty };
    store.setMeta("offline", scores);
    return scores;
  } finally {
    await policy.dispose();
  }
}

/** What every phase of one main job shares: the run store and its config, the suites, the engine, the log. */
type JobContext = RlJob & {
  opts: MainJobOptions;
  store: RunStore;
  /** The run's own config (config.yaml: on resume, not `opts.config`). */
  config: RlConfig;
  offlineKind: ResolvedOfflineDifficulty;
};

/** The run's store: the existing one on resume, else a new one with `opts.config`. */
const openRunStore = async (opts: MainJobOptions, warn: (line: string) => void) =>
  opts.resume && existsSync(join(opts.outDir, "config.yaml"))
    ? RunStore.open(opts.outDir, { warn })
    : await RunStore.create(opts.outDir, RlConfigSchema, opts.config, { warn });

function jobContext(opts: MainJobOptions, store: RunStore, log: JobContext["log"], warn: JobContext["warn"]) {
  const config = store.readConfig(StoredRlConfig);
  // fail before SFT, not after it
  const offlineKind = resolveOffline(config, opts.engine, opts.compare === true);
  const suites = buildSuites(config);
  log(
    `suite: ${suites.train.length} training prompts, ${suites.heldout.length} held-out items (${config.data.families.join(", ")})`,
  );
  const sftDir = join(opts.outDir, "sft");
  const job: JobContext = {
    opts,
    store,
    config,
    offlineKind,
    engine: opts.engine,
    sftDir,
    suites,
    log,
    warn,
  };
  if (opts.progress) job.progress = opts.progress;
  return job;
}

/** SFT on the format from fresh weights (once: a resumed run reads its result back), and its warning. */
async function sftPhase(job: JobContext): Promise<SftPhaseResult> {
  const done = job.store.getMetaParsed("sft", SftPhaseResult);
  const sft = done && existsSync(job.sftDir) ? done : await formatSft(job);
  job.log(familyLine("after SFT", sft.heldout));
  const sftWarning = zeroSftWarning(job.config, sft.heldout);
  if (sftWarning) recordWarning(job.store, job.warn, sftWarning);
  return sft;
}

async function formatSft({ engine, config, suites, store, sftDir, progress, log }: JobContext) {
  const policy = await engine.createPolicy(config.seed);
  try {
    const bar = progress?.(config.sft.steps, "sft");
    const sftLevels = config.data.sftLevels ?? config.data.levels;
    const sftItems = labelledSftSet(suites.train, sftLevels, config.data.sftItemsPerFamily);
    if (sftItems.length === 0)
      throw new GlmvError("bad_config", `no training item has an SFT level (${sftLevels.join(", ")})`, {
        where: "data.sftLevels",
      });
    const run = await engine.sft(policy, sftItems, {
      steps: config.sft.steps,
      lr: config.sft.lr,
      warmupSteps: config.sft.warmupSteps,
      seed: config.seed,
      onStep: (step) => {
        bar?.tick();
        if (step % 50 === 0) log(`sft step ${step}/${config.sft.steps}`);
      },
    });
    bar?.stop();
    await savePolicyAtomic(policy, sftDir);
    const sft: SftPhaseResult = { heldout: await engine.evaluate(policy, suites.heldout), ...run };
    store.setMeta("sft", sft);
    return sft;
  } finally {
    await policy.dispose();
  }
}

/** The curriculum's offline difficulty, when it is not the task level. */
async function offlinePhase(job: JobContext): Promise<OfflineScores | undefined> {
  const offline = await scoreOfflineDifficulty(job);
  if (offline)
    job.log(
      `offline difficulty: ${job.suites.train.length} prompts scored in ${offline.seconds.toFixed(0)} s`,
    );
  return offline;
}

/** RL (RLCS by default) from the SFT checkpoint, into the job's own store. */
async function mainRlPhase(
  job: JobContext,
  difficulty?: ReadonlyMap<string, number>,
): Promise<RlPhaseResult> {
  const { store, config } = job;
  const rl = await rlPhase(job, { store, config, label: `rl (${config.rl.sampler})`, difficulty });
  job.log(familyLine(`after RL (${config.rl.sampler})`, rl.heldout));
  return rl;
}

/** The honest control: continued SFT from the same checkpoint for RL's wall time (once; off with `control`). */
async function controlPhase(job: JobContext, rlSeconds: number): Promise<SftPhaseResult | undefined> {
  const { engine, config, store, suites } = job;
  let control = store.getMetaParsed("control", SftPhaseResult);
  if (!control && config.control) {
    const policy = await engine.createPolicy(config.seed);
    try {
      await policy.load(job.sftDir);
      engine.resetOptimizer(policy);
      const run = await engine.sft(policy, suites.train, {
        seconds: rlSeconds,
        lr: config.sft.lr,
        warmupSteps: config.sft.warmupSteps,
        seed: config.seed + 1,
      });
      control = { heldout: await engine.evaluate(policy, suites.heldout), ...run };
      store.setMeta("control", control);
    } finally {
      await policy.dispose();
    }
  }
  if (control) job.log(familyLine(`continued SFT (${control.steps} steps, same wall time)`, control.heldout));
  return control;
}

/** The `--compare` result and the other sampler's curve for the report. */
type Compared = { compare: CompareResult; controlRun: { name: string; metrics: StepMetrics[] } };

/**
 * `--compare`: the same RL with the other sampler, from the same SFT checkpoint, in its own run folder; RLCS then
 * runs on to uniform's rollouts (`compareAtUniformBudget`). Writes compare.json.
 */
async function comparePhase(
  job: JobContext,
  metrics: StepMetrics[],
  difficulty?: ReadonlyMap<string, number>,
): Promise<Compared> {
  const { config, store, opts } = job;
  const other = config.rl.sampler === "uniform" ? "rlcs" : "uniform";
  const otherConfig = { ...config, rl: { ...config.rl, sampler: other } } as RlConfig;
  const dir = join(opts.outDir, other);
  const otherStore = existsSync(join(dir, "config.yaml"))
    ? RunStore.open(dir, { warn: job.warn })
    : await RunStore.create(dir, RlConfigSchema, otherConfig, { warn: job.warn });
  let compared: Compared;
  try {
    const otherRun = { store: otherStore, config: otherConfig, difficulty };
    const otherRl = await rlPhase(job, { ...otherRun, label: `rl (${other})` });
    job.log(familyLine(`after RL (${other})`, otherRl.heldout));
    const [rlcs, uniform] =
      other === "uniform" ? [{ store, config, difficulty }, otherRl.metrics] : [otherRun, metrics];
    const equalBudget = await compareAtUniformBudget(job, rlcs, uniform);
    const controlMetrics = other === "uniform" ? otherRl.metrics : equalBudget.rlcs;
    compared = { compare: equalBudget.compare, controlRun: { name: other, metrics: controlMetrics } };
  } finally {
    otherStore.close();
  }
  const { compare } = compared;
  await writeFileAtomic(join(opts.outDir, "compare.json"), `${JSON.stringify(compare, null, 2)}\n`);
  job.log(
    `compare: RLCS reached uniform's final ${(100 * compare.target).toFixed(1)}% after ${compare.rlcsRollouts ?? "never"} rollouts vs ${compare.uniformRollouts} (ratio ${compare.ratio?.toFixed(2) ?? "n/a"})`,
  );
  return compared;
}

/** summary.json and report.html (the last 3 steps' rollouts as samples). */
async function reportPhase(
  job: JobContext,
  summary: Summary,
  metrics: readonly StepMetrics[],
  compared: Compared | undefined,
): Promise<void> {
  const { opts, store, config, suites } = job;
  await writeFileAtomic(join(opts.outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  const items = new Map(suites.train.map((i) => [i.id, i]));
  const lastSteps = metrics.slice(-3).flatMap((m) => store.readRollouts(m.step) as RolloutRecord[]);
  const html = renderReport({
    title: `glmv rl (${config.rl.sampler})`,
    summary: { ...summary, ...(compared ? { compare: compared.compare } : {}) },
    metrics,
    control: compared?.controlRun,
    sftAccuracy: summary.sft.accuracy,
    rollouts: await reportRollouts(lastSteps, items),
  });
  await writeFileAtomic(join(opts.outDir, "report.html"), html);
  job.log(`wrote ${join(opts.outDir, "summary.json")} and report.html`);
}

/**
 * Run (or resume) the whole pipeline, phase by phase over one job context: SFT → offline difficulty → RL →
 * control → `--compare` → summary and report. Returns the summary that is also written to `summary.json`.
 * @example await runMainJob({ outDir: "runs/main", config: parseRlConfig({}), engine })
 */
export async function runMainJob(opts: MainJobOptions): Promise<Summary> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const warn = opts.warn ?? ((line: string) => log(`warning: ${line}`));
  // a finished run is left as it is: resuming it again must not rewrite its summary (wallSeconds) or report
  const finished = opts.resume ? finishedSummary(opts.outDir, opts.compare === true) : undefined;
  if (finished) {
    log(`${opts.outDir} is already finished (summary.json, report.html); nothing to resume`);
    return finished;
  }
  const store = await openRunStore(opts, warn);
  try {
    const job = jobContext(opts, store, log, warn);
    const sft = await sftPhase(job);
    const offline = await offlinePhase(job);
    const difficulty = offline && new Map(Object.entries(offline.difficulty));
    const rl = await mainRlPhase(job, difficulty);
    // the configured steps only (a --compare run may have continued RLCS past them; compareAtUniformBudget)
    const metrics = rl.metrics.filter((m) => m.step <= job.config.rl.steps);
    const control = await controlPhase(job, rl.seconds);
    const compared = opts.compare ? await comparePhase(job, metrics, difficulty) : undefined;
    const summary = summarizeRun({
      sampler: job.config.rl.sampler,
      sft,
      rl,
      metrics,
      control,
      offline,
      wallSeconds: (Date.now() - started) / 1000,
      warnings: store.getMeta<string[]>("warnings") ?? [],
    });
    await reportPhase(job, summary, metrics, compared);
    return summary;
  } finally {
    store.close();
  }
}
