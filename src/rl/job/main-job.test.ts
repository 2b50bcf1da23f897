import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sftTarget } from "../../data/tasks/cot.ts";
import type { TaskItem } from "../../data/tasks/types.ts";
import { GlmvError } from "../../util/errors.ts";
import { mulberry32 } from "../../util/rng.ts";
import { parseRlConfig } from "../loop/config.ts";
import type { Policy, PolicyPrompt, Rollout, RolloutParams } from "../loop/policy.ts";
import { RunStore } from "../loop/run-store.ts";
import { runMainJob } from "./main-job.ts";
import type { MainJobEngine } from "./main-job-engine.ts";

/**
 * A toy engine: a policy is one "skill" number (its pass rate); SFT steps and RL updates raise it, evaluation
 * reads it. Enough to exercise the pipeline's phases, files and resume, not the model.
 */
function toyEngine(items: () => Map<string, TaskItem>, calls: string[]): MainJobEngine {
  class SkillPolicy implements Policy {
    skill = 0.1;
    /** What one RL update adds to the skill. */
    gain = 0.05;
    async generate(prompts: readonly PolicyPrompt[], p: RolloutParams): Promise<Rollout[][]> {
      return prompts.map((pr, i) => {
        const rand = mulberry32(p.seed * 31 + i);
        const item = items().get(pr.id)!;
        return Array.from({ length: p.n }, () => {
          const right = rand() < this.skill;
          const text = sftTarget({ cot: item.cot, responseAnswer: right ? item.answer : "wrong" }, "4.1v");
          return {
            promptId: pr.id,
            tokens: [1, 2, 3],
            logprobs: [0, 0, 0],
            injected: [false, false, false],
            text,
            finished: true,
            promptTokens: 30,
          };
        });
      });
    }
    async update() {
      this.skill = Math.min(0.95, this.skill + this.gain);
      return { loss: 0, clipFraction: 0, gradNorm: 0, tokens: 1, microSteps: 1, seconds: 0 };
    }
    async save(dir: string) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "skill.json"), JSON.stringify(this.skill));
    }
    async load(dir: string) {
      this.skill = JSON.parse(readFileSync(join(dir, "skill.json"), "utf8"));
    }
    dispose() {}
  }
  return {
    createPolicy: async () => new SkillPolicy(),
    resetOptimizer: () => calls.push("reset"),
    sft: async (policy, _items, opts) => {
      calls.push(opts.steps !== undefined ? "sft" : "control");
      const steps = opts.steps ?? 5;
      for (let s = 0; s < steps; s++) opts.onStep?.(s);
      (policy as SkillPolicy).skill = Math.min(0.95, (policy as SkillPolicy).skill + 0.01 * steps);
      return { steps, seconds: 0.1 };
    },
    evaluate: async (policy, heldout) => ({
      accuracy: (policy as SkillPolicy).skill,
      perFamily: { counting: (policy as SkillPolicy).skill },
      items: heldout.length,
    }),
    toPrompt: (item) => ({ id: item.id, messages: [], images: [] }),
    scorer: () => ({
      score: async (inputs) =>
        inputs.map((i) => {
          const correct = i.response.includes(`>${i.answer}<`);
          return {
            reward: correct ? 1 : 0,
            correct,
            format: "ok" as const,
            extracted: null,
            timedOut: false,
            stage: "verify" as const,
          };
        }),
      close: async () => {},
    }),
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tinyConfig = () =>
  parseRlConfig({
    data: { families: ["counting"], trainPerFamily: 48, heldoutItems: 16 },
    sft: { steps: 20 },
    rl: { steps: 4, checkpointEvery: 2, evalEvery: 2, batchPrompts: 4, groupSize: 4 },
  });

describe("runMainJob", () => {
  it("runs SFT → RL → continued-SFT control → uniform compare, and writes summary, compare and report", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(out);
    let itemMap = new Map<string, TaskItem>();
    const calls: string[] = [];
    const engine = toyEngine(() => itemMap, calls);
    const { buildSuites } = await import("./suites.ts");
    itemMap = new Map(buildSuites(tinyConfig()).train.map((i) => [i.id, i]));
    const lines: string[] = [];
    const summary = await runMainJob({
      outDir: out,
      config: tinyConfig(),
      engine,
      compare: true,
      log: (l) => lines.push(l),
    });
    expect(calls).toEqual(["sft", "reset", "reset", "control", "reset"]);
    expect(summary.sft.accuracy).toBeCloseTo(0.3, 9);
    expect(summary.rl.accuracy).toBeGreaterThan(summary.sft.accuracy);
    expect(summary.rl.steps).toBe(4);
    expect(summary.heldoutItems).toBe(16);
    const onDisk = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    for (const k of [
      "sft.accuracy",
      "rl.accuracy",
      "control.accuracy",
      "rl.signalShare",
      "rl.sampledSignalRate",
      "rl.tokensPerSec",
      "rl.perFamily",
      "rl.balance",
      "rl.fill",
    ]) {
      expect(onDisk).toHaveProperty(k);
    }
    const compare = JSON.parse(readFileSync(join(out, "compare.json"), "utf8"));
    expect(compare).toHaveProperty("rlcsRollouts");
    expect(compare).toHaveProperty("uniformRollouts");
    expect(compare).toHaveProperty("ratio");
    expect(existsSync(join(out, "uniform", "metrics.jsonl"))).toBe(true);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("Difficulty histogram");
    expect(html).toContain("data:image/png;base64,");
    expect(lines.some((l) => l.startsWith("after SFT: 30.0% (counting 30.0%"))).toBe(true);
    expect(lines.some((l) => l.startsWith("after RL (rlcs)"))).toBe(true);

    // resuming a finished run redoes no phase
    calls.length = 0;
    const again = await runMainJob({ outDir: out, config: tinyConfig(), engine, resume: true });
    expect(calls).toEqual([]);
    expect(again.rl.accuracy).toBe(summary.rl.accuracy);
  });
});

