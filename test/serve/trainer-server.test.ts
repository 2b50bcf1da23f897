import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Datum } from "../../src/rl/engines/tinker/tinker-protocol.ts";
import { bigramBackend } from "../../src/serve/bigram-backend.ts";
import { HTTP_STATUS } from "../../src/serve/errors.ts";
import type { TrainerBackend } from "../../src/serve/trainer-backend.ts";
import { createTrainerApp } from "../../src/serve/trainer-server.ts";
import { GlmvError, type GlmvErrorCode } from "../../src/util/errors.ts";

const V = 12;
const backend = () => bigramBackend({ vocabSize: V, imageTokenId: 11, baseModel: "bigram" });

/** Call a route and return the body of a 200 reply (fails the test otherwise). */
async function ok(app: ReturnType<typeof createTrainerApp>, path: string, body?: unknown) {
  const reply = await app.request(body === undefined ? "GET" : "POST", `/api/v1/${path}`, body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as Record<string, unknown>;
}

async function settle(app: ReturnType<typeof createTrainerApp>, reply: Record<string, unknown>) {
  for (;;) {
    const r = await ok(app, "retrieve_future", { request_id: reply.request_id });
    if (r.type !== "try_again") return r;
  }
}

async function newModel(app: ReturnType<typeof createTrainerApp>, seed = 1) {
  const { session_id } = await ok(app, "create_session", { tags: [] });
  const created = await ok(app, "create_model", {
    session_id,
    base_model: "bigram",
    lora_config: { rank: 0, seed },
  });
  expect(await settle(app, created)).toEqual({ type: "create_model", model_id: created.model_id });
  return created.model_id as string;
}

/** A datum teaching the sequence 1 2 3 4 (next-token aligned). */
const sequenceDatum = (extra: Record<string, number[]> = {}): Datum => ({
  model_input: { chunks: [{ type: "encoded_text", tokens: [1, 2, 3] }] },
  loss_fn_inputs: {
    target_tokens: { data: [2, 3, 4], dtype: "int64" },
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { data: v, dtype: "float32" as const }])),
  },
});

/** One `forward_backward` on `sequenceDatum()` (seq_id 1) and one `optim_step` (seq_id 2), both settled. */
async function trainOneStep(app: ReturnType<typeof createTrainerApp>, model_id: string) {
  await settle(
    app,
    await ok(app, "forward_backward", {
      model_id,
      seq_id: 1,
      forward_backward_input: { data: [sequenceDatum()], loss_fn: "cross_entropy" },
    }),
  );
  await settle(
    app,
    await ok(app, "optim_step", { model_id, seq_id: 2, adam_params: { learning_rate: 0.1 } }),
  );
}

