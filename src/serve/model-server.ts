/**
 * `glmv serve model`: a glmv checkpoint behind the OpenAI chat API, so any harness (glmv's own `openai:` client,
 * lmms-eval, VLMEvalKit) can evaluate a glmv-trained model as it would one served by vLLM or SGLang.
 *
 * - `POST /v1/chat/completions` — text and `image_url` parts (data URLs; `file://` under an allowed folder),
 *   `max_tokens`/`max_completion_tokens`, `temperature`, `top_p`, `top_k`, `seed`, `stop`,
 *   `chat_template_kwargs.enable_thinking` (and `/nothink` ending the last user turn), `continue_final_message`
 *   (continue a final assistant message: how harnesses force an answer on vLLM/SGLang), `skip_special_tokens`
 *   (default false: GLM's markers stay in the text), glmv's `think_budget`. The answer is GLM's raw text, thinking
 *   included, in `content`; `--reasoning-parser glm45` splits it into `reasoning_content` + `content` as vLLM does.
 * - `GET /v1/models`, `GET /healthz` (open), `GET /metrics`.
 *
 * The project's server rules (http.ts): bearer token checked in constant time, loopback only without one, a body
 * limit, a JSON depth guard, a deadline for receiving each request. Errors keep glmv's `{error: {code, message,
 * field}}` and add OpenAI's `type` and `param`, so OpenAI SDKs read them too.
 */
import type { FastifyInstance } from "fastify";
import type { ChatModel } from "../model/chat-model.ts";
import { GlmvError } from "../util/errors.ts";
import { httpError } from "./errors.ts";
import { createBaseApp } from "./http.ts";
import { createMetrics, renderMetrics } from "./metrics.ts";
import {
  chatRequestOfBody,
  completionBody,
  type ReasoningParser,
  type RequestLimits,
} from "./model-requests.ts";

export type ModelServerOptions = {
  /** The loaded model (owned by the caller: close it after `app.close()`). */
  model: Pick<ChatModel, "generate" | "pending" | "stats">;
  /** The name `/v1/models` lists and requests may name (`--served-model-name`). */
  name: string;
  token?: string | undefined;
  /** Largest body in bytes; default 64 MiB (images travel base64). */
  bodyLimit?: number | undefined;
  /** Most milliseconds to receive a whole request (slower clients get 408); default 30,000. */
  requestTimeoutMs?: number | undefined;
  /** Most new tokens a request may ask for (default 32,768) and the default when it names none (1,024). */
  maxTokens?: number | undefined;
  defaultMaxTokens?: number | undefined;
  /** Folder `file://` image URLs may read from; none = refused. */
  allowedMediaPath?: string | undefined;
  /** Requests queued or running before new ones get 503 (default 1,024). */
  maxQueue?: number | undefined;
  reasoningParser?: ReasoningParser | undefined;
};

/** OpenAI's error `type` for a status. */
const openAiType = (status: number) =>
  status === 401
    ? "authentication_error"
    : status === 404
      ? "not_found_error"
      : status < 500
        ? "invalid_request_error"
        : "server_error";

/**
 * Build the model server (not listening yet).
 * @example
 * const model = await openChatModel("runs/x/ckpt-100");
 * const app = createModelServer({ model, name: "glmv" });
 * await app.listen({ host: "127.0.0.1", port: 8000 });
 */
export function createModelServer(opts: ModelServerOptions): FastifyInstance {
  const metrics = createMetrics("glmv_model");
  const app = createBaseApp({
    token: opts.token,
    bodyLimit: opts.bodyLimit ?? 64 << 20,
    requestTimeoutMs: opts.requestTimeoutMs,
    metrics,
  });
  const limits: RequestLimits = {
    maxTokens: opts.maxTokens ?? 32_768,
    defaultMaxTokens: Math.min(opts.defaultMaxTokens ?? 1024, opts.maxTokens ?? 32_768),
    allowedMediaPath: opts.allowedMediaPath,
  };
  const maxQueue = opts.maxQueue ?? 1024;
  const reasoningParser = opts.reasoningParser ?? "none";
  const created = Math.floor(Date.now() / 1000);

  // every error answer (auth, 404, bad body) also speaks OpenAI's shape: `type` and `param` beside glmv's fields
  app.addHook("preSerialization", async (_req, reply, payload) => {
    const error = (payload as { error?: Record<string, unknown> } | null)?.error;
    if (reply.statusCode < 400 || typeof error !== "object" || error === null) return payload;
    return { error: { ...error, type: openAiType(reply.statusCode), param: error.field ?? null } };
  });

  // batches, requests and compilations so far: how well requests share compiled shapes
  app.get("/healthz", async () => ({
    ok: true,
    model: opts.name,
    pending: opts.model.pending(),
    ...opts.model.stats(),
  }));
  app.get("/metrics", async (_req, reply) =>
    reply.type("text/plain; version=0.0.4").send(renderMetrics(metrics)),
  );
  app.get("/v1/models", async () => ({
    object: "list",
    data: [{ id: opts.name, object: "model", created, owned_by: "glmv", max_model_len: null }],
  }));

  app.post("/v1/chat/completions", async (req, reply) => {
    const named = (req.body as { model?: unknown } | null)?.model;
    if (typeof named === "string" && named !== opts.name)
      throw new GlmvError(
        "not_found",
        `the model '${named}' does not exist; this server serves '${opts.name}'`,
        {
          where: "model",
        },
      );
    if (opts.model.pending() >= maxQueue) {
      const e = httpError(503, "unavailable", `${maxQueue} requests are already queued; retry later`);
      return reply.code(e.status).send(e.body);
    }
    const request = await chatRequestOfBody(req.body, limits);
    // a client that hangs up is not answered: its request leaves the queue if it has not started
    const abort = new AbortController();
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) abort.abort(new GlmvError("bad_input", "client disconnected"));
    });
    const result = await opts.model.generate({ ...request, signal: abort.signal });
    return completionBody(result, { model: opts.name, reasoningParser });
  });
  return app;
}
