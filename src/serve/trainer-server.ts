/**
 * The Tinker training API served over a `TrainerBackend` (trainer-api.md §1, JSON wire format as SkyRL accepts it):
 * sessions, models, `forward_backward`, `optim_step`, weights, sampling sessions, `asample`, and futures. Every
 * mutating call returns `{request_id}`; the work runs in the model's queue (one at a time, in arrival order) and
 * `retrieve_future` answers the result, a failure `{error, category}`, or `{type: "try_again"}` after a short wait.
 * `app.request(method, path, body)` is the whole server without a socket; `listen` puts it on HTTP (`trainer-http.ts`:
 * token, bind rule, body limit and deadline).
 *
 * Checkpoint paths (`save_weights`, `load_weights`, `save_weights_for_sampler`'s `path`, `model_path`) are names
 * relative to the server's checkpoint root (`trainer-paths.ts`); one that would lead out of it is a 400.
 *
 * Model-mutating calls carry a per-model `seq_id`; a repeated one (a client retrying after a lost reply) is answered
 * with the first call's `request_id` and never applied twice. `GET /metrics` gives Prometheus text: requests per
 * route and status and their latency (how a caller can see the forward_backward / optim_step traffic).
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { AdamParams, Datum, LossFn, ModelInput, SamplingParams } from "../rl/tinker-protocol.ts";
import { GlmvError, isGlmvError } from "../util/errors.ts";
import type { JsonReply } from "../util/http-json.ts";
import { HTTP_STATUS } from "./errors.ts";
import { createMetrics, observeRequest, renderMetrics } from "./metrics.ts";
import type { TrainerBackend, TrainerModel, TrainerSampler } from "./trainer-backend.ts";
import { listenTrainer, type TrainerHttpOptions } from "./trainer-http.ts";
import { checkpointRoot, DEFAULT_CHECKPOINT_ROOT } from "./trainer-paths.ts";

export type TrainerAppOptions = {
  backend: TrainerBackend;
  /** How long `retrieve_future` waits for a pending result before answering `try_again`. */
  pollWaitMs?: number;
  /** The only folder checkpoints are read from and written to (default `trainer-checkpoints` in the working dir). */
  checkpointRoot?: string;
};

const Bodies = {
  create_model: z.object({
    session_id: z.string(),
    base_model: z.string(),
    lora_config: z
      .object({ rank: z.number().int().min(0).default(0), seed: z.number().int().optional() })
      .default({ rank: 0 }),
  }),
  forward_backward: z.object({
    model_id: z.string(),
    forward_backward_input: z.object({
      data: z.array(Datum),
      loss_fn: LossFn,
      loss_fn_config: z.record(z.string(), z.number()).nullish(),
    }),
  }),
  optim_step: z.object({
    model_id: z.string(),
    adam_params: AdamParams,
  }),
  weights: z.object({ model_id: z.string(), path: z.string().min(1), optimizer: z.boolean().default(true) }),
  save_for_sampler: z.object({
    model_id: z.string(),
    path: z.string().nullish(),
    sampling_session_seq_id: z.number().int().nullish(),
  }),
  sampling_session: z.object({
    session_id: z.string(),
    base_model: z.string().nullish(),
    model_path: z.string().nullish(),
  }),
  asample: z.object({
    prompt: ModelInput,
    num_samples: z.number().int().positive().default(1),
    sampling_params: SamplingParams,
    sampling_session_id: z.string().nullish(),
    model_path: z.string().nullish(),
    prompt_logprobs: z.boolean().nullish(),
    /** Top-k alternatives per prompt position are not computed; 0 (or absent) is the only value accepted. */
    topk_prompt_logprobs: z.number().int().min(0).nullish(),
  }),
  model: z.object({ model_id: z.string() }),
  future: z.object({ request_id: z.string() }),
};

/** Ephemeral samplers kept per model: the current weights and the previous ones (a client may still be sampling). */
const KEEP_EPHEMERAL = 2;

type Published = { sampler: TrainerSampler; inFlight: number; retired: boolean };
type Future = {
  done: boolean;
  result?: unknown;
  error?: { error: string; category: "user" | "server" };
  settled: Promise<void>;
};
type ModelSlot = {
  model: Promise<TrainerModel>;
  queue: Promise<unknown>;
  baseModel: string;
};

/** Replies to a model's recent `seq_id`s, so a retried request is answered, not applied again. */
type SeenReplies = Map<number, { route: string; reply: { request_id: string } }>;

