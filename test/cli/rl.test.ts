import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { observePrompt } from "../../src/rl/algorithm/curriculum.ts";
import { buildSuites } from "../../src/rl/job/suites.ts";
import { RlConfig } from "../../src/rl/loop/config.ts";
import { RunStore } from "../../src/rl/loop/run-store.ts";
import type { RolloutRecord } from "../../src/rl/loop/trainer.ts";
import { curriculumOptions, initialPromptStats } from "../../src/rl/loop/trainer-phases.ts";
import { spawnGlmvServer } from "../helpers/spawn-glmv.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/glmv.js");

/** Replay the logged rollouts of steps ≤ `upTo` through the curriculum: the state an uninterrupted run has then. */
function replayCurriculum(dir: string, upTo: number) {
  const store = RunStore.open(dir);
  try {
    const config = store.readConfig(RlConfig);
    // the offline difficulty the run scored from its SFT checkpoint (curriculum.offline: auto on the local engine)
    const offline = store.getMeta<{ difficulty: Record<string, number> }>("offline");
    const difficulty = offline && new Map(Object.entries(offline.difficulty));
    const stats = initialPromptStats(buildSuites(config).train, difficulty);
    for (let step = 1; step <= upTo; step++) {
      const rows = store.readRollouts(step) as RolloutRecord[];
      const groups = new Map<string, number[]>();
      for (const r of rows) groups.set(r.promptId, [...(groups.get(r.promptId) ?? []), r.reward]);
      for (const [id, rewards] of groups)
        stats.set(id, observePrompt(stats.get(id)!, step, rewards, curriculumOptions(config.rl)));
    }
    return stats;
  } finally {
    store.close();
  }
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `glmv rl ...args` in a child process; `out` is stdout and stderr together, `err` stderr alone. */
function runCli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; out: string; err: string }>;
} {
  const child = spawn(process.execPath, [BIN, "rl", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => {
    out += d;
    err += d;
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, out, err })),
  );
  return { child, done };
}

/** A tiny run: 4 RL steps of 4 prompts × 4 rollouts, checkpoints at steps 2 and 4, no continued-SFT control. */
const SMALL = (
  "--steps 4 --sft-steps 4 --families counting --train-per-family 24 --heldout 16 --batch-prompts 4 " +
  "--group-size 4 --eval-every 0 --checkpoint-every 2 --no-control --offline-difficulty level"
).split(" ");

describe("glmv rl --resume", () => {
  it("continues after kill -9 past its first checkpoint: every step logged once, curriculum as uninterrupted", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "glmv-rl-resume-")), "run");
    dirs.push(dir);
    const first = runCli(["--out", dir, ...SMALL]);
    const ckpt = join(dir, "checkpoints", "step-000002");
    // kill -9 as soon as the first RL checkpoint is on disk (mid step 3 or later)
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (existsSync(join(ckpt, "trainer-state.json"))) {
          clearInterval(timer);
          first.child.kill("SIGKILL");
          resolve();
        } else if (first.child.exitCode !== null) {
          clearInterval(timer);
          reject(new Error("the run ended before its first checkpoint"));
        }
      }, 50);
    });
    await first.done;
    expect(existsSync(join(dir, "summary.json"))).toBe(false);

    const resumed = runCli(["--resume", dir]);
    const { code, out } = await resumed.done;
    expect(code, out).toBe(0);
    expect(out).toMatch(/after SFT: \d/);
    expect(out).toMatch(/after RL \(rlcs\): \d/);

    const store = RunStore.open(dir);
    const metrics = store.readMetrics() as unknown as {
      step: number;
      rolloutsSampled: number;
      rolloutsTotal: number;
    }[];
    const steps = metrics.map((m) => m.step);
    const final = store.loadPrompts();
    store.close();
    expect(steps).toEqual([1, 2, 3, 4]);
    // the loop state restored from the checkpoint continues the running rollout count
    let total = 0;
    for (const m of metrics) {
      total += m.rolloutsSampled;
      expect(m.rolloutsTotal).toBe(total);
    }
    // the curriculum equals a replay of exactly the logged rollouts, each step once
    expect(final).toEqual(replayCurriculum(dir, 4));
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary.rl.steps).toBe(4);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("<svg");
  }, 600_000);
});