describe("trainer server: Tinker routes", () => {
  it("answers health and capabilities, and 404/422 for unknown routes and bad bodies", async () => {
    const app = createTrainerApp({ backend: backend() });
    expect(await ok(app, "healthz")).toEqual({ status: "ok" });
    expect(await ok(app, "get_server_capabilities")).toMatchObject({
      supported_models: [{ model_name: "bigram" }],
    });
    expect((await app.request("POST", "/api/v1/nope", {})).status).toBe(404);
    expect((await app.request("POST", "/api/v1/forward_backward", { model_id: 3 })).status).toBe(422);
    expect(
      (await app.request("POST", "/api/v1/optim_step", { model_id: "x", adam_params: { learning_rate: 1 } }))
        .status,
    ).toBe(404);
    const { session_id } = await ok(app, "create_session", {});
    expect(
      (await app.request("POST", "/api/v1/create_model", { session_id, base_model: "other" })).status,
    ).toBe(400);
  });

  it("learns a sequence with cross-entropy: forward_backward then optim_step lowers the loss", async () => {
    const app = createTrainerApp({ backend: backend() });
    const model_id = await newModel(app);
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const fb = await settle(
        app,
        await ok(app, "forward_backward", {
          model_id,
          seq_id: 2 * step,
          forward_backward_input: { data: [sequenceDatum()], loss_fn: "cross_entropy" },
        }),
      );
      losses.push((fb.metrics as Record<string, number>)["loss:sum"]!);
      const lps = (fb.loss_fn_outputs as { logprobs: { data: number[] } }[])[0]!.logprobs.data;
      expect(lps).toHaveLength(3);
      expect(-lps.reduce((a, b) => a + b, 0)).toBeCloseTo(losses.at(-1)!, 9);
      const opt = await settle(
        app,
        await ok(app, "optim_step", { model_id, seq_id: 2 * step + 1, adam_params: { learning_rate: 0.1 } }),
      );
      expect((opt.metrics as Record<string, number>).grad_norm).toBeGreaterThan(0);
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.2);
  });

  it("runs queued work in arrival order and polls with try_again while it runs", async () => {
    const base = backend();
    const slow: TrainerBackend = {
      ...base,
      async createModel(o) {
        const m = await base.createModel(o);
        return {
          ...m,
          forwardBackward: async (...a) => {
            await new Promise((r) => setTimeout(r, 80));
            return m.forwardBackward(...a);
          },
        };
      },
    };
    const app = createTrainerApp({ backend: slow, pollWaitMs: 5 });
    const model_id = await newModel(app);
    const fbBody = {
      model_id,
      forward_backward_input: { data: [sequenceDatum()], loss_fn: "cross_entropy" },
    };
    const first = await ok(app, "forward_backward", fbBody);
    const step = await ok(app, "optim_step", { model_id, adam_params: { learning_rate: 0.5 } });
    const second = await ok(app, "forward_backward", fbBody);
    expect(await ok(app, "retrieve_future", { request_id: second.request_id })).toMatchObject({
      type: "try_again",
    });
    const [a, , b] = [await settle(app, first), await settle(app, step), await settle(app, second)];
    const loss = (r: Record<string, unknown>) => (r.metrics as Record<string, number>)["loss:sum"]!;
    expect(loss(b)).toBeLessThan(loss(a)); // the optimiser step ran between the two
  });

  it("reports a failed request through its future", async () => {
    const app = createTrainerApp({ backend: backend() });
    const model_id = await newModel(app);
    const bad = sequenceDatum();
    bad.loss_fn_inputs.target_tokens = { data: [2, 3, 99] };
    const r = await settle(
      app,
      await ok(app, "forward_backward", {
        model_id,
        forward_backward_input: { data: [bad], loss_fn: "cross_entropy" },
      }),
    );
    expect(r).toMatchObject({ category: "user" });
    expect(String(r.error)).toMatch(/outside vocab/);
  });

  it("samples deterministically by seed from published weights, stops at stop tokens", async () => {
    const app = createTrainerApp({ backend: backend() });
    const model_id = await newModel(app);
    const pub = await settle(
      app,
      await ok(app, "save_weights_for_sampler", { model_id, sampling_session_seq_id: 1 }),
    );
    const sample = async (seed: number) =>
      settle(
        app,
        await ok(app, "asample", {
          prompt: { chunks: [{ type: "encoded_text", tokens: [1, 2] }] },
          num_samples: 4,
          sampling_params: { max_tokens: 20, temperature: 1, stop: [5], seed },
          sampling_session_id: pub.sampling_session_id,
        }),
      );
    const a = await sample(3);
    expect(await sample(3)).toEqual(a);
    expect(await sample(4)).not.toEqual(a);
    for (const s of a.sequences as { tokens: number[]; logprobs: number[]; stop_reason: string }[]) {
      expect(s.logprobs).toHaveLength(s.tokens.length);
      if (s.stop_reason === "stop") expect(s.tokens.at(-1)).toBe(5);
      else expect(s.tokens).toHaveLength(20);
    }
  });

  it("returns prompt logprobs when asked: the bigram table's, as the training forward computes them", async () => {
    const app = createTrainerApp({ backend: backend() });
    const model_id = await newModel(app, 4);
    // a trained step first, so the table is not the initial one
    await trainOneStep(app, model_id);
    const pub = await settle(
      app,
      await ok(app, "save_weights_for_sampler", { model_id, seq_id: 3, sampling_session_seq_id: 1 }),
    );
    // text, an image of 2 placeholder positions, text
    const chunks = [
      { type: "encoded_text", tokens: [1, 2] },
      { type: "image", data: "", format: "png", expected_tokens: 2 },
      { type: "encoded_text", tokens: [3, 4, 5] },
    ];
    const asample = (extra: Record<string, unknown>) =>
      app.request("POST", "/api/v1/asample", {
        prompt: { chunks },
        num_samples: 1,
        sampling_params: { max_tokens: 1, temperature: 1, seed: 1 },
        sampling_session_id: pub.sampling_session_id,
        ...extra,
      });
    const plain = await settle(app, (await asample({})).body as Record<string, unknown>);
    expect(plain.prompt_logprobs).toBeNull();
    const scored = await settle(
      app,
      (await asample({ prompt_logprobs: true })).body as Record<string, unknown>,
    );
    expect(scored.sequences).toEqual(plain.sequences); // scoring does not change the sample
    const lps = scored.prompt_logprobs as (number | null)[];
    expect(lps).toHaveLength(7);
    expect(lps[0]).toBeNull();
    // the same positions through forward_backward (cross_entropy on input = all but the last token)
    const fb = await settle(
      app,
      await ok(app, "forward_backward", {
        model_id,
        seq_id: 4,
        forward_backward_input: {
          data: [
            {
              model_input: { chunks: [...chunks.slice(0, 2), { type: "encoded_text", tokens: [3, 4] }] },
              loss_fn_inputs: {
                target_tokens: { data: [2, 11, 11, 3, 4, 5] },
                weights: { data: [0, 0, 0, 0, 0, 0] },
              },
            },
          ],
          loss_fn: "cross_entropy",
        },
      }),
    );
    const trained = (fb.loss_fn_outputs as { logprobs: { data: number[] } }[])[0]!.logprobs.data;
    for (const [i, lp] of trained.entries()) expect(lps[i + 1]).toBeCloseTo(lp, 10);
    expect(lps.slice(1).every((lp) => lp! < 0)).toBe(true);
    // top-k prompt logprobs are not computed: asking for them is refused, 0 is accepted
    const topk = await asample({ prompt_logprobs: true, topk_prompt_logprobs: 3 });
    expect(topk.status).toBe(400);
    expect(JSON.stringify(topk.body)).toMatch(/topk_prompt_logprobs is not supported/);
    expect((await asample({ prompt_logprobs: true, topk_prompt_logprobs: 0 })).status).toBe(200);
  });

  it("saves and loads weights: sampling after load matches sampling at save time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-trainer-"));
    try {
      const app = createTrainerApp({ backend: backend(), checkpointRoot: dir });
      const model_id = await newModel(app);
      const train = async () => {
        await settle(
          app,
          await ok(app, "forward_backward", {
            model_id,
            forward_backward_input: { data: [sequenceDatum()], loss_fn: "cross_entropy" },
          }),
        );
        await settle(app, await ok(app, "optim_step", { model_id, adam_params: { learning_rate: 0.3 } }));
      };
      const logprobsNow = async () => {
        const fb = await settle(
          app,
          await ok(app, "forward_backward", {
            model_id,
            forward_backward_input: {
              data: [sequenceDatum({ weights: [0, 0, 0] })],
              loss_fn: "cross_entropy",
            },
          }),
        );
        return (fb.loss_fn_outputs as { logprobs: { data: number[] } }[])[0]!.logprobs.data;
      };
      await train();
      const path = "run-1/ckpt";
      await settle(app, await ok(app, "save_weights", { model_id, path }));
      expect(existsSync(join(dir, "run-1", "ckpt"))).toBe(true);
      const saved = await logprobsNow();
      await train();
      expect(await logprobsNow()).not.toEqual(saved);
      await settle(app, await ok(app, "load_weights", { model_id, path, optimizer: true }));
      expect(await logprobsNow()).toEqual(saved);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("trainer server: error statuses", () => {
  /** The bigram backend, except that creating a model fails at once with `code`, or later in its future. */
  const failing = (code: GlmvErrorCode, when: "now" | "future"): TrainerBackend => {
    const inner = backend();
    return {
      ...inner,
      createModel: (opts) => {
        if (when === "now") throw new GlmvError(code, `cannot create (${code})`);
        return inner.createModel(opts).then(async (model) => ({
          ...model,
          forwardBackward: async () => {
            throw new GlmvError(code, `cannot train (${code})`);
          },
        }));
      },
    };
  };

  it("answers a GlmvError with serve/errors.ts's status: client input 4xx (image_invalid 422), server config 5xx", async () => {
    const expected: [GlmvErrorCode, number][] = [
      ["image_invalid", 422],
      ["checkpoint_mismatch", 400],
      ["bad_input", 400],
      ["bad_config", 500],
      ["io_error", 500],
    ];
    for (const [code, status] of expected) {
      const app = createTrainerApp({ backend: failing(code, "now") });
      const { session_id } = await ok(app, "create_session", { tags: [] });
      const reply = await app.request("POST", "/api/v1/create_model", { session_id, base_model: "bigram" });
      expect([code, reply.status]).toEqual([code, status]);
      expect(reply.status).toBe(HTTP_STATUS[code]);
      expect(reply.body).toMatchObject({ code });
    }
  });

  it("calls a failed future's category 'user' exactly for the 4xx codes", async () => {
    for (const code of ["image_invalid", "checkpoint_mismatch", "bad_config", "io_error"] as const) {
      const app = createTrainerApp({ backend: failing(code, "future") });
      const model_id = await newModel(app);
      const r = await settle(
        app,
        await ok(app, "forward_backward", {
          model_id,
          forward_backward_input: { data: [sequenceDatum()], loss_fn: "cross_entropy" },
        }),
      );
      expect([code, r.category]).toEqual([code, HTTP_STATUS[code] < 500 ? "user" : "server"]);
    }
  });
});

describe("trainer server: retried seq_ids and metrics", () => {
  it("applies a repeated seq_id once: the retry gets the first request_id and the step is not taken twice", async () => {
    /** One forward_backward (sent `copies` times with one seq_id), one optim_step, then the loss it left. */
    const lossAfter = async (copies: number) => {
      const app = createTrainerApp({ backend: backend() });
      const model_id = await newModel(app);
      const fb = (seq_id: number) =>
        ok(app, "forward_backward", {
          model_id,
          seq_id,
          forward_backward_input: { data: [sequenceDatum()], loss_fn: "cross_entropy" },
        });
      const replies = [];
      for (let k = 0; k < copies; k++) replies.push(await fb(1));
      expect(new Set(replies.map((r) => r.request_id)).size).toBe(1);
      await settle(app, replies[0]!);
      const step = { model_id, seq_id: 2, adam_params: { learning_rate: 0.3 } };
      const a = await ok(app, "optim_step", step);
      expect((await ok(app, "optim_step", step)).request_id).toBe(a.request_id);
      await settle(app, a);
      const after = await settle(app, await fb(3));
      // a seq_id reused by another route is refused
      const clash = await app.request("POST", "/api/v1/optim_step", { ...step, seq_id: 1 });
      expect(clash.status).toBe(400);
      return (after.metrics as Record<string, number>)["loss:sum"]!;
    };
    const once = await lossAfter(1);
    expect(await lossAfter(3)).toBe(once);
  });

  it("answers a retried unload_model (same seq_id) after the model is gone; a new unload is a 404", async () => {
    const app = createTrainerApp({ backend: backend() });
    const model_id = await newModel(app);
    const first = await ok(app, "unload_model", { model_id, seq_id: 5 });
    expect(await settle(app, first)).toEqual({ type: "unload_model", model_id });
    expect((await ok(app, "unload_model", { model_id, seq_id: 5 })).request_id).toBe(first.request_id);
    expect((await app.request("POST", "/api/v1/unload_model", { model_id, seq_id: 6 })).status).toBe(404);
  });

  it("serves Prometheus metrics counting the Tinker routes it answered", async () => {
    const app = createTrainerApp({ backend: backend() });
    const model_id = await newModel(app);
    await trainOneStep(app, model_id);
    await app.request("POST", "/api/v1/nope", {});
    const { url, close } = await app.listen(0);
    try {
      const res = await fetch(`${url}/metrics`);
      expect(res.headers.get("content-type")).toMatch(/text\/plain/);
      const text = await res.text();
      expect(text).toContain('glmv_trainer_requests_total{route="/forward_backward",status="200"} 1');
      expect(text).toContain('glmv_trainer_requests_total{route="/optim_step",status="200"} 1');
      expect(text).toContain('glmv_trainer_requests_total{route="unknown",status="404"} 1');
      expect(text).toMatch(/glmv_trainer_requests_total\{route="\/retrieve_future",status="200"\} \d+/);
    } finally {
      await close();
      await app.close();
    }
  });
});

describe("trainer server: listen", () => {
  it("refuses a non-loopback host without a token and names the address it bound", async () => {
    const app = createTrainerApp({ backend: backend() });
    await expect(app.listen(0, "0.0.0.0")).rejects.toThrow(/refusing to bind 0\.0\.0\.0 without --token/);
    const { url, close } = await app.listen(0, "0.0.0.0", { token: "t" });
    expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    await close();
    await app.close();
  });
});

describe("trainer server: sampler lifetime", () => {
  it("keeps the two newest ephemeral samplers of a model and disposes older ones", async () => {
    const base = backend();
    let disposed = 0;
    const counting: TrainerBackend = {
      ...base,
      async createModel(o) {
        const m = await base.createModel(o);
        return {
          ...m,
          snapshot: async () => {
            const snap = await m.snapshot();
            return { ...snap, dispose: () => void disposed++ };
          },
        };
      },
    };
    const app = createTrainerApp({ backend: counting });
    const model_id = await newModel(app);
    const ids: string[] = [];
    for (let k = 1; k <= 3; k++) {
      const r = await settle(
        app,
        await ok(app, "save_weights_for_sampler", { model_id, sampling_session_seq_id: k }),
      );
      ids.push(r.sampling_session_id as string);
    }
    expect(disposed).toBe(1);
    const sample = (id: string) =>
      app.request("POST", "/api/v1/asample", {
        prompt: { chunks: [{ type: "encoded_text", tokens: [1] }] },
        sampling_params: { max_tokens: 2 },
        sampling_session_id: id,
      });
    expect((await sample(ids[0]!)).status).toBe(404);
    expect((await sample(ids[1]!)).status).toBe(200);
    expect((await sample(ids[2]!)).status).toBe(200);
    await app.close();
    expect(disposed).toBe(3);
  });
});
