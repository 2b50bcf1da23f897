import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { presetBackend } from "../../src/cli/serve-trainer.ts";
import { presetImageTokens } from "../../src/model/image-tokens.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { TinkerClient } from "../../src/rl/engines/tinker/tinker-client.ts";
import { TinkerPolicy } from "../../src/rl/engines/tinker/tinker-policy.ts";
import { cfg, GEN, prompts } from "../../src/serve/tiny-backend.fixture.ts";
import { createTrainerApp } from "../../src/serve/trainer-server.ts";
import { initTensorEngine } from "../../src/tensor/engine.ts";
import { spawnGlmvServer } from "../helpers/spawn-glmv.ts";

// The child-process half of src/serve/tiny-backend.test.ts (a child `glmv serve trainer --preset tiny`), same setup.
let tok: GlmvTokenizer;
beforeAll(async () => {
  await initTensorEngine();
  tok = await loadTinyTokenizer();
});

describe("glmv serve trainer --preset tiny in a child process", () => {
  let child: ChildProcess;
  let url = "";
  beforeAll(async () => {
    ({ child, url } = await spawnGlmvServer(
      ["serve", "trainer", "--preset", "tiny", "--port", "0", "--poll-wait-ms", "5"],
      "inherit",
    ));
  }, 60_000);
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  /** generate → update → generate with the same seeds: rollouts and metrics (wall time left out). */
  async function scenario(client: TinkerClient) {
    const policy = await TinkerPolicy.create({
      client,
      tokenizer: tok,
      baseModel: "glmv-tiny",
      seed: 2,
      imageTokens: presetImageTokens(cfg),
    });
    const params = { ...GEN, n: 2 };
    const before = await policy.generate(prompts.slice(0, 1), params);
    const samples = before[0]!.map((rollout, j) => ({
      prompt: prompts[0]!,
      rollout,
      advantage: j === 0 ? 1 : -1,
    }));
    const { seconds: _, ...metrics } = await policy.update(
      { samples, microBatches: [[0, 1]] },
      { lr: 1e-2, passes: 2, clipLow: 0.2, clipHigh: 0.28, aggregation: "token" },
    );
    const after = await policy.generate(prompts.slice(0, 1), params);
    await policy.dispose();
    return { before, metrics, after };
  }

  it("gives the same rollouts and update metrics as the same backend in-process", async () => {
    const remoteClient = new TinkerClient({ url, pollIntervalMs: 2 });
    // the child really serves the tiny model (the bigram backend reports a 2^20 context)
    expect((await remoteClient.capabilities()).supported_models).toEqual([
      { model_name: "glmv-tiny", max_context_length: 256 },
    ]);
    const app = createTrainerApp({ backend: await presetBackend("tiny"), pollWaitMs: 5 });
    const localClient = new TinkerClient({ transport: (m, p, b) => app.request(m, p, b), pollIntervalMs: 1 });
    // both at once: the child process computes on its own core
    const [local, remote] = await Promise.all([scenario(localClient), scenario(remoteClient)]);
    await app.close();
    expect(Math.abs(remote.metrics.loss - local.metrics.loss)).toBeLessThan(1e-5);
    expect(remote).toEqual(local);
    expect(local.metrics.gradNorm).toBeGreaterThan(0);
  }, 120_000);
});
