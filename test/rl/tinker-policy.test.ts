import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { presetBackend } from "../../src/cli/serve-trainer.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import type { PolicyPrompt, Rollout, RolloutParams, UpdateBatch, UpdateParams } from "../../src/rl/policy.ts";
import { TinkerClient, type TinkerTransport } from "../../src/rl/tinker-client.ts";
import { TinkerPolicy } from "../../src/rl/tinker-policy.ts";
import { createTrainerApp, type TrainerApp } from "../../src/serve/trainer-server.ts";
import { spawnGlmvServer } from "../helpers/spawn-glmv.ts";

// The two-process half of src/rl/tinker-policy.test.ts (a child `glmv serve trainer`), with the same prompts and helpers.
let tok: GlmvTokenizer;
beforeAll(async () => {
  tok = await loadTinyTokenizer();
});

const IMAGE = { data: new Uint8Array(28 * 28 * 3).fill(90), width: 28, height: 28, channels: 3 };
const prompts: PolicyPrompt[] = ["1+2", "3+4", "5+1"].map((q, i) => ({
  id: `p${i}`,
  images: [IMAGE],
  messages: [{ role: "user", content: [{ type: "image" }, { type: "text", text: q }] }],
}));
const GEN: RolloutParams = {
  n: 4,
  temperature: 1,
  topP: 1,
  maxNewTokens: 10,
  thinkBudget: 10,
  style: "4.1v",
  seed: 11,
};
const UPD: UpdateParams = { lr: 0.05, passes: 2, clipLow: 0.2, clipHigh: 0.28, aggregation: "sample" };

/** An in-process server reached through `app.request` (no socket), optionally recording every call. */
async function inProcess(record?: { path: string; body: unknown }[], checkpointRoot?: string) {
  const app = createTrainerApp({
    backend: await presetBackend("bigram"),
    pollWaitMs: 5,
    ...(checkpointRoot ? { checkpointRoot } : {}),
  });
  const transport: TinkerTransport = (method, path, body) => {
    record?.push({ path, body });
    return app.request(method, path, body);
  };
  return { app, client: new TinkerClient({ transport, pollIntervalMs: 1 }) };
}

const newPolicy = (client: TinkerClient) =>
  TinkerPolicy.create({ client, tokenizer: tok, baseModel: "glmv-bigram", seed: 7 });

/** How often `target` was sampled (injected tokens do not count). */
const countOf = (target: number) => (r: Rollout) =>
  r.tokens.filter((t, k) => t === target && !r.injected[k]).length;

/** A GRPO-shaped batch: advantage = reward − group mean. */
function batchOf(groups: Rollout[][], reward: (r: Rollout) => number): UpdateBatch {
  const samples = groups.flatMap((g, i) => {
    const rewards = g.map(reward);
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    return g.map((rollout, j) => ({ prompt: prompts[i]!, rollout, advantage: rewards[j]! - mean }));
  });
  const idx = samples.map((_, i) => i);
  return { samples, ranks: [[idx.filter((i) => i % 2 === 0), idx.filter((i) => i % 2 === 1)]] };
}

describe("TinkerPolicy across two processes (glmv serve trainer)", () => {
  let child: ChildProcess;
  let url = "";
  /** The two servers' checkpoint roots (the paths sent are relative to them). */
  let localRoot = "";
  let httpRoot = "";
  beforeAll(async () => {
    localRoot = mkdtempSync(join(tmpdir(), "glmv-tinker-local-"));
    httpRoot = mkdtempSync(join(tmpdir(), "glmv-tinker-http-"));
    ({ child, url } = await spawnGlmvServer(
      [
        "serve",
        "trainer",
        "--preset",
        "bigram",
        "--port",
        "0",
        "--poll-wait-ms",
        "5",
        "--checkpoint-root",
        httpRoot,
      ],
      "ignore",
    ));
  }, 60_000);
  afterAll(() => {
    child?.kill("SIGTERM");
    for (const d of [localRoot, httpRoot]) if (d) rmSync(d, { recursive: true, force: true });
  });

  /** generate → update → generate → update → save → generate → load → generate: rollouts and metrics. */
  async function scenario(client: TinkerClient, dir: string) {
    const policy = await newPolicy(client);
    const target = tok.encode("3")[0]!;
    const out: unknown[] = [];
    for (let step = 0; step < 2; step++) {
      const groups = await policy.generate(prompts, { ...GEN, thinkBudget: 6, seed: step });
      const { seconds: _, ...metrics } = await policy.update(batchOf(groups, countOf(target)), UPD);
      out.push(groups, metrics);
    }
    await policy.save(dir);
    const saved = await policy.generate(prompts, { ...GEN, seed: 99 });
    await policy.update(batchOf(saved, countOf(target)), UPD);
    await policy.load(dir);
    out.push(saved, await policy.generate(prompts, { ...GEN, seed: 99 }));
    await policy.dispose();
    return out;
  }

  it("reaches the same rollouts and metrics as the in-process server", async () => {
    const local = await inProcess(undefined, localRoot);
    const viaLocal = await scenario(local.client, "run/ckpt");
    const viaHttp = await scenario(new TinkerClient({ url, pollIntervalMs: 2 }), "run/ckpt");
    expect(viaHttp).toEqual(viaLocal);
    expect(viaLocal[4]).toEqual(viaLocal[5]); // after load, sampling matches sampling at save time
    // each server wrote under its own root, at the relative path the client sent
    for (const root of [localRoot, httpRoot]) expect(existsSync(join(root, "run", "ckpt"))).toBe(true);
    await (local.app as TrainerApp).close();
  }, 60_000);
});