describe("runMainJob data.sftLevels", () => {
  it("SFTs on the labelled levels only; the continued-SFT control trains on the whole pool", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(out);
    const calls: string[] = [];
    const config = parseRlConfig({
      ...tinyConfig(),
      data: { families: ["counting"], levels: [1, 2], sftLevels: [1], trainPerFamily: 48, heldoutItems: 16 },
      rl: { ...tinyConfig().rl, steps: 2, evalEvery: 0 },
    });
    const { buildSuites } = await import("./suites.ts");
    const itemMap = new Map(buildSuites(config).train.map((i) => [i.id, i]));
    const engine = toyEngine(() => itemMap, calls);
    const levelsSeen: number[][] = [];
    const sftCounts: number[] = [];
    const sft = engine.sft;
    engine.sft = (policy, items, opts) => {
      levelsSeen.push([...new Set(items.map((i) => i.level))].sort());
      sftCounts.push(items.length);
      return sft(policy, items, opts);
    };
    await runMainJob({ outDir: out, config, engine });
    expect(levelsSeen).toEqual([[1], [1, 2]]);
    expect(sftCounts).toEqual([24, 48]); // the 24 level-1 items of a 48-item pool; the control trains on all 48
    const bad = parseRlConfig({ ...config, data: { ...config.data, sftLevels: [3] } });
    await expect(runMainJob({ outDir: join(out, "..", "bad"), config: bad, engine })).rejects.toThrow(
      /no training item has an SFT level \(3\)/,
    );
  });
});

