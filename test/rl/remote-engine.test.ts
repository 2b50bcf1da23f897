import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSuite } from "../../src/data/tasks/index.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { runMainJob } from "../../src/rl/job/main-job.ts";
import {
  createRemoteEngine,
  REMOTE_CHECKPOINT_FILE,
  type RemotePolicy,
  serverPathOf,
} from "../../src/rl/job/remote-engine.ts";
import { parseRlConfig } from "../../src/rl/loop/config.ts";
import type { RolloutParams, UpdateBatch } from "../../src/rl/loop/policy.ts";
import { bigramBackend } from "../../src/serve/bigram-backend.ts";
import { createTrainerApp, type TrainerApp } from "../../src/serve/trainer-server.ts";
import { isGlmvError } from "../../src/util/errors.ts";

let tok: GlmvTokenizer;
let app: TrainerApp;
let url = "";
let close: () => Promise<void>;
/** The trainer's checkpoint root: the server reads and writes only below it. */
let root = "";
/** Every request the trainer received, in order. */
const calls: { path: string; body: Record<string, unknown> }[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  tok = await loadTinyTokenizer();
  root = mkdtempSync(join(tmpdir(), "glmv-remote-root-"));
  dirs.push(root);
  app = createTrainerApp({
    backend: bigramBackend({ vocabSize: tok.vocabSize, imageTokenId: tok.special.image, baseModel: "b" }),
    pollWaitMs: 5,
    checkpointRoot: root,
  });
  // HTTP on loopback (as a remote trainer is reached), recording each call on its way into the server
  ({ url, close } = await listenRecording(app));
});
afterAll(async () => {
  await close();
  await app.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The app on HTTP behind a thin proxy that records each request body. */
async function listenRecording(target: TrainerApp) {
  const { createServer } = await import("node:http");
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const body = text ? JSON.parse(text) : undefined;
    const path = new URL(req.url ?? "/", "http://x").pathname;
    calls.push({ path, body });
    const reply = await target.request(req.method ?? "GET", path, body);
    res.writeHead(reply.status, { "content-type": "application/json" });
    res.end(JSON.stringify(reply.body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `glmv-remote-${name}-`));
  dirs.push(d);
  return d;
};

/** Rollouts of 8 sampled tokens with no force-answering (every token the sampler's). */
const GEN_NO_FORCE: RolloutParams = {
  n: 2,
  temperature: 1,
  topP: 1,
  maxNewTokens: 8,
  thinkBudget: 8,
  style: "4.1v",
  seed: 5,
};

const tinkerSpec = () => ({ kind: "tinker" as const, url, tokenizer: tok, baseModel: "b" });

const SMALL = parseRlConfig({
  data: { families: ["counting"], trainPerFamily: 12, heldoutItems: 6 },
  sft: { steps: 3, warmupSteps: 1 },
  rl: {
    steps: 2,
    batchPrompts: 3,
    groupSize: 4,
    maxNewTokens: 10,
    thinkBudget: 6,
    evalEvery: 0,
    checkpointEvery: 1,
    refillRounds: 0,
    rewardWorkers: 1,
  },
});

describe("createRemoteEngine: the main job through a Tinker trainer over HTTP", () => {
  it("runs SFT (cross_entropy), RL (ppo), the control and the report; RL starts from SFT weights with a fresh optimiser", async () => {
    calls.length = 0;
    const outDir = join(tmp("main"), "run");
    const engine = await createRemoteEngine(SMALL, { policy: tinkerSpec(), sftBatch: 8 });
    const summary = await runMainJob({ outDir, config: SMALL, engine });
    for (const f of ["summary.json", "metrics.jsonl", "report.html", "config.yaml"])
      expect(existsSync(join(outDir, f)), f).toBe(true);
    expect(summary.rl.steps).toBe(2);
    expect(summary.rl.rolloutsTotal).toBeGreaterThan(0);
    expect(summary.control?.steps).toBeGreaterThanOrEqual(1);
    expect(summary.heldoutItems).toBe(6);
    // a trainer scores reference responses, so the curriculum's prior is the SFT model's likelihood (offline: auto)
    expect(summary.offline.difficulty).toBe("sft-likelihood");
    const scoring = calls.filter((c) => c.path.endsWith("/asample") && c.body.prompt_logprobs === true);
    expect(scoring.length).toBeGreaterThanOrEqual(12); // every training prompt once after SFT, then rescored

    const fbs = calls.filter((c) => c.path.endsWith("/forward_backward"));
    const lossOf = (c: (typeof calls)[number]) =>
      (c.body.forward_backward_input as { loss_fn: string }).loss_fn;
    // 3 SFT steps, then RL's ppo updates, then the control's SFT steps
    expect(fbs.slice(0, 3).map(lossOf)).toEqual(["cross_entropy", "cross_entropy", "cross_entropy"]);
    expect(fbs.some((c) => lossOf(c) === "ppo")).toBe(true);
    const sftDatum = (fbs[0]!.body.forward_backward_input as { data: unknown[] }).data;
    expect(sftDatum).toHaveLength(8);
    // checkpoints were written by the server under its root, at relative names the run folder's markers keep
    const saves = calls.filter((c) => c.path.endsWith("/save_weights")).map((c) => c.body.path as string);
    expect(saves[0]).toMatch(/^glmv-[0-9a-f-]{36}$/);
    const sftPath = serverPathOf(join(outDir, "sft"));
    expect(saves).toContain(sftPath);
    expect(existsSync(join(root, sftPath))).toBe(true);
    // RL, the control and the policy that scores the offline difficulty load the SFT checkpoint weights-only: the
    // fresh optimiser of a training policy is not replaced by SFT's, and the scoring one never steps.
    const trained = new Set(fbs.map((c) => c.body.model_id));
    const loads = calls.filter((c) => c.path.endsWith("/load_weights"));
    const trainingLoads = loads.filter((l) => trained.has(l.body.model_id));
    expect(trainingLoads.length).toBeGreaterThanOrEqual(2);
    for (const l of loads) expect(l.body).toMatchObject({ path: sftPath, optimizer: false });
    const scoringLoads = loads.filter((l) => !trained.has(l.body.model_id));
    expect(scoringLoads).toHaveLength(1);
    // every model the job created was unloaded
    const created = calls.filter((c) => c.path.endsWith("/create_model")).length;
    expect(calls.filter((c) => c.path.endsWith("/unload_model"))).toHaveLength(created);
  }, 60_000);
});

describe("createRemoteEngine: resume", () => {
  it("after a crash in RL step 2, --resume restores the step-1 checkpoint with its optimiser state and finishes", async () => {
    const outDir = join(tmp("resume"), "run");
    const engine = await createRemoteEngine(SMALL, { policy: tinkerSpec(), sftBatch: 4 });
    let scored = 0;
    const crashing = {
      ...engine,
      scorer: () => {
        const real = engine.scorer();
        const score: typeof real.score = (inputs) => {
          if (++scored === 2) throw new Error("simulated crash in RL step 2");
          return real.score(inputs);
        };
        return { score, close: real.close };
      },
    };
    await expect(runMainJob({ outDir, config: SMALL, engine: crashing })).rejects.toThrow(/simulated crash/);
    expect(existsSync(join(outDir, "summary.json"))).toBe(false);
    calls.length = 0;
    const summary = await runMainJob({ outDir, config: SMALL, engine, resume: true });
    expect(summary.rl.steps).toBe(2);
    const loads = calls.filter((c) => c.path.endsWith("/load_weights")).map((c) => c.body);
    // the RL policy: the SFT load (made weights-only by the reset) is replaced by the checkpoint's full state
    const step1 = serverPathOf(join(outDir, "checkpoints", "step-000001"));
    expect(loads[0]).toMatchObject({ path: step1, optimizer: true });
    const lines = readFileSync(join(outDir, "metrics.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as { step: number }).step)).toEqual([1, 2]);
  }, 60_000);
});

describe("RemotePolicy", () => {
  const GEN: RolloutParams = {
    n: 2,
    temperature: 1,
    topP: 1,
    maxNewTokens: 6,
    thinkBudget: 6,
    style: "4.1v",
    seed: 1,
  };
  const item = buildSuite({ seed: 2, perFamily: 1, split: "train", families: ["counting"] })[0]!;

  it("keeps checkpoints in a server-side folder with a local marker; a reset after a load makes it weights-only", async () => {
    calls.length = 0;
    const engine = await createRemoteEngine(SMALL, { policy: tinkerSpec(), remoteDir: "server/" });
    const a = (await engine.createPolicy(1)) as RemotePolicy;
    const local = join(tmp("local"), "ckpt");
    await a.save(local);
    const marker = JSON.parse(readFileSync(join(local, REMOTE_CHECKPOINT_FILE), "utf8")) as { path: string };
    expect(serverPathOf(local)).toBe(marker.path);
    expect(marker.path).toMatch(/^server\/glmv-/);
    expect(existsSync(join(root, marker.path))).toBe(true);

    const b = (await engine.createPolicy(2)) as RemotePolicy;
    await b.load(local);
    engine.resetOptimizer(b);
    await b.generate([engine.toPrompt(item)], GEN);
    expect(calls.filter((c) => c.path.endsWith("/load_weights")).map((c) => c.body)).toEqual([
      expect.objectContaining({ path: marker.path, optimizer: false }),
    ]);
    // a later load (resume from an RL checkpoint) restores the optimiser state, which a reset cannot undo
    await b.load(local);
    await b.generate([engine.toPrompt(item)], GEN);
    expect(calls.filter((c) => c.path.endsWith("/load_weights")).at(-1)!.body.optimizer).toBe(true);
    const err = (() => {
      try {
        engine.resetOptimizer(b);
      } catch (e) {
        return e;
      }
    })();
    expect(isGlmvError(err) && err.code === "engine_error").toBe(true);
    await a.dispose();
    await b.dispose();
  });

  it("cuts updates before media placeholders", async () => {
    calls.length = 0;
    const engine = await createRemoteEngine(SMALL, { policy: tinkerSpec() });
    const p = (await engine.createPolicy(1)) as RemotePolicy;
    const prompt = engine.toPrompt(item);
    const [group] = await p.generate([prompt], GEN);
    const r = group![0]!;
    const withImage = { ...r, tokens: [r.tokens[0]!, tok.special.image, 5], logprobs: [0, 0, 0] };
    const batch: UpdateBatch = {
      samples: [
        { prompt, rollout: { ...withImage, injected: [false, false, false] }, advantage: 1 },
        { prompt, rollout: group![1]!, advantage: -1 },
      ],
      microBatches: [[0, 1]],
    };
    await p.update(batch, { lr: 0.1, passes: 1, clipLow: 0.2, clipHigh: 0.28, aggregation: "sample" });
    const fb = calls.find((c) => c.path.endsWith("/forward_backward"))!;
    const data = (
      fb.body.forward_backward_input as { data: { loss_fn_inputs: Record<string, { data: number[] }> }[] }
    ).data;
    const targets = data[0]!.loss_fn_inputs.target_tokens!.data;
    expect(targets).not.toContain(tok.special.image);
    expect(data[0]!.loss_fn_inputs.advantages!.data.every((x) => x === 0)).toBe(true);
    await p.dispose();
  });

  it("an OpenAI-compatible policy only samples: SFT and checkpoints are refused with engine_error", async () => {
    const engine = await createRemoteEngine(SMALL, {
      policy: { kind: "openai", url: "http://127.0.0.1:9/v1", model: "glm" },
    });
    // nor can it score a reference response: the curriculum falls back to the task level
    expect(engine.referenceLikelihood).toBeUndefined();
    const p = await engine.createPolicy(1);
    const sft = await engine.sft(p, [item], { steps: 1, lr: 1e-3, warmupSteps: 0, seed: 1 }).catch((e) => e);
    expect(isGlmvError(sft) && sft.code === "engine_error").toBe(true);
    const load = await p.load("/tmp/nowhere").catch((e) => e);
    expect(isGlmvError(load) && load.code === "engine_error").toBe(true);
  });
});

describe("createRemoteEngine: reference likelihood", () => {
  const items = buildSuite({ seed: 4, perFamily: 3, split: "train", families: ["counting"] });
  const asamples = () => calls.filter((c) => c.path.endsWith("/asample"));

  it("scores π(y*|x) by prompt logprobs of the current weights: in (0, 1], higher after SFT on the item, after a deferred load", async () => {
    const engine = await createRemoteEngine(SMALL, { policy: tinkerSpec(), sftBatch: 1 });
    const score = engine.referenceLikelihood!;
    const p = (await engine.createPolicy(1)) as RemotePolicy;
    calls.length = 0;
    const before = await score(p, items);
    expect(before.every((x) => x > 0 && x <= 1)).toBe(true);
    // one scoring request per item: the prompt's chunks (image included) then the reference tokens, no gradients
    const sent = asamples().map((c) => c.body);
    expect(sent).toHaveLength(items.length);
    for (const body of sent) {
      expect(body).toMatchObject({
        num_samples: 1,
        prompt_logprobs: true,
        sampling_params: { max_tokens: 1, temperature: 1 },
      });
      const chunks = (body.prompt as { chunks: { type: string; tokens?: number[] }[] }).chunks;
      expect(chunks.some((c) => c.type === "image")).toBe(true);
      expect(chunks.at(-1)!.tokens!.at(-1)).toBe(tok.special.endOfText);
    }
    expect(calls.some((c) => c.path.endsWith("/forward_backward"))).toBe(false);

    // SFT on the first item: its reference becomes likelier, scored from the new weights (published lazily)
    await engine.sft(p, items.slice(0, 1), { steps: 3, lr: 0.05, warmupSteps: 0, seed: 1 });
    const after = await score(p, items);
    expect(Math.log(after[0]!)).toBeGreaterThan(Math.log(before[0]!) + 1);

    // a policy that loads those weights scores them too: the deferred load runs before the scoring requests
    const dir = join(tmp("score"), "ckpt");
    await p.save(dir);
    const q = (await engine.createPolicy(2)) as RemotePolicy;
    await q.load(dir);
    engine.resetOptimizer(q);
    calls.length = 0;
    const loaded = await score(q, items);
    for (const [i, x] of loaded.entries()) expect(Math.log(x)).toBeCloseTo(Math.log(after[i]!), 6);
    const order = calls.map((c) => c.path.replace(/.*\//, ""));
    expect(order.indexOf("load_weights")).toBeLessThan(order.indexOf("asample"));
    await p.dispose();
    await q.dispose();
  });

  it("sequenceLogprobs reproduces the sampler's own logprobs, so the likelier sample scores higher", async () => {
    const engine = await createRemoteEngine(SMALL, { policy: tinkerSpec() });
    const p = (await engine.createPolicy(3)) as RemotePolicy;
    const prompt = engine.toPrompt(items[0]!);
    // no force-answering: every token is sampled, none injected
    const params: RolloutParams = { ...GEN_NO_FORCE, n: 4 };
    const [group] = await p.generate([prompt], params);
    const scored = await p.sequenceLogprobs(
      group!.map((rollout) => ({ prompt, rollout })),
      "4.1v",
    );
    const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
    for (const [k, r] of group!.entries()) {
      expect(scored[k]).toHaveLength(r.tokens.length);
      for (const [j, lp] of scored[k]!.entries()) expect(lp).toBeCloseTo(r.logprobs[j]!, 6);
    }
    const sampled = group!.map((r) => sum(r.logprobs));
    const best = sampled.indexOf(Math.max(...sampled));
    const worst = sampled.indexOf(Math.min(...sampled));
    expect(best).not.toBe(worst);
    expect(sum(scored[best]!)).toBeGreaterThan(sum(scored[worst]!));
    await p.dispose();
  });
});
