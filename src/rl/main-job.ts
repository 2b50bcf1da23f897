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
import type { TaskItem } from "../data/tasks/types.ts";
import { GlmvError, isGlmvError } from "../util/errors.ts";
import { tempSibling, writeFileAtomic } from "../util/fs.ts";
import { type CompareResult, compareRuns, rolloutsToReach } from "./compare.ts";
import {
  type ResolvedOfflineDifficulty,
  type RlConfig,
  RlConfig as RlConfigSchema,
  StoredRlConfig,
} from "./config.ts";
import { finishedSummary, noSignalWarning, recordWarning, zeroSftWarning } from "./main-job-checks.ts";
import type { Policy, PolicyPrompt } from "./policy.ts";
import { renderReport, reportRollouts } from "./report.ts";
import { RunStore } from "./run-store.ts";
import { buildSuites, labelledSftSet } from "./suites.ts";
import {
  type HeldoutResult,
  initialTrainerState,
  type RolloutRecord,
  runRl,
  type Scorer,
  type StepMetrics,
} from "./trainer.ts";
import { initialPromptStats } from "./trainer-phases.ts";

/** Options of one SFT run: a fixed number of steps, or as many as fit in `seconds` (the control). */
export type SftRunOptions = {
  steps?: number | undefined;
  seconds?: number | undefined;
  lr: number;
  warmupSteps: number;
  seed: number;
  onStep?: ((step: number) => void) | undefined;
};

/** What the pipeline needs from an engine. `createPolicy` gives fresh (seeded) weights. */
export type MainJobEngine = {
  createPolicy(seed: number): Promise<Policy>;
  /** A fresh optimiser state (RL starts with one; design.md). */
  resetOptimizer(policy: Policy): void;
  sft(
    policy: Policy,
    items: readonly TaskItem[],
    opts: SftRunOptions,
  ): Promise<{ steps: number; seconds: number }>;
  evaluate(policy: Policy, items: readonly TaskItem[]): Promise<HeldoutResult>;
  toPrompt(item: TaskItem): PolicyPrompt;
  /**
   * Per item, the policy's probability of the item's reference response (its SFT target), for the
   * `sft-likelihood` offline difficulty. Optional: engines that cannot score sequences leave it out.
   */
  referenceLikelihood?(policy: Policy, items: readonly TaskItem[]): Promise<number[]>;
  /** A scorer (the reward pool) and its shutdown. */
  scorer(): { score: Scorer; close: () => Promise<void> };
};

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
  progress?: ((total: number, label: string) => { tick: () => void; stop: () => void }) | undefined;
};

export type Summary = {
  sampler: string;
  sftAccuracy: number;
  rlAccuracy: number;
  /** null when the control was switched off (`control: false`). */
  continuedSftAccuracy: number | null;
  sftPerFamily: Record<string, number>;
  rlPerFamily: Record<string, number>;
  continuedSftPerFamily: Record<string, number> | null;
  /** Held-out accuracy of one sample per item at the rollout temperature (null when not measured). */
  sftSampledAccuracy: number | null;
  rlSampledAccuracy: number | null;
  continuedSftSampledAccuracy: number | null;
  /** Held-out accuracy by difficulty level (empty when the engine does not report levels). */
  sftPerLevel: Record<string, number>;
  rlPerLevel: Record<string, number>;
  continuedSftPerLevel: Record<string, number> | null;
  heldoutItems: number;
  rlSteps: number;
  rlSeconds: number;
  continuedSftSteps: number | null;
  sftSeconds: number;
  signalShare: number;
  sampledSignalRate: number;
  tokensPerSec: number;
  balance: number;
  fill: number;
  rolloutsTotal: number;
  /** Where the curriculum's offline difficulty came from, and what scoring it cost (null for `level`). */
  offlineDifficulty: ResolvedOfflineDifficulty;
  offlineScoringSeconds: number | null;
  wallSeconds: number;
  /** What the run found wrong with itself, e.g. an RL phase with no signal to learn from (`zeroSignalWarning`). */
  warnings: string[];
};

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

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

export type RlPhaseResult = { heldout: HeldoutResult; metrics: StepMetrics[]; seconds: number };

