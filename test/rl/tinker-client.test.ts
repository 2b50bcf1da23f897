import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TinkerClient } from "../../src/rl/engines/tinker/tinker-client.ts";
import { bigramBackend } from "../../src/serve/bigram-backend.ts";
import { createTrainerApp } from "../../src/serve/trainer-server.ts";
import { isGlmvError } from "../../src/util/errors.ts";

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A scripted Tinker-like server: `handle(path, body, n)` → [status, body]; records headers and paths. */
async function scripted(
  handle: (path: string, body: Record<string, unknown>, n: number) => [number, unknown],
) {
  const seen: { path: string; auth: string | undefined }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const path = req.url ?? "";
    seen.push({ path, auth: req.headers.authorization });
    const [status, body] = handle(
      path,
      text ? JSON.parse(text) : {},
      seen.filter((s) => s.path === path).length,
    );
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe("TinkerClient over HTTP", () => {
  it("drives glmv's trainer server: session, model, forward_backward, optim_step, sampling", async () => {
    const app = createTrainerApp({
      backend: bigramBackend({ vocabSize: 8, imageTokenId: 7, baseModel: "b" }),
      pollWaitMs: 5,
    });
    const { url, close } = await app.listen(0);
    closers.push(close);
    const client = new TinkerClient({ url, pollIntervalMs: 1 });
    expect(await client.healthz()).toEqual({ status: "ok" });
    expect((await client.capabilities()).supported_models[0]!.model_name).toBe("b");
    const model = await client.createModel(await client.createSession(), "b", 0, 3);
    const datum = {
      model_input: { chunks: [{ type: "encoded_text" as const, tokens: [1, 2] }] },
      loss_fn_inputs: { target_tokens: { data: [2, 3] } },
    };
    const fb = await client.forwardBackward(model, [datum], "cross_entropy");
    expect(fb.loss_fn_outputs[0]!.logprobs.data).toHaveLength(2);
    expect((await client.optimStep(model, { learning_rate: 0.1 })).metrics?.grad_norm).toBeGreaterThan(0);
    const { sampling_session_id } = await client.saveWeightsForSampler(model, { samplingSessionSeqId: 1 });
    const sample = await client.sample({
      prompt: { chunks: [{ type: "encoded_text", tokens: [1] }] },
      numSamples: 2,
      params: { max_tokens: 3, seed: 1 },
      samplingSessionId: sampling_session_id!,
    });
    expect(sample.sequences.map((s) => s.tokens.length)).toEqual([3, 3]);
    const err = await client.optimStep("no-such-model", { learning_rate: 1 }).catch((e: unknown) => e);
    expect(isGlmvError(err) && err.code === "engine_error").toBe(true);
  });

  it("authenticates to a token-guarded glmv trainer with its API key and saves at a path under the server's root", async () => {
    const root = mkdtempSync(join(tmpdir(), "glmv-client-root-"));
    closers.push(() => rmSync(root, { recursive: true, force: true }));
    const app = createTrainerApp({
      backend: bigramBackend({ vocabSize: 8, imageTokenId: 7, baseModel: "b" }),
      pollWaitMs: 5,
      checkpointRoot: root,
    });
    const { url, close } = await app.listen(0, "127.0.0.1", { token: "t0k" });
    closers.push(close);
    const client = new TinkerClient({ url, apiKey: "t0k", pollIntervalMs: 1 });
    const model = await client.createModel(await client.createSession(), "b", 0, 3);
    expect(await client.saveWeights(model, "run/ckpt")).toMatchObject({ path: "run/ckpt" });
    expect(existsSync(join(root, "run", "ckpt"))).toBe(true);
    const refused = await client.saveWeights(model, join(root, "abs")).catch((e: unknown) => e);
    expect(isGlmvError(refused) && refused.code === "engine_error").toBe(true);
    expect(String(refused)).toMatch(/HTTP 400.*checkpoint path/);
    for (const apiKey of [undefined, "wrong"]) {
      const stranger = new TinkerClient({ url, ...(apiKey ? { apiKey } : {}), pollIntervalMs: 1 });
      await expect(stranger.createSession()).rejects.toThrow(/HTTP 401/);
    }
  });

  it("re-polls on HTTP 408 and try_again, takes model_id from the future, sends the API key", async () => {
    const srv = await scripted((path, body, n) => {
      if (path.endsWith("/create_session")) return [200, { session_id: "s1" }];
      if (path.endsWith("/create_model")) return [200, { request_id: "r1" }];
      if (path.endsWith("/retrieve_future")) {
        if (n === 1) return [408, { detail: "timeout" }];
        if (n === 2) return [200, { type: "try_again", request_id: body.request_id }];
        return [200, { type: "create_model", model_id: "m9" }];
      }
      return [404, {}];
    });
    const client = new TinkerClient({ url: srv.url, apiKey: "k", pollIntervalMs: 1 });
    expect(await client.createModel(await client.createSession(), "base", 0)).toBe("m9");
    expect(srv.seen.filter((s) => s.path.endsWith("/retrieve_future"))).toHaveLength(3);
    expect(srv.seen.every((s) => s.auth === "Bearer k")).toBe(true);
  });

  it("throws engine_error for a failed future ({error, category})", async () => {
    const srv = await scripted((path) =>
      path.endsWith("/retrieve_future")
        ? [200, { error: "shape mismatch", category: "user" }]
        : [200, { request_id: "r" }],
    );
    const client = new TinkerClient({ url: srv.url, pollIntervalMs: 1 });
    await expect(client.optimStep("m", { learning_rate: 1 })).rejects.toThrow(/shape mismatch/);
  });

  it("asks for prompt logprobs when told to and rejects replies that lack them or do not match the prompt", async () => {
    const prompt = {
      chunks: [
        { type: "encoded_text" as const, tokens: [1, 2] },
        { type: "image" as const, data: "", format: "png" as const, expected_tokens: 2 },
        { type: "encoded_text" as const, tokens: [3] },
      ],
    };
    const good = [null, -1, -0.5, -0.25, -2];
    const replies: unknown[] = [
      good,
      undefined,
      null,
      [null, -1, -0.5],
      [null, -1, null, -0.25, -2],
      [null, -1, "x", -0.25, -2],
    ];
    const sent: Record<string, unknown>[] = [];
    const srv = await scripted((path, body) => {
      if (path.endsWith("/asample")) {
        sent.push(body);
        return [200, { request_id: String(sent.length - 1) }];
      }
      const lps = replies[Number(body.request_id)];
      return [
        200,
        { sequences: [{ tokens: [4], logprobs: [-1], stop_reason: "length" }], prompt_logprobs: lps },
      ];
    });
    const client = new TinkerClient({ url: srv.url, pollIntervalMs: 1 });
    const ask = () =>
      client.sample({
        prompt,
        numSamples: 1,
        params: { max_tokens: 1, temperature: 1 },
        samplingSessionId: "s",
        promptLogprobs: true,
      });
    expect((await ask()).prompt_logprobs).toEqual(good);
    expect(sent[0]).toMatchObject({
      prompt_logprobs: true,
      num_samples: 1,
      sampling_params: { max_tokens: 1 },
    });
    const failures = [
      /returned none/,
      /returned null/,
      /3 entries for a prompt of 5 tokens/,
      /\[2\] is null/,
      /\[2\] is "x"/,
    ];
    for (const message of failures) {
      const err = await ask().catch((e: unknown) => e);
      expect(isGlmvError(err) && err.code === "engine_error", String(err)).toBe(true);
      expect(String(err)).toMatch(message);
    }
    // without the flag: prompt_logprobs false on the wire, and the reply is not checked
    const plain = await client.sample({
      prompt,
      numSamples: 1,
      params: { max_tokens: 1 },
      samplingSessionId: "s",
    });
    expect(sent.at(-1)).toMatchObject({ prompt_logprobs: false });
    expect(plain.sequences).toHaveLength(1);
  });
});
