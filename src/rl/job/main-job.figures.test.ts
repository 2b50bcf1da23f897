/**
 * Every figure of `Summary` (glmv issue 17), recomputed from what the engine saw: the RL policy's own record of
 * its generate calls (groups, tokens, seconds) and of the batches it was updated on, and the accuracies its
 * evaluations returned. The run is a `--compare` run whose RLCS side is continued past its configured steps, so a
 * figure taken over the wrong steps fails too.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { balanceRanks } from "../algorithm/balance.ts";
import { parseRlConfig, type RlConfigInput } from "../loop/config.ts";
import { manualClock, scriptedScorer } from "../loop/figures.fixture.ts";
import type { Policy, PolicyPrompt, Rollout, RolloutParams, UpdateBatch } from "../loop/policy.ts";
import type { StepMetrics } from "../loop/trainer.ts";
import { runMainJob } from "./main-job.ts";
import type { MainJobEngine } from "./main-job-engine.ts";
import { Summary } from "./summary.ts";

/** `group.figure` for a figure in a group (`rl.steps`), the key alone for the run's own (`wallSeconds`). */
type FigurePath<T> = {
  [K in keyof T & string]: NonNullable<T[K]> extends readonly unknown[] | string | number
    ? K
    : `${K}.${keyof NonNullable<T[K]> & string}`;
}[keyof T & string];

/** Every `Summary` figure this file pins; a new figure must get a test here before it joins this list. */
const PINNED_SUMMARY_FIGURES = [
  "sft.accuracy",
  "sft.sampledAccuracy",
  "sft.perFamily",
  "sft.perLevel",
  "sft.seconds",
  "offline.difficulty",
  "offline.seconds",
  "rl.sampler",
  "rl.accuracy",
  "rl.sampledAccuracy",
  "rl.perFamily",
  "rl.perLevel",
  "rl.steps",
  "rl.seconds",
  "rl.signalShare",
  "rl.sampledSignalRate",
  "rl.tokensPerSec",
  "rl.balance",
  "rl.fill",
  "rl.rolloutsTotal",
  "control.accuracy",
  "control.sampledAccuracy",
  "control.perFamily",
  "control.perLevel",
  "control.steps",
  "heldoutItems",
  "wallSeconds",
  "warnings",
] satisfies FigurePath<Summary>[];

/** A group of the summary's (`sft`, `rl`…): its schema, else undefined for the run's own figures. */
const groupSchema = (key: string): z.ZodObject | undefined => {
  const field = (Summary.shape as Record<string, z.ZodType>)[key];
  const inner = field instanceof z.ZodNullable ? field.unwrap() : field;
  return inner instanceof z.ZodObject ? inner : undefined;
};
/** The figures the schema describes: a group's fields as `group.figure`, the run's own by their key. */
const schemaFigures = (): string[] =>
  Object.keys(Summary.shape).flatMap((k) => {
    const group = groupSchema(k);
    return group ? Object.keys(group.shape).map((f) => `${k}.${f}`) : [k];
  });
/** The figures a summary holds, named as `schemaFigures` names them (a key the schema lacks included). */
const valueFigures = (summary: Record<string, unknown>): string[] =>
  Object.entries(summary).flatMap(([k, v]) =>
    groupSchema(k) && typeof v === "object" && v !== null ? Object.keys(v).map((f) => `${k}.${f}`) : [k],
  );

const close = (x: number) => expect.closeTo(x, 9);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** verl's workload of a sequence (design.md §5.4). */
const workload = (len: number) => 24576 * len + len * len;
/** A small deterministic hash in [0, 1), so this file does not lean on the project's generators. */
const unit = (a: number, b: number) => {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 2 ** 32;
};

type Generated = { kind: "gen"; right: boolean[][]; tokens: number[][]; promptTokens: number; ms: number };
type Updated = { kind: "update"; batch: UpdateBatch; ms: number };

/**
 * A policy whose skill is its pass rate: each update adds `gain`, SFT adds 0.01 a step. It moves the clock by
 * 0.4–1 s per generate call and 0.25 s per update, and records both.
 */