describe("runMainJob --compare", () => {
  it("continues a lagging RLCS run from its checkpoint up to uniform's rollouts before comparing", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(out);
    const { buildSuites } = await import("./suites.ts");
    const itemMap = new Map(buildSuites(tinyConfig()).train.map((i) => [i.id, i]));
    const engine = toyEngine(() => itemMap, []);
    // policies in creation order: SFT, RLCS, control, uniform, RLCS continued; uniform learns fast, so its groups
    // soon agree and its refills spend more rollouts
    const gains = [0.05, 0.02, 0.05, 0.3, 0.02];
    const create = engine.createPolicy;
    let created = 0;
    engine.createPolicy = async (seed) => {
      const p = await create(seed);
      (p as unknown as { gain: number }).gain = gains[created++] ?? 0.05;
      return p;
    };
    const evaluate = engine.evaluate;
    // each response names the skill it was given at, so the responses file shows which evaluation wrote it
    engine.evaluate = async (policy, heldout) => ({
      ...(await evaluate(policy, heldout)),
      responses: heldout.map(() => `skill ${(policy as unknown as { skill: number }).skill.toFixed(2)}`),
    });
    const summary = await runMainJob({ outDir: out, config: tinyConfig(), engine, compare: true });
    expect(summary.rl.steps).toBe(4); // the summary keeps the configured steps
    expect(summary.rl.accuracy).toBeCloseTo(0.38, 9);
    const read = (dir: string) =>
      readFileSync(join(dir, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { step: number; rolloutsTotal: number; heldout?: { accuracy: number } });
    const rlcs = read(out);
    const uniform = read(join(out, "uniform"));
    const budget = uniform.at(-1)!.rolloutsTotal;
    expect(rlcs.length).toBeGreaterThan(4);
    expect(rlcs.map((m) => m.step)).toEqual(rlcs.map((_, i) => i + 1)); // each step logged once
    const last = rlcs.at(-1)!;
    expect(last.heldout).toBeDefined(); // the step it stopped at was evaluated
    // here it stops at the cap, as many steps again, still short of uniform's rollouts and accuracy
    expect(last.step).toBe(8);
    expect(last.rolloutsTotal).toBeLessThan(budget);
    expect(last.heldout!.accuracy).toBeCloseTo(0.3 + 8 * 0.02, 9);
    const compare = JSON.parse(readFileSync(join(out, "compare.json"), "utf8"));
    expect(compare.uniformFinalAccuracy).toBeCloseTo(0.95, 9);
    expect(compare.rlcsFinalAccuracy).toBeCloseTo(last.heldout!.accuracy, 9);
    // the held-out responses stay those the summary's RL accuracy came from (step 4), not the extension's last
    const responses = readFileSync(join(out, "heldout-responses.jsonl"), "utf8").trim().split("\n");
    expect(new Set(responses.map((l) => (JSON.parse(l) as { response: string }).response))).toEqual(
      new Set(["skill 0.38"]),
    );
  });
});