/** Remembered `seq_id`s per model; a retry comes right after its original, so a short window is plenty. */
const SEQ_WINDOW = 4096;
/** What an unloaded model keeps of them. */
const UNLOADED_WINDOW = 8;

/** The model-mutating routes whose `seq_id` is deduplicated. */
const SEQUENCED = new Set([
  "/forward_backward",
  "/optim_step",
  "/save_weights",
  "/load_weights",
  "/save_weights_for_sampler",
  "/unload_model",
]);

/** A Tinker-compatible server application. */
export type TrainerApp = {
  request(method: string, path: string, body?: unknown): Promise<JsonReply>;
  /** Serve on HTTP; the URL names the address actually bound. Refuses a non-loopback host without a token. */
  listen(
    port: number,
    host?: string,
    http?: TrainerHttpOptions,
  ): Promise<{ url: string; close: () => Promise<void> }>;
  /** The checkpoint root as an absolute path. */
  readonly checkpointRoot: string;
  close(): Promise<void>;
};

/**
 * @example
 * const app = createTrainerApp({ backend: bigramBackend({ vocabSize: 64, imageTokenId: 63 }) });
 * const { url } = await app.listen(0); // Tinker clients connect to `${url}/api/v1/...`
 */
export function createTrainerApp(opts: TrainerAppOptions): TrainerApp {
  const pollWaitMs = opts.pollWaitMs ?? 200;
  const sessions = new Set<string>();
  const models = new Map<string, ModelSlot>();
  const samplers = new Map<string, Published>();
  /** Per model, its ephemeral sampler ids, oldest first: all but the newest few are retired to free their weights. */
  const ephemeral = new Map<string, string[]>();
  const futures = new Map<string, Future>();
  let servers: (() => Promise<void>)[] = [];
  const checkpoints = checkpointRoot(opts.checkpointRoot ?? DEFAULT_CHECKPOINT_ROOT);
  const metrics = createMetrics("glmv_trainer");
  /** Per model id (kept, trimmed, after unload), its replies by `seq_id`. */
  const seen = new Map<string, SeenReplies>();

  const enqueueFuture = (work: () => Promise<unknown>, slot?: ModelSlot): { request_id: string } => {
    const id = randomUUID();
    const future: Future = { done: false, settled: Promise.resolve() };
    const run = async () => {
      try {
        future.result = await work();
      } catch (e) {
        future.error = {
          error: (e as Error).message,
          category: isGlmvError(e) && HTTP_STATUS[e.code] < 500 ? "user" : "server",
        };
      } finally {
        future.done = true;
      }
    };
    if (slot) {
      slot.queue = slot.queue.then(run);
      future.settled = slot.queue as Promise<void>;
    } else future.settled = run();
    futures.set(id, future);
    return { request_id: id };
  };
  const slotOf = (modelId: string): ModelSlot => {
    const slot = models.get(modelId);
    if (!slot) throw new GlmvError("not_found", `unknown model_id ${modelId}`);
    return slot;
  };
  const onModel = (modelId: string, work: (m: TrainerModel) => Promise<unknown>) => {
    const slot = slotOf(modelId);
    return enqueueFuture(async () => work(await slot.model), slot);
  };
  const publish = (sampler: TrainerSampler): string => {
    const id = `sampler-${randomUUID()}`;
    samplers.set(id, { sampler, inFlight: 0, retired: false });
    return id;
  };
  const release = (p: Published) => {
    if (p.retired && p.inFlight === 0) p.sampler.dispose();
  };
  const retireOld = (modelId: string, newest: string) => {
    const ids = [...(ephemeral.get(modelId) ?? []), newest];
    while (ids.length > KEEP_EPHEMERAL) {
      const old = samplers.get(ids.shift()!);
      if (!old) continue;
      for (const [key, p] of samplers) if (p === old) samplers.delete(key);
      old.retired = true;
      release(old);
    }
    ephemeral.set(modelId, ids);
  };

  const routes: Record<string, (body: unknown) => unknown> = {
    "GET /healthz": () => ({ status: "ok" }),
    "GET /get_server_capabilities": () => ({
      supported_models: [
        { model_name: opts.backend.baseModel, max_context_length: opts.backend.maxContextLength },
      ],
    }),
    "POST /create_session": () => {
      const id = `session-${randomUUID()}`;
      sessions.add(id);
      return { type: "create_session", session_id: id };
    },
    "POST /session_heartbeat": () => ({ type: "session_heartbeat" }),
    "POST /create_model": (raw) => {
      const b = Bodies.create_model.parse(raw);
      if (!sessions.has(b.session_id)) throw new GlmvError("not_found", `unknown session ${b.session_id}`);
      if (b.base_model !== opts.backend.baseModel)
        throw new GlmvError(
          "bad_input",
          `base_model ${b.base_model} is not served (${opts.backend.baseModel})`,
        );
      const modelId = `model-${randomUUID()}`;
      const model = opts.backend.createModel({ loraRank: b.lora_config.rank, seed: b.lora_config.seed ?? 0 });
      // The queue waits for creation but never rejects, so a failed creation fails each later future, not the queue.
      const slot: ModelSlot = {
        model,
        queue: model.then(noop, noop),
        baseModel: b.base_model,
      };
      seen.set(modelId, new Map());
      models.set(modelId, slot);
      return {
        model_id: modelId,
        ...enqueueFuture(async () => ({ type: "create_model", model_id: modelId }), slot),
      };
    },
    "POST /get_info": (raw) => {
      const { model_id } = Bodies.model.parse(raw);
      return { type: "get_info", model_id, model_data: { base_model: slotOf(model_id).baseModel } };
    },
    "POST /unload_model": (raw) => {
      const { model_id } = Bodies.model.parse(raw);
      const reply = onModel(model_id, async (m) => {
        m.dispose();
        models.delete(model_id);
        // an unloaded model keeps only its last replies: enough to answer a retried unload
        const replies = seen.get(model_id);
        if (replies) seen.set(model_id, new Map([...replies].slice(-UNLOADED_WINDOW)));
        return { type: "unload_model", model_id };
      });
      return reply;
    },
    "POST /forward_backward": (raw) => {
      const b = Bodies.forward_backward.parse(raw);
      const input = b.forward_backward_input;
      return onModel(b.model_id, (m) =>
        m.forwardBackward(input.data, input.loss_fn, input.loss_fn_config ?? {}),
      );
    },
    "POST /optim_step": (raw) => {
      const b = Bodies.optim_step.parse(raw);
      return onModel(b.model_id, (m) => m.optimStep(b.adam_params));
    },
    "POST /save_weights": (raw) => {
      const b = Bodies.weights.parse(raw);
      checkpoints.resolve(b.path, "path");
      return onModel(b.model_id, async (m) => {
        // resolved again when the queue reaches it: the folder may have changed while the request waited
        await m.save(checkpoints.resolve(b.path, "path"));
        return { type: "save_weights", path: b.path };
      });
    },
    "POST /load_weights": (raw) => {
      const b = Bodies.weights.parse(raw);
      checkpoints.resolve(b.path, "path");
      return onModel(b.model_id, async (m) => {
        await m.load(checkpoints.resolve(b.path, "path"), b.optimizer);
        return { type: "load_weights", path: b.path };
      });
    },
    "POST /save_weights_for_sampler": (raw) => {
      const b = Bodies.save_for_sampler.parse(raw);
      if (b.path) checkpoints.resolve(b.path, "path");
      return onModel(b.model_id, async (m) => {
        const target = b.path ? checkpoints.resolve(b.path, "path") : undefined;
        if (target) await m.save(target);
        const id = publish(await m.snapshot());
        // named samplers are kept by their server path, so every spelling of one path finds them
        if (target) samplers.set(target, samplers.get(id)!);
        else retireOld(b.model_id, id);
        return {
          type: "save_weights_for_sampler",
          sampling_session_id: id,
          ...(b.path ? { path: b.path } : {}),
        };
      });
    },
    "POST /create_sampling_session": async (raw) => {
      const b = Bodies.sampling_session.parse(raw);
      if (b.model_path) {
        const published = samplers.get(checkpoints.resolve(b.model_path, "model_path"));
        if (!published) throw new GlmvError("not_found", `no sampler weights at ${b.model_path}`);
        return { type: "create_sampling_session", sampling_session_id: publish(published.sampler) };
      }
      const model = await opts.backend.createModel({ loraRank: 0, seed: 0 });
      const id = publish(await model.snapshot());
      model.dispose(); // the snapshot keeps what it needs
      return { type: "create_sampling_session", sampling_session_id: id };
    },
    "POST /asample": (raw) => {
      const b = Bodies.asample.parse(raw);
      if (b.topk_prompt_logprobs)
        throw new GlmvError("bad_input", "topk_prompt_logprobs is not supported; ask for prompt_logprobs", {
          where: "topk_prompt_logprobs",
        });
      const key = b.sampling_session_id ?? b.model_path ?? "";
      const published = b.sampling_session_id
        ? samplers.get(b.sampling_session_id)
        : b.model_path
          ? samplers.get(checkpoints.resolve(b.model_path, "model_path"))
          : undefined;
      if (!published) throw new GlmvError("not_found", `unknown sampling session or path '${key}'`);
      published.inFlight++;
      return enqueueFuture(async () => {
        try {
          return await published.sampler.sample(b.prompt.chunks, b.num_samples, b.sampling_params, {
            promptLogprobs: b.prompt_logprobs === true,
          });
        } finally {
          published.inFlight--;
          release(published);
        }
      });
    },
    "POST /retrieve_future": async (raw) => {
      const { request_id } = Bodies.future.parse(raw);
      const future = futures.get(request_id);
      if (!future) throw new GlmvError("not_found", `unknown request_id ${request_id}`);
      if (!future.done) await Promise.race([future.settled, new Promise((r) => setTimeout(r, pollWaitMs))]);
      if (!future.done) return { type: "try_again", request_id, queue_state: "active" };
      return future.error ?? future.result;
    },
  };

  /**
   * A model-mutating request that repeats a `seq_id` of its model (a client retry after a lost reply) gets the
   * first request's `{request_id}` back, so its work runs once; reusing a `seq_id` for another route is an error.
   */
  const sequenced = (name: string, raw: unknown, handler: (body: unknown) => unknown): unknown => {
    const b = z.object({ model_id: z.string(), seq_id: z.number().int().nullish() }).safeParse(raw);
    const replies = b.success && typeof b.data.seq_id === "number" ? seen.get(b.data.model_id) : undefined;
    if (!replies || !b.success || typeof b.data.seq_id !== "number") return handler(raw);
    const seqId = b.data.seq_id;
    const first = replies.get(seqId);
    if (first) {
      if (first.route !== name)
        throw new GlmvError("bad_input", `seq_id ${seqId} was already used by ${first.route}`, {
          where: "seq_id",
        });
      return first.reply;
    }
    const reply = handler(raw) as { request_id: string };
    replies.set(seqId, { route: name, reply });
    if (replies.size > SEQ_WINDOW) replies.delete(replies.keys().next().value!);
    return reply;
  };

  const request = async (method: string, path: string, body?: unknown): Promise<JsonReply> => {
    const started = performance.now();
    const name = path.replace(/^\/api\/v1/, "").replace(/\/+$/, "");
    const key = `${method} ${name}`;
    const route = routes[key];
    let reply: JsonReply;
    if (method === "GET" && path === "/metrics") return { status: 200, body: renderMetrics(metrics) };
    if (!route || !path.startsWith("/api/v1/")) {
      reply = { status: 404, body: { detail: `no route ${method} ${path}` } };
    } else {
      try {
        const input = body ?? {};
        const out = SEQUENCED.has(name) ? sequenced(name, input, route) : route(input);
        reply = { status: 200, body: await out };
      } catch (e) {
        if (e instanceof z.ZodError) reply = { status: 422, body: { detail: e.issues } };
        else if (isGlmvError(e))
          reply = { status: HTTP_STATUS[e.code], body: { detail: e.message, code: e.code } };
        else reply = { status: 500, body: { detail: (e as Error).message } };
      }
    }
    // route names come from the fixed table (unknown paths count as one label), so label values stay bounded
    observeRequest(metrics, route ? name : "unknown", reply.status, (performance.now() - started) / 1000);
    return reply;
  };

  return {
    request,
    checkpointRoot: checkpoints.root,
    async listen(port, host = "127.0.0.1", http = {}) {
      // requests the listener refuses itself (auth, size, deadline, not JSON) count under one route label
      const refused = (status: number, seconds: number) =>
        observeRequest(metrics, "refused", status, seconds);
      const listening = await listenTrainer(request, port, host, http, refused);
      servers.push(listening.close);
      return listening;
    },
    async close() {
      await Promise.all(servers.map((close) => close()));
      servers = [];
      for (const p of new Set(samplers.values())) p.sampler.dispose();
      for (const slot of models.values()) (await slot.model).dispose();
      models.clear();
      samplers.clear();
    },
  };
}

const noop = () => undefined;