class SkillPolicy implements Policy {
  skill = 0.1;
  events: (Generated | Updated)[] = [];
  constructor(
    readonly gain: number,
    private readonly clock: { advance: (ms: number) => void },
  ) {}
  async generate(prompts: readonly PolicyPrompt[], p: RolloutParams): Promise<Rollout[][]> {
    const ms = 400 + (p.seed % 7) * 100;
    this.clock.advance(ms);
    const right = prompts.map((_, i) =>
      Array.from({ length: p.n }, (_, k) => unit(p.seed + i, k) < this.skill),
    );
    const tokens = prompts.map((_, i) => Array.from({ length: p.n }, (_, k) => 1 + ((p.seed + i + k) % 5)));
    this.events.push({ kind: "gen", right, tokens, promptTokens: 20, ms });
    return prompts.map((pr, i) =>
      right[i]!.map((r, k) => ({
        promptId: pr.id,
        tokens: Array(tokens[i]![k]!).fill(1),
        logprobs: Array(tokens[i]![k]!).fill(-1),
        injected: Array(tokens[i]![k]!).fill(false),
        text: r ? "right" : "wrong",
        finished: true,
        promptTokens: 20,
      })),
    );
  }
  async update(batch: UpdateBatch) {
    this.clock.advance(250);
    this.events.push({ kind: "update", batch, ms: 250 });
    this.skill = Math.min(0.95, this.skill + this.gain);
    return { loss: 0, clipFraction: 0, gradNorm: 0, tokens: 1, microSteps: 1, seconds: 0.25 };
  }
  async save(dir: string) {
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "skill.json"), JSON.stringify(this.skill));
  }
  async load(dir: string) {
    this.skill = JSON.parse(readFileSync(join(dir, "skill.json"), "utf8"));
  }
  dispose() {}
}

/** Policies in creation order: SFT, RLCS, control, uniform, RLCS continued (uniform learns fast: RLCS lags). */
function skillEngine(clock: { advance: (ms: number) => void }) {
  const gains = [0.05, 0.02, 0.05, 0.3, 0.02];
  const policies: SkillPolicy[] = [];
  const engine: MainJobEngine = {
    createPolicy: async () => {
      const p = new SkillPolicy(gains[policies.length] ?? 0.05, clock);
      policies.push(p);
      return p;
    },
    resetOptimizer: () => {},
    sft: async (policy, _items, opts) => {
      // the control gets 2 steps per second of RL
      const steps = opts.steps ?? Math.max(1, Math.round((opts.seconds ?? 0) * 2));
      clock.advance(steps * 50);
      (policy as SkillPolicy).skill += 0.01 * steps;
      return { steps, seconds: steps * 0.05 };
    },
    evaluate: async (policy, heldout) => {
      const s = (policy as SkillPolicy).skill;
      return {
        accuracy: s,
        perFamily: { counting: s },
        perLevel: { "1": s, "2": s / 2 },
        sampledAccuracy: s / 4,
        items: heldout.length,
      };
    },
    toPrompt: (item) => ({ id: item.id, messages: [], images: [] }),
    scorer: () => ({ score: scriptedScorer(), close: async () => {} }),
  };
  return { engine, policies };
}

/** Each step's figures as the policy saw them: the generate calls before an update, then that update. */
function stepsSeenBy(policy: SkillPolicy, packContext: number, batchPrompts: number) {
  const steps: { gens: Generated[]; update: Updated }[] = [];
  let gens: Generated[] = [];
  for (const e of policy.events) {
    if (e.kind === "gen") gens.push(e);
    else {
      steps.push({ gens, update: e });
      gens = [];
    }
  }
  return steps.map(({ gens, update }) => {
    const groups = gens.flatMap((g) => g.right);
    const mixed = (r: boolean[]) => r.some(Boolean) && !r.every(Boolean);
    const lengths = update.batch.samples.map((s) => s.rollout.promptTokens + s.rollout.tokens.length);
    const context = Math.max(packContext, ...lengths);
    const micro = update.batch.microBatches;
    // the batch carries micro-batches only: the trained lengths' split over the 2 simulated ranks (the default)
    const rankWork = balanceRanks(lengths, 2).ranks.map((r) =>
      r.reduce((s, i) => s + workload(lengths[i]!), 0),
    );
    const trainedWithSignal = new Set(
      update.batch.samples.filter((s) => s.advantage !== 0).map((s) => s.prompt.id),
    );
    const genSeconds = gens.reduce((s, g) => s + g.ms, 0) / 1000;
    return {
      rollouts: groups.reduce((n, r) => n + r.length, 0),
      sampledSignalRate: groups.filter(mixed).length / groups.length,
      signalShare: trainedWithSignal.size / batchPrompts,
      tokensPerSec: gens.flatMap((g) => g.tokens.flat()).reduce((a, b) => a + b, 0) / genSeconds,
      fill: lengths.reduce((a, b) => a + b, 0) / (micro.length * context),
      balance: Math.max(...rankWork) / mean(rankWork),
      seconds: genSeconds + update.ms / 1000,
    };
  });
}

