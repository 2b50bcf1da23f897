import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { presetBackend } from "../../src/cli/serve-trainer.ts";
import { promptFromItem } from "../../src/data/task-encoding.ts";
import { buildSuite } from "../../src/data/tasks/index.ts";
import { loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { TinkerClient } from "../../src/rl/engines/tinker/tinker-client.ts";
import { TinkerPolicy } from "../../src/rl/engines/tinker/tinker-policy.ts";
import { RlConfig } from "../../src/rl/loop/config.ts";
import { initialTrainerState, rlStep, type Scorer, type StepMetrics } from "../../src/rl/loop/trainer.ts";
import { initialPromptStats } from "../../src/rl/loop/trainer-phases.ts";
import { createTrainerApp } from "../../src/serve/trainer-server.ts";
import { spawnGlmvServer } from "../helpers/spawn-glmv.ts";

// A short RL run (the real `rlStep`: curriculum sampling, refill, advantages, packing, update) through TinkerPolicy,
// once against the trainer server in this process and once against `glmv serve trainer` in a child process.
const ITEMS = buildSuite({ seed: 3, perFamily: 24, split: "train", families: ["counting"] });
const BY_ID = new Map(ITEMS.map((i) => [i.id, i]));

/** Reward 1 when the gold answer appears anywhere in the response: a loose rule that gives a random model signal. */
const score: Scorer = async (inputs) =>
  inputs.map((i) => {
    const correct = i.response.includes(i.answer);
    return {
      reward: correct ? 1 : 0,
      correct,
      format: "ok",
      extracted: null,
      timedOut: false,
      stage: "verify",
    };
  });

/** Everything but wall-clock figures. */
function deterministic(m: StepMetrics) {
  const { timings: _t, tokensPerSec: _s, ...rest } = m;
  return rest;
}

async function shortRun(client: TinkerClient) {
  const tok = await loadTinyTokenizer();
  const config = RlConfig.parse({
    rl: {
      batchPrompts: 4,
      groupSize: 4,
      maxNewTokens: 12,
      thinkBudget: 8,
      lr: 0.05,
      warmupSteps: 0,
      rewardWorkers: 1,
    },
  }).rl;
  // 56×56 task images become 4 image tokens in glmv's tiny preset (design.md): the client says so explicitly.
  const policy = await TinkerPolicy.create({
    client,
    tokenizer: tok,
    baseModel: "glmv-bigram",
    seed: 3,
    imageTokens: () => 4,
  });
  const ctx = {
    config,
    seed: 5,
    policy,
    items: BY_ID,
    toPrompt: promptFromItem,
    score,
    state: initialTrainerState(initialPromptStats(ITEMS)),
  };
  const metrics = [];
  for (let step = 1; step <= 3; step++) metrics.push(deterministic((await rlStep(ctx, step)).metrics));
  await policy.dispose();
  return metrics;
}

describe("glmv rl through the Tinker API across two processes", () => {
  let child: ChildProcess;
  let url = "";
  beforeAll(async () => {
    ({ child, url } = await spawnGlmvServer(
      ["serve", "trainer", "--preset", "bigram", "--port", "0", "--poll-wait-ms", "5"],
      "inherit",
    ));
  }, 60_000);
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  it("a 3-step run reaches the same metrics (rewards, losses) in-process and over HTTP with the same seed", async () => {
    const app = createTrainerApp({ backend: await presetBackend("bigram"), pollWaitMs: 5 });
    const inProcess = await shortRun(
      new TinkerClient({ transport: (m, p, b) => app.request(m, p, b), pollIntervalMs: 1 }),
    );
    await app.close();
    const overHttp = await shortRun(new TinkerClient({ url, pollIntervalMs: 1 }));
    expect(inProcess.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(inProcess.some((m) => m.reward > 0 && m.gradNorm > 0)).toBe(true); // the run really trained
    for (const [i, m] of overHttp.entries()) {
      const ref = inProcess[i]!;
      expect(Math.abs(m.loss - ref.loss)).toBeLessThan(1e-5);
      expect(Math.abs(m.reward - ref.reward)).toBeLessThan(1e-5);
      expect(m).toEqual(ref);
    }
  }, 60_000);
});