/** A checkpoint root for a spawned `glmv serve trainer` (removed with the test's folders). */
function trainerRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "glmv-trainer-root-"));
  dirs.push(root);
  return root;
}

describe("glmv rl --policy tinker (against glmv serve trainer in another process)", () => {
  it("runs SFT, RL and held-out evaluation through the Tinker API and writes summary.json and metrics.jsonl", async () => {
    const server = await spawnGlmvServer(
      [
        "serve",
        "trainer",
        "--preset",
        "tiny",
        "--port",
        "0",
        "--poll-wait-ms",
        "5",
        "--checkpoint-root",
        trainerRoot(),
      ],
      "inherit",
    );
    children.push(server.child);
    const dir = join(mkdtempSync(join(tmpdir(), "glmv-rl-remote-")), "run");
    dirs.push(dir);
    const args = ["--policy", "tinker", "--url", server.url, "--out", dir];
    const small =
      "--steps 2 --sft-steps 3 --no-control --heldout 16 --train-per-family 32 --families counting";
    // fewer, shorter rollouts, no refill rounds and no oversampling (3 SFT steps leave every answer invalid, so
    // the ratio EMA would ask for 4× the prompts)
    const config = join(dir, "..", "fast.yaml");
    writeFileSync(
      config,
      "rl:\n  refillRounds: 0\n  maxNewTokens: 24\n  thinkBudget: 16\n  ratioEma:\n    maxExpansion: 1\n",
    );
    const fast = `--batch-prompts 4 --group-size 4 --eval-every 0 --config ${config}`;
    const { code, out } = await runCli([...args, ...small.split(" "), ...fast.split(" ")]).done;
    expect(code, out).toBe(0);
    expect(out).toContain(`policy: tinker at ${server.url}`);
    expect(out).toMatch(/after SFT: \d/);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ rl: { steps: 2 }, heldoutItems: 16, control: null });
    // the trainer scores reference responses (prompt logprobs), so offline: auto takes the likelihood prior
    expect(summary.offline.difficulty).toBe("sft-likelihood");
    expect(summary.offline.seconds).toBeGreaterThan(0);
    const metrics = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n");
    expect(metrics).toHaveLength(2);
    // the server did the training: 3 SFT steps and the RL updates (2 passes per step) arrived there
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const count = (route: string) =>
      Number(new RegExp(`route="/${route}",status="200"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    expect(count("forward_backward")).toBeGreaterThanOrEqual(3 + 2 * 2);
    expect(count("optim_step")).toBe(3 + 2 * 2);
    expect(count("asample")).toBeGreaterThan(0);
    expect(count("save_weights")).toBeGreaterThanOrEqual(2); // the SFT checkpoint and the last RL one
    server.child.kill("SIGTERM");
  }, 120_000);
});

describe("glmv rl --eval-only and refusals", () => {
  it("evaluates a remote model on the held-out items (eval.json); --policy openai without --eval-only exits 2 (a usage mistake)", async () => {
    const server = await spawnGlmvServer(
      ["serve", "trainer", "--preset", "bigram", "--port", "0", "--checkpoint-root", trainerRoot()],
      "inherit",
    );
    children.push(server.child);
    const dir = join(mkdtempSync(join(tmpdir(), "glmv-rl-eval-")), "run");
    dirs.push(dir);
    const args = ["--policy", "tinker", "--url", server.url, "--eval-only", "--heldout", "8", "--out", dir];
    const { code, out } = await runCli([...args, "--families", "counting"]).done;
    expect(code, out).toBe(0);
    expect(out).toMatch(/held-out: \d+\.\d% \(counting/);
    expect(JSON.parse(readFileSync(join(dir, "eval.json"), "utf8"))).toMatchObject({ items: 8 });
    expect(existsSync(join(dir, "summary.json"))).toBe(false); // nothing was trained
    server.child.kill("SIGTERM");

    const refused = await runCli([
      "--policy",
      "openai",
      "--url",
      "http://127.0.0.1:9/v1",
      "--base-model",
      "m",
    ]).done;
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/bad_argument: --policy openai only samples.*--eval-only/);
  }, 60_000);
});

describe("glmv rl: careless input is one line and exit code 2", () => {
  it("--steps 1.5, a config typo, a missing or broken --config file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-rl-careless-"));
    dirs.push(dir);
    writeFileSync(join(dir, "typo.yaml"), "rl:\n  stepz: 3\n");
    writeFileSync(join(dir, "broken.yaml"), "rl: [1\n");
    const cases: [string[], RegExp][] = [
      [["--steps", "1.5"], /^glmv rl: bad_argument: --steps must be an integer ≥ 0, got 1\.5$/],
      [
        ["--config", join(dir, "typo.yaml")],
        /^glmv rl: bad_config: unknown key 'rl\.stepz' in .*typo\.yaml \(did you mean 'rl\.steps'\?\)/,
      ],
      [["--config", join(dir, "none.yaml")], /^glmv rl: bad_config: cannot read .*none\.yaml: no such file/],
      [
        ["--config", join(dir, "broken.yaml")],
        /^glmv rl: bad_config: .*broken\.yaml is not valid YAML \(line \d+\)/,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(["--out", join(dir, "run"), ...args]).done));
    for (const [i, { code, out, err }] of runs.entries()) {
      expect(code, out).toBe(2);
      expect(err.trim().split("\n"), err).toHaveLength(1);
      expect(err.trim()).toMatch(cases[i]![1]);
    }
    expect(existsSync(join(dir, "run"))).toBe(false); // nothing was started
  }, 60_000);
});

describe("glmv rl --resume of a run the flat-summary version finished", () => {
  it("opens it, leaves it as it is, and prints its figures", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "glmv-rl-flat-")), "run");
    dirs.push(join(dir, ".."));
    cpSync(join(ROOT, "test/fixtures/rl-flat-summary/with-control"), dir, { recursive: true });
    writeFileSync(join(dir, "report.html"), "<!doctype html><title>report of the flat version</title>");
    const summaryText = readFileSync(join(dir, "summary.json"), "utf8");
    const { code, out } = await runCli(["--resume", dir]).done;
    expect(code, out).toBe(0);
    // its figures (RL 0.25, SFT 0.25, control 0.125, signal 0, sampled signal 0) read through their new names
    expect(out.trim()).toBe(
      `${dir} is already finished; nothing to resume. RL 25.0% vs SFT 25.0% vs continued SFT 12.5%; ` +
        "signalShare 0.00, sampled signal rate 0.00",
    );
    expect(readFileSync(join(dir, "summary.json"), "utf8")).toBe(summaryText);
  }, 60_000);
});

describe("glmv rl --resume never lies", () => {
  it("warns about a zero-signal run, leaves a finished run alone, refuses conflicting flags and corrupt metrics", async () => {
    const root = mkdtempSync(join(tmpdir(), "glmv-rl-honest-"));
    dirs.push(root);
    const dir = join(root, "run");
    // the fewest, shortest rollouts: 2 SFT steps leave every answer wrong, so no refills and no oversampling
    const fast = join(root, "fast.yaml");
    writeFileSync(
      fast,
      "rl:\n  refillRounds: 0\n  maxNewTokens: 16\n  thinkBudget: 8\n  ratioEma:\n    maxExpansion: 1\n",
    );
    const args = (
      "--steps 2 --sft-steps 2 --families counting --train-per-family 16 --heldout 8 --batch-prompts 4 " +
      `--group-size 2 --eval-every 0 --checkpoint-every 2 --no-control --offline-difficulty level --config ${fast}`
    ).split(" ");
    const first = await runCli(["--out", dir, ...args]).done;
    expect(first.code, first.out).toBe(0);
    // SFT left nothing right: said once on stderr, before RL spends its steps, and kept in summary.json
    expect(first.err).toMatch(/^warning: held-out accuracy after SFT is 0%: .*no signal/m);
    const summaryText = readFileSync(join(dir, "summary.json"), "utf8");
    const summary = JSON.parse(summaryText);
    expect(summary.sft.accuracy).toBe(0);
    expect(summary.warnings[0]).toMatch(/^held-out accuracy after SFT is 0%/);
    const report = readFileSync(join(dir, "report.html"), "utf8");

    // a finished run: nothing to do, nothing rewritten (wallSeconds included)
    const again = await runCli(["--resume", dir]).done;
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain(`${dir} is already finished; nothing to resume`);
    expect(readFileSync(join(dir, "summary.json"), "utf8")).toBe(summaryText);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toBe(report);

    // flags that would change the run's config are refused with both values; equal ones are fine
    const refusals = await Promise.all(
      [
        ["--steps", "50"],
        ["--seed", "2"],
        ["--sampler", "uniform"],
        ["--out", join(root, "elsewhere")],
      ].map((extra) => runCli(["--resume", dir, ...extra]).done),
    );
    expect(refusals.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(refusals[0]!.err.trim()).toBe(
      `glmv rl: bad_argument: --steps is 50 but the run in ${dir} has rl.steps: 2; --resume keeps the run's ` +
        "config.yaml (drop the option, or start a new run with --out)",
    );
    expect(refusals[1]!.err).toMatch(/--seed is 2 but the run .* has seed: 1/);
    expect(refusals[2]!.err).toMatch(/--sampler is "uniform" but the run .* has rl\.sampler: "rlcs"/);
    expect(refusals[3]!.err).toMatch(/--out .*elsewhere conflicts with --resume/);
    const same = await runCli(["--resume", dir, "--steps", "2", "--sampler", "rlcs", "--config", fast]).done;
    expect(same.code, same.out).toBe(0);
    expect(readFileSync(join(dir, "summary.json"), "utf8")).toBe(summaryText);

    // a crash before the report; then a damaged line in the middle of metrics.jsonl is an error naming it
    rmSync(join(dir, "report.html"));
    const metricsPath = join(dir, "metrics.jsonl");
    const metrics = readFileSync(metricsPath, "utf8");
    const [line1, line2] = metrics.trim().split("\n");
    writeFileSync(metricsPath, `${line1!.slice(0, 40)}\n${line2}\n`);
    const corrupt = await runCli(["--resume", dir]).done;
    expect(corrupt.code, corrupt.out).toBe(2);
    expect(corrupt.err).toMatch(
      /^glmv rl: checkpoint_corrupt: metrics\.jsonl line 1 is not valid JSON: .*metrics\.jsonl:1\)$/m,
    );
    expect(existsSync(join(dir, "report.html"))).toBe(false);
    expect(readFileSync(join(dir, "summary.json"), "utf8")).toBe(summaryText);

    // a torn last line (a crash mid-append) is dropped with a warning, and the run completes with both steps
    writeFileSync(metricsPath, `${metrics}{"step":3,"rew`);
    const torn = await runCli(["--resume", dir]).done;
    expect(torn.code, torn.out).toBe(0);
    expect(torn.err).toMatch(/^warning: .*metrics\.jsonl:3: dropped a torn last line/m);
    const resumed = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(resumed.rl.steps).toBe(2);
    expect(resumed.rl.rolloutsTotal).toBe(summary.rl.rolloutsTotal);
    expect(existsSync(join(dir, "report.html"))).toBe(true);
  }, 600_000);
});