const dirs: string[] = [];
let clock: ReturnType<typeof manualClock>;
beforeEach(() => {
  clock = manualClock(1_000_000, { performance: true });
});
afterEach(() => {
  clock.restore();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const outDir = () => {
  const d = mkdtempSync(join(tmpdir(), "glmv-figures-"));
  dirs.push(d);
  return join(d, "run");
};

const config = (rl: RlConfigInput["rl"] = {}, extra: Omit<RlConfigInput, "rl"> = {}) =>
  parseRlConfig({
    data: { families: ["counting"], trainPerFamily: 48, heldoutItems: 16 },
    sft: { steps: 20 },
    ...extra,
    rl: { steps: 4, checkpointEvery: 2, evalEvery: 2, batchPrompts: 4, groupSize: 4, ...rl },
  });

const readMetrics = (dir: string) =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as StepMetrics);

describe("Summary figures", () => {
  it("are the configured RL steps' figures as the policy saw them, and each phase's held-out result", async () => {
    const out = outDir();
    const { engine, policies } = skillEngine(clock);
    const started = clock.nowMs();
    const summary = await runMainJob({ outDir: out, config: config(), engine, compare: true });
    const wallMs = clock.nowMs() - started;

    // the RLCS run went on past its 4 configured steps (to uniform's rollouts); the summary keeps those 4
    expect(readMetrics(out).length).toBeGreaterThan(4);
    const rl = policies[1]!;
    const steps = stepsSeenBy(rl, 256, 4);
    expect(steps).toHaveLength(4);
    const after = { sft: 0.1 + 0.01 * 20, rl: 0.1 + 0.01 * 20 + 4 * 0.02 };
    const control = summary.control!.steps;
    const controlSkill = after.sft + 0.01 * control;
    const rlSeconds = steps.reduce((s, x) => s + x.seconds, 0);
    expect(control).toBe(Math.max(1, Math.round(rlSeconds * 2))); // the control ran for RL's seconds
    expect(summary).toEqual({
      sft: {
        accuracy: close(after.sft),
        sampledAccuracy: close(after.sft / 4),
        perFamily: { counting: close(after.sft) },
        perLevel: { "1": close(after.sft), "2": close(after.sft / 2) },
        seconds: close(20 * 0.05),
      },
      offline: { difficulty: "level", seconds: null },
      rl: {
        sampler: "rlcs",
        accuracy: close(after.rl),
        sampledAccuracy: close(after.rl / 4),
        perFamily: { counting: close(after.rl) },
        perLevel: { "1": close(after.rl), "2": close(after.rl / 2) },
        steps: 4,
        seconds: close(rlSeconds),
        signalShare: close(mean(steps.map((s) => s.signalShare))),
        sampledSignalRate: close(mean(steps.map((s) => s.sampledSignalRate))),
        tokensPerSec: close(mean(steps.map((s) => s.tokensPerSec))),
        balance: close(mean(steps.map((s) => s.balance))),
        fill: close(mean(steps.map((s) => s.fill))),
        rolloutsTotal: steps.reduce((n, s) => n + s.rollouts, 0),
      },
      control: {
        accuracy: close(controlSkill),
        sampledAccuracy: close(controlSkill / 4),
        perFamily: { counting: close(controlSkill) },
        perLevel: { "1": close(controlSkill), "2": close(controlSkill / 2) },
        steps: control,
      },
      heldoutItems: 16,
      wallSeconds: close(wallMs / 1000),
      warnings: [],
    });
    // the steps after the configured ones would have moved the per-step means
    const all = readMetrics(out);
    expect(mean(all.map((m) => m.tokensPerSec))).not.toBeCloseTo(summary.rl.tokensPerSec, 6);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))).toEqual(summary);
    for (const figure of valueFigures(summary)) expect(PINNED_SUMMARY_FIGURES).toContain(figure);
    expect(schemaFigures().sort()).toEqual([...PINNED_SUMMARY_FIGURES].sort());
    // summary.json is what the schema describes, no figure more (a resume reads it back through it)
    expect(Summary.strict().parse(summary)).toEqual(summary);

    // resumed with summary.json lost, the run reads all its RLCS steps back (the extension too) and keeps the 4
    rmSync(join(out, "summary.json"));
    const resumed = await runMainJob({ outDir: out, config: config(), engine, compare: true, resume: true });
    expect({ ...resumed, wallSeconds: 0 }).toEqual({ ...summary, wallSeconds: 0 });
  });

  it("time the likelihood scoring, and are null for a control that did not run", async () => {
    const out = outDir();
    const { engine } = skillEngine(clock);
    engine.referenceLikelihood = async (_policy, items) => {
      clock.advance(3000);
      return items.map(() => 0.5);
    };
    const summary = await runMainJob({
      outDir: out,
      config: config({ curriculum: { offline: "sft-likelihood", rescorePerStep: 0 } }, { control: false }),
      engine,
    });
    expect(summary.offline).toEqual({ difficulty: "sft-likelihood", seconds: close(3) });
    expect(summary.control).toBeNull();
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).control).toBeNull();
  });
});