/** One RL run from the SFT checkpoint into `store`, resumable; its result is recorded in the store's meta. */
export async function rlPhase(
  store: RunStore,
  config: RlConfig,
  sftDir: string,
  suites: { train: TaskItem[]; heldout: TaskItem[] },
  opts: MainJobOptions,
  label: string,
  difficulty?: ReadonlyMap<string, number>,
  run: { meta: string; steps: number; until?: (m: StepMetrics) => boolean } = {
    meta: "rl",
    steps: config.rl.steps,
  },
): Promise<RlPhaseResult> {
  const done = store.getMeta<RlPhaseResult>(run.meta);
  // the meta records the result without its metrics: they are the store's
  if (done) return { ...done, metrics: store.readMetrics() as unknown as StepMetrics[] };
  const { engine } = opts;
  const policy = await engine.createPolicy(config.seed);
  const reward = engine.scorer();
  try {
    await policy.load(sftDir);
    engine.resetOptimizer(policy);
    const bar = opts.progress?.(run.steps, label);
    const ctx = {
      config: config.rl,
      seed: config.seed,
      policy,
      items: new Map(suites.train.map((i) => [i.id, i])),
      toPrompt: engine.toPrompt,
      score: reward.score,
      // the likelihood prior is kept fresh under the current policy (curriculum.rescorePerStep)
      referenceLikelihood:
        difficulty && engine.referenceLikelihood
          ? (items: readonly TaskItem[]) => engine.referenceLikelihood!(policy, items)
          : undefined,
      state: initialTrainerState(initialPromptStats(suites.train, difficulty)),
    };
    await runRl(ctx, {
      steps: run.steps,
      until: run.until,
      store,
      resume: true,
      evaluate: () => engine.evaluate(policy, suites.heldout),
      onStep: (m) => {
        bar?.tick();
        if (m.step === 1 && m.sampledSignalRate === 0) recordWarning(store, opts, noSignalWarning(label));
        if (m.heldout)
          opts.log?.(`${label} step ${m.step}: held-out ${(100 * m.heldout.accuracy).toFixed(1)}%`);
      },
    });
    bar?.stop();
    const metrics = store.readMetrics() as unknown as StepMetrics[];
    const last = metrics.filter((m) => m.heldout).at(-1);
    const heldout = last?.heldout ?? (await engine.evaluate(policy, suites.heldout));
    const result = { heldout, metrics: [], seconds: metrics.reduce((s, m) => s + (m.timings.step ?? 0), 0) };
    store.setMeta(run.meta, result);
    return { ...result, metrics };
  } finally {
    await reward.close();
    await policy.dispose();
  }
}

/**
 * RLCS spends fewer rollouts per step than uniform sampling, so equal steps are not an equal budget: continue the
 * RLCS run from its last checkpoint until it reaches uniform's final held-out accuracy or has spent as many
 * rollouts as uniform did (at most as many steps again), then compare the two (`compareRuns`). Returns the RLCS
 * run's metrics, extension included, and the comparison; the summary's RL figures stay those of the configured
 * steps.
 */
