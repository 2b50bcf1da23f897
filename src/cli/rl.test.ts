import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { spawnGlmvServer } from "../../test/helpers/spawn-glmv.ts";
import { RlConfig } from "../rl/config.ts";
import { observePrompt } from "../rl/curriculum.ts";
import { RunStore } from "../rl/run-store.ts";
import { buildSuites } from "../rl/suites.ts";
import type { RolloutRecord } from "../rl/trainer.ts";
import { curriculumOptions, initialPromptStats } from "../rl/trainer-phases.ts";
import { isGlmvError } from "../util/errors.ts";
import { remoteOptionsFromArgs, rlConfigFromArgs } from "./rl.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/glmv.js");

describe("rlConfigFromArgs", () => {
  it("maps options onto the config and keeps the embedded defaults elsewhere", () => {
    const c = rlConfigFromArgs({
      steps: "5",
      "sft-steps": "7",
      families: "counting,ocr",
      seed: "3",
      sampler: "uniform",
    });
    expect(c.rl.steps).toBe(5);
    expect(c.sft.steps).toBe(7);
    expect(c.data.families).toEqual(["counting", "ocr"]);
    expect(c.seed).toBe(3);
    expect(c.rl.sampler).toBe("uniform");
    expect(c.rl).toMatchObject({
      batchPrompts: 16,
      groupSize: 8,
      lr: 5e-4,
      passes: 2,
      clipLow: 0.2,
      clipHigh: 0.28,
    });
    expect(c.data.heldoutItems).toBe(512);
    expect(c.rl.curriculum.offline).toBe("auto");
    expect(c.rl.curriculum.rescorePerStep).toBe(300);
    const d = rlConfigFromArgs({ "offline-difficulty": "sft-likelihood", "rescore-per-step": "50" });
    expect(d.rl.curriculum).toMatchObject({
      offline: "sft-likelihood",
      rescorePerStep: 50,
      decay: 0.9,
      priorWeight: 2,
    });
  });
  it("rejects unknown families, samplers and non-numbers", () => {
    expect(() => rlConfigFromArgs({ families: "poetry" })).toThrow(/unknown family/);
    expect(() => rlConfigFromArgs({ sampler: "greedy" })).toThrow(/--sampler/);
    expect(() => rlConfigFromArgs({ steps: "many" })).toThrow(/--steps must be a number/);
    expect(() => rlConfigFromArgs({ "offline-difficulty": "pass@k" })).toThrow(/--offline-difficulty/);
  });
});

describe("remoteOptionsFromArgs", () => {
  it("is undefined for the local engine and maps the remote options", () => {
    expect(remoteOptionsFromArgs({})).toBeUndefined();
    expect(
      remoteOptionsFromArgs({
        policy: "tinker",
        url: "http://127.0.0.1:8000",
        "base-model": "glmv-tiny",
        "lora-rank": "8",
        loss: "importance_sampling",
        "remote-dir": "/srv/ckpt",
        "image-tokens": "glm",
      }),
    ).toMatchObject({
      kind: "tinker",
      url: "http://127.0.0.1:8000",
      baseModel: "glmv-tiny",
      loraRank: 8,
      lossFn: "importance_sampling",
      remoteDir: "/srv/ckpt",
      imageTokens: "glm",
      evalOnly: false,
    });
  });
  it("refuses what cannot run, with typed errors that say what to do", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isGlmvError(e) ? `${e.code}: ${e.message}` : String(e);
      }
      return "ok";
    };
    expect(code(() => remoteOptionsFromArgs({ policy: "tinker" }))).toMatch(/bad_argument: .*needs --url/);
    expect(
      code(() => remoteOptionsFromArgs({ policy: "openai", url: "http://h/v1", "base-model": "m" })),
    ).toMatch(/bad_argument: .*only samples.*--eval-only/);
    expect(
      code(() =>
        remoteOptionsFromArgs({ policy: "openai", url: "http://h/v1", "base-model": "m", "eval-only": true }),
      ),
    ).toBe("ok");
    expect(code(() => remoteOptionsFromArgs({ url: "http://h" }))).toMatch(/--url needs a remote engine/);
    expect(code(() => remoteOptionsFromArgs({ tokenizer: "t" }))).toMatch(
      /--tokenizer needs a remote engine/,
    );
    expect(code(() => remoteOptionsFromArgs({ policy: "tinker", url: "u", "image-tokens": "x" }))).toMatch(
      /--image-tokens/,
    );
    expect(code(() => remoteOptionsFromArgs({ policy: "vllm", url: "http://h" }))).toMatch(
      /--policy must be/,
    );
    expect(code(() => remoteOptionsFromArgs({ policy: "tinker", url: "http://h", loss: "kl" }))).toMatch(
      /--loss/,
    );
  });
});

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

function runCli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; out: string }>;
} {
  const child = spawn(process.execPath, [BIN, "rl", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, out })),
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
    expect(summary.rlSteps).toBe(4);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("<svg");
  }, 600_000);
});

describe("glmv rl --policy tinker (against glmv serve trainer in another process)", () => {
  it("runs SFT, RL and held-out evaluation through the Tinker API and writes summary.json and metrics.jsonl", async () => {
    const server = await spawnGlmvServer(
      ["serve", "trainer", "--preset", "tiny", "--port", "0", "--poll-wait-ms", "5"],
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
    expect(summary).toMatchObject({ rlSteps: 2, heldoutItems: 16, continuedSftAccuracy: null });
    // the trainer scores reference responses (prompt logprobs), so offline: auto takes the likelihood prior
    expect(summary.offlineDifficulty).toBe("sft-likelihood");
    expect(summary.offlineScoringSeconds).toBeGreaterThan(0);
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
  it("evaluates a remote model on the held-out items (eval.json); --policy openai without --eval-only exits 1", async () => {
    const server = await spawnGlmvServer(
      ["serve", "trainer", "--preset", "bigram", "--port", "0"],
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
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/bad_argument: --policy openai only samples.*--eval-only/);
  }, 60_000);
});