describe("runMainJob curriculum.offline: sft-likelihood", () => {
  const config = () =>
    parseRlConfig({
      ...tinyConfig(),
      control: false,
      rl: {
        ...tinyConfig().rl,
        steps: 2,
        evalEvery: 0,
        curriculum: { offline: "sft-likelihood", rescorePerStep: 0 },
      },
    });

  it("scores every training prompt once from the SFT checkpoint; the curriculum starts from 1 − likelihood", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(out);
    const { buildSuites } = await import("./suites.ts");
    const train = buildSuites(config()).train;
    const itemMap = new Map(train.map((i) => [i.id, i]));
    const engine = toyEngine(() => itemMap, []);
    const scored: { skill: number; ids: string[] }[] = [];
    // a likelihood that differs per prompt and reveals the weights it was scored with
    const likelihood = (id: string, skill: number) =>
      (train.findIndex((i) => i.id === id) % 10) / 10 + skill / 100;
    engine.referenceLikelihood = async (policy, items) => {
      const skill = (policy as unknown as { skill: number }).skill;
      scored.push({ skill, ids: items.map((i) => i.id) });
      return items.map((i) => likelihood(i.id, skill));
    };
    const summary = await runMainJob({ outDir: out, config: config(), engine });
    expect(scored).toHaveLength(1);
    expect(scored[0]!.skill).toBeCloseTo(0.3, 9); // the SFT checkpoint's weights, not fresh ones
    expect(scored[0]!.ids).toEqual(train.map((i) => i.id));
    expect(summary.offline.difficulty).toBe("sft-likelihood");
    expect(summary.offline.seconds).toBeGreaterThanOrEqual(0);
    const store = RunStore.open(out);
    try {
      const prompts = store.loadPrompts();
      expect(prompts.size).toBe(train.length);
      for (const item of train)
        expect(prompts.get(item.id)!.offlineDifficulty).toBeCloseTo(1 - likelihood(item.id, 0.3), 6);
    } finally {
      store.close();
    }
    // a resumed run keeps the scores it has
    await runMainJob({ outDir: out, config: config(), engine, resume: true });
    expect(scored).toHaveLength(1);
  });

  it("auto (the default) scores on an engine that can and uses the task level on one that cannot", async () => {
    const auto = () =>
      parseRlConfig({ ...tinyConfig(), control: false, rl: { ...tinyConfig().rl, steps: 1, evalEvery: 0 } });
    expect(auto().rl.curriculum.offline).toBe("auto");
    const { buildSuites } = await import("./suites.ts");
    const itemMap = new Map(buildSuites(auto()).train.map((i) => [i.id, i]));
    const run = async (engine: MainJobEngine) => {
      const out = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
      dirs.push(out);
      return runMainJob({ outDir: out, config: auto(), engine });
    };
    const plain = await run(toyEngine(() => itemMap, []));
    expect(plain.offline).toEqual({ difficulty: "level", seconds: null });
    const scoring = toyEngine(() => itemMap, []);
    const calls: number[] = [];
    scoring.referenceLikelihood = async (_policy, items) => {
      calls.push(items.length);
      return items.map(() => 0.5);
    };
    const scored = await run(scoring);
    expect(scored.offline.difficulty).toBe("sft-likelihood");
    expect(calls[0]).toBe(itemMap.size);
    // a lone uniform run has no curriculum to feed: nothing is scored
    calls.length = 0;
    const uniformOut = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(uniformOut);
    const uniform = await runMainJob({
      outDir: uniformOut,
      config: parseRlConfig({ ...auto(), rl: { ...auto().rl, sampler: "uniform" } }),
      engine: scoring,
    });
    expect(uniform.offline.difficulty).toBe("level");
    expect(calls).toEqual([]);

    // a trainer without prompt logprobs: auto falls back to the level, an explicit sft-likelihood fails
    const noLogprobs = toyEngine(() => itemMap, []);
    noLogprobs.referenceLikelihood = async () => {
      throw new GlmvError("engine_error", "asked for prompt_logprobs, the trainer returned none", {
        where: "asample.prompt_logprobs",
      });
    };
    const fellBack = await run(noLogprobs);
    expect(fellBack.offline).toEqual({ difficulty: "level", seconds: null });
    const strictOut = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(strictOut);
    const strict = parseRlConfig({
      ...auto(),
      rl: { ...auto().rl, curriculum: { ...auto().rl.curriculum, offline: "sft-likelihood" } },
    });
    await expect(runMainJob({ outDir: strictOut, config: strict, engine: noLogprobs })).rejects.toThrow(
      /prompt_logprobs/,
    );
  });

  it("rescores rescorePerStep random prompts under the RL policy before each step", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(out);
    const base = config();
    const cfg = parseRlConfig({
      ...base,
      rl: { ...base.rl, curriculum: { ...base.rl.curriculum, rescorePerStep: 5 } },
    });
    const { buildSuites } = await import("./suites.ts");
    const itemMap = new Map(buildSuites(cfg).train.map((i) => [i.id, i]));
    const engine = toyEngine(() => itemMap, []);
    const calls: { skill: number; n: number }[] = [];
    engine.referenceLikelihood = async (policy, items) => {
      calls.push({ skill: (policy as unknown as { skill: number }).skill, n: items.length });
      return items.map(() => 0.5);
    };
    const summary = await runMainJob({ outDir: out, config: cfg, engine });
    // the whole pool once from the SFT checkpoint, then 5 prompts before each of the 2 steps with the RL policy,
    // whose skill the first update raised
    expect(calls.map((c) => c.n)).toEqual([itemMap.size, 5, 5]);
    expect(calls[1]!.skill).toBeCloseTo(0.3, 9);
    expect(calls[2]!.skill).toBeCloseTo(0.35, 9);
    const metrics = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    for (const m of metrics) expect(m.timings.rescore).toBeGreaterThanOrEqual(0);
    expect(summary.rl.steps).toBe(2);
  });

  it("is a typed config error on an engine that cannot score reference responses", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(out);
    const { buildSuites } = await import("./suites.ts");
    const itemMap = new Map(buildSuites(config()).train.map((i) => [i.id, i]));
    const calls: string[] = [];
    await expect(
      runMainJob({ outDir: out, config: config(), engine: toyEngine(() => itemMap, calls) }),
    ).rejects.toMatchObject({ code: "bad_config", where: "rl.curriculum.offline" });
    expect(calls).toEqual([]); // refused before SFT
  });
});