export async function compareAtUniformBudget(
  store: RunStore,
  config: RlConfig,
  uniform: readonly StepMetrics[],
  sftDir: string,
  suites: { train: TaskItem[]; heldout: TaskItem[] },
  opts: MainJobOptions,
  difficulty?: ReadonlyMap<string, number>,
): Promise<{ rlcs: StepMetrics[]; compare: CompareResult }> {
  const rlcsMetrics = () => store.readMetrics() as unknown as StepMetrics[];
  const target = uniform.filter((m) => m.heldout).at(-1)?.heldout?.accuracy;
  const budget = uniform.at(-1)?.rolloutsTotal ?? 0;
  const sofar = rlcsMetrics();
  const spent = sofar.at(-1)?.rolloutsTotal ?? 0;
  if (target === undefined || spent >= budget || rolloutsToReach(sofar, target) !== null)
    return { rlcs: sofar, compare: compareRuns(sofar, uniform) };
  await rlPhase(store, config, sftDir, suites, opts, "rl (rlcs, on to uniform's rollouts)", difficulty, {
    meta: "rl-extended",
    steps: 2 * config.rl.steps,
    until: (m) => m.rolloutsTotal >= budget || (m.heldout?.accuracy ?? 0) >= target - 1e-12,
  });
  const rlcs = rlcsMetrics();
  return { rlcs, compare: compareRuns(rlcs, uniform) };
}

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
async function offlinePhase(
  store: RunStore,
  kind: ResolvedOfflineDifficulty,
  config: RlConfig,
  sftDir: string,
  train: readonly TaskItem[],
  engine: MainJobEngine,
  log: (line: string) => void,
): Promise<OfflineScores | undefined> {
  if (kind === "level") return undefined;
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

/**
 * Run (or resume) the whole pipeline; returns the summary that is also written to `summary.json`.
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
  const store =
    opts.resume && existsSync(join(opts.outDir, "config.yaml"))
      ? RunStore.open(opts.outDir, { warn })
      : await RunStore.create(opts.outDir, RlConfigSchema, opts.config, { warn });
  try {
    const config = store.readConfig(StoredRlConfig);
    const offlineKind = resolveOffline(config, opts.engine, opts.compare === true);
    const suites = buildSuites(config);
    log(
      `suite: ${suites.train.length} training prompts, ${suites.heldout.length} held-out items (${config.data.families.join(", ")})`,
    );
    const sftDir = join(opts.outDir, "sft");

    // SFT on the format, from fresh weights
    let sft = store.getMeta<{ heldout: HeldoutResult; seconds: number; steps: number }>("sft");
    if (!sft || !existsSync(sftDir)) {
      const policy = await opts.engine.createPolicy(config.seed);
      try {
        const bar = opts.progress?.(config.sft.steps, "sft");
        const sftLevels = config.data.sftLevels ?? config.data.levels;
        const sftItems = labelledSftSet(suites.train, sftLevels, config.data.sftItemsPerFamily);
        if (sftItems.length === 0)
          throw new GlmvError("bad_config", `no training item has an SFT level (${sftLevels.join(", ")})`, {
            where: "data.sftLevels",
          });
        const run = await opts.engine.sft(policy, sftItems, {
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
        sft = { heldout: await opts.engine.evaluate(policy, suites.heldout), ...run };
        store.setMeta("sft", sft);
      } finally {
        await policy.dispose();
      }
    }
    log(familyLine("after SFT", sft.heldout));
    const sftWarning = zeroSftWarning(config, sft.heldout);
    if (sftWarning) recordWarning(store, opts, sftWarning);

    // the curriculum's offline difficulty, when it is not the task level
    const offline = await offlinePhase(store, offlineKind, config, sftDir, suites.train, opts.engine, log);
    const difficulty = offline && new Map(Object.entries(offline.difficulty));
    if (offline)
      log(`offline difficulty: ${suites.train.length} prompts scored in ${offline.seconds.toFixed(0)} s`);

    // RL (RLCS by default) from the SFT checkpoint
    const rl = await rlPhase(store, config, sftDir, suites, opts, `rl (${config.rl.sampler})`, difficulty);
    // the configured steps only (a --compare run may have continued RLCS past them; compareAtUniformBudget)
    const metrics = rl.metrics.filter((m) => m.step <= config.rl.steps);
    log(familyLine(`after RL (${config.rl.sampler})`, rl.heldout));

    // The honest control: continued SFT from the same checkpoint for RL's wall time
    let control = store.getMeta<{ heldout: HeldoutResult; steps: number; seconds: number }>("control");
    if (!control && config.control) {
      const policy = await opts.engine.createPolicy(config.seed);
      try {
        await policy.load(sftDir);
        opts.engine.resetOptimizer(policy);
        const run = await opts.engine.sft(policy, suites.train, {
          seconds: rl.seconds,
          lr: config.sft.lr,
          warmupSteps: config.sft.warmupSteps,
          seed: config.seed + 1,
        });
        control = { heldout: await opts.engine.evaluate(policy, suites.heldout), ...run };
        store.setMeta("control", control);
      } finally {
        await policy.dispose();
      }
    }
    if (control) log(familyLine(`continued SFT (${control.steps} steps, same wall time)`, control.heldout));

    // --compare: the same RL with uniform sampling, from the same SFT checkpoint, in its own run folder
    let compare: CompareResult | undefined;
    let controlRun: { name: string; metrics: StepMetrics[] } | undefined;
    if (opts.compare) {
      const other = config.rl.sampler === "uniform" ? "rlcs" : "uniform";
      const otherConfig = { ...config, rl: { ...config.rl, sampler: other } } as RlConfig;
      const dir = join(opts.outDir, other);
      const otherStore = existsSync(join(dir, "config.yaml"))
        ? RunStore.open(dir, { warn })
        : await RunStore.create(dir, RlConfigSchema, otherConfig, { warn });
      try {
        const otherRl = await rlPhase(
          otherStore,
          otherConfig,
          sftDir,
          suites,
          opts,
          `rl (${other})`,
          difficulty,
        );
        const otherMetrics = otherRl.metrics;
        log(familyLine(`after RL (${other})`, otherRl.heldout));
        const [rlcsStore, rlcsConfig, uniform] =
          other === "uniform" ? [store, config, otherMetrics] : [otherStore, otherConfig, metrics];
        const equalBudget = await compareAtUniformBudget(
          rlcsStore,
          rlcsConfig,
          uniform,
          sftDir,
          suites,
          opts,
          difficulty,
        );
        controlRun = { name: other, metrics: other === "uniform" ? otherMetrics : equalBudget.rlcs };
        compare = equalBudget.compare;
      } finally {
        otherStore.close();
      }
      await writeFileAtomic(join(opts.outDir, "compare.json"), `${JSON.stringify(compare, null, 2)}\n`);
      log(
        `compare: RLCS reached uniform's final ${(100 * compare.target).toFixed(1)}% after ${compare.rlcsRollouts ?? "never"} rollouts vs ${compare.uniformRollouts} (ratio ${compare.ratio?.toFixed(2) ?? "n/a"})`,
      );
    }

    const summary: Summary = {
      sampler: config.rl.sampler,
      sftAccuracy: sft.heldout.accuracy,
      rlAccuracy: rl.heldout.accuracy,
      continuedSftAccuracy: control?.heldout.accuracy ?? null,
      sftPerFamily: sft.heldout.perFamily,
      rlPerFamily: rl.heldout.perFamily,
      continuedSftPerFamily: control?.heldout.perFamily ?? null,
      sftSampledAccuracy: sft.heldout.sampledAccuracy ?? null,
      rlSampledAccuracy: rl.heldout.sampledAccuracy ?? null,
      continuedSftSampledAccuracy: control?.heldout.sampledAccuracy ?? null,
      sftPerLevel: sft.heldout.perLevel ?? {},
      rlPerLevel: rl.heldout.perLevel ?? {},
      continuedSftPerLevel: control ? (control.heldout.perLevel ?? {}) : null,
      heldoutItems: rl.heldout.items,
      rlSteps: metrics.length,
      rlSeconds: rl.seconds,
      continuedSftSteps: control?.steps ?? null,
      sftSeconds: sft.seconds,
      signalShare: mean(metrics.map((m) => m.signalShare)),
      sampledSignalRate: mean(metrics.map((m) => m.sampledSignalRate)),
      tokensPerSec: mean(metrics.map((m) => m.tokensPerSec)),
      balance: mean(metrics.map((m) => m.balance)),
      fill: mean(metrics.map((m) => m.fill)),
      rolloutsTotal: metrics.at(-1)?.rolloutsTotal ?? 0,
      offlineDifficulty: offline ? "sft-likelihood" : "level",
      offlineScoringSeconds: offline?.seconds ?? null,
      /** This invocation's wall time (a resumed run counts only the part after the resume). */
      wallSeconds: (Date.now() - started) / 1000,
      warnings: store.getMeta<string[]>("warnings") ?? [],
    };
    await writeFileAtomic(join(opts.outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);

    const items = new Map(suites.train.map((i) => [i.id, i]));
    const lastSteps = metrics.slice(-3).flatMap((m) => store.readRollouts(m.step) as RolloutRecord[]);
    const html = renderReport({
      title: `glmv rl (${config.rl.sampler})`,
      summary: { ...summary, ...(compare ? { compare } : {}) },
      metrics,
      control: controlRun,
      sftAccuracy: sft.heldout.accuracy,
      rollouts: await reportRollouts(lastSteps, items),
    });
    await writeFileAtomic(join(opts.outDir, "report.html"), html);
    log(`wrote ${join(opts.outDir, "summary.json")} and report.html`);
    return summary;
  } finally {
    store.close();
  }
}