describe("runMainJob warnings and finished runs", () => {
  it("warns (and records in summary.json) when SFT leaves nothing right and RL's first step has no signal", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(out);
    const config = parseRlConfig({ ...tinyConfig(), control: false, rl: { ...tinyConfig().rl, steps: 1 } });
    const { buildSuites } = await import("./suites.ts");
    const itemMap = new Map(buildSuites(config).train.map((i) => [i.id, i]));
    const engine = toyEngine(() => itemMap, []);
    // an SFT that taught nothing: skill 0, so every rollout is wrong and every group is all zeros
    engine.sft = async (policy, _items, opts) => {
      (policy as unknown as { skill: number; gain: number }).skill = 0;
      (policy as unknown as { skill: number; gain: number }).gain = 0;
      return { steps: opts.steps ?? 0, seconds: 0.1 };
    };
    const warnings: string[] = [];
    const summary = await runMainJob({ outDir: out, config, engine, warn: (l) => warnings.push(l) });
    expect(summary.sft.accuracy).toBe(0);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /held-out accuracy after SFT is 0%.*no signal.*--sft-steps, now 20.*--sft-items, now 32/,
    );
    expect(warnings[1]).toMatch(/rl \(rlcs\) step 1: no sampled group had signal/);
    expect(summary.warnings).toEqual(warnings);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).warnings).toEqual(warnings);

    // a healthy run has none
    const healthy = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(healthy);
    const quiet: string[] = [];
    const ok = await runMainJob({
      outDir: healthy,
      config,
      engine: toyEngine(() => itemMap, []),
      warn: (l) => quiet.push(l),
    });
    expect(ok.warnings).toEqual([]);
    expect(quiet).toEqual([]);
  });

  it("resuming a finished run rewrites nothing (summary.json, report.html) and runs no phase", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "glmv-main-")), "run");
    dirs.push(out);
    const config = parseRlConfig({ ...tinyConfig(), control: false, rl: { ...tinyConfig().rl, steps: 2 } });
    const { buildSuites } = await import("./suites.ts");
    const itemMap = new Map(buildSuites(config).train.map((i) => [i.id, i]));
    const calls: string[] = [];
    const engine = toyEngine(() => itemMap, calls);
    const first = await runMainJob({ outDir: out, config, engine });
    const files = ["summary.json", "report.html", "metrics.jsonl"].map((f) =>
      readFileSync(join(out, f), "utf8"),
    );
    await new Promise((r) => setTimeout(r, 20)); // so that a rewritten wallSeconds would differ
    calls.length = 0;
    const lines: string[] = [];
    const again = await runMainJob({ outDir: out, config, engine, resume: true, log: (l) => lines.push(l) });
    expect(again).toEqual(first);
    expect(calls).toEqual([]);
    expect(
      ["summary.json", "report.html", "metrics.jsonl"].map((f) => readFileSync(join(out, f), "utf8")),
    ).toEqual(files);
    expect(lines).toEqual([`${out} is already finished (summary.json, report.html); nothing to resume`]);
  });
});
