/**
 * The Tinker training API served over a `TrainerBackend` (trainer-api.md §1, JSON wire format as SkyRL accepts it):
 * sessions, models, `forward_backward`, `optim_step`, weights, sampling sessions, `asample`, and futures. Every
 * mutating call returns `{request_id}`; the work runs in the model's queue (one at a time, in arrival order) and
 * `retrieve_future` answers the result, a failure `{error, category}`, or `{type: "try_again"}` after a short wait.
 * `app.request(method, path, body)` is the whole server without a socket; `listen` puts it on HTTP (`trainer-http.ts`:
 * token, bind rule, body limit and deadline).
 *
 * The routes live by API area in trainer-routes-*.ts (models, training, weights, sampling, futures) over the shared
 * state in trainer-state.ts; this file joins them into one table and dispatches requests.
 *
 * Checkpoint paths (`save_weights`, `load_weights`, `save_weights_for_sampler`'s `path`, `model_path`) are names
 * relative to the server's checkpoint root (`trainer-paths.ts`); one that would lead out of it is a 400.
 *
 * Model-mutating calls carry a per-model `seq_id`; a repeated one (a client retrying after a lost reply) is answered
 * with the first call's `request_id` and never applied twice. `GET /metrics` gives Prometheus text: requests per
 * route and status and their latency (how a caller can see the forward_backward / optim_step traffic).
 */
import { z } from "zod";
import { isGlmvError } from "../util/errors.ts";
import type { JsonReply } from "../util/http-json.ts";
import { HTTP_STATUS } from "./errors.ts";
import { createMetrics, observeRequest, renderMetrics } from "./metrics.ts";
import type { TrainerBackend } from "./trainer-backend.ts";
import { listenTrainer, type TrainerHttpOptions } from "./trainer-http.ts";
import { checkpointRoot, DEFAULT_CHECKPOINT_ROOT } from "./trainer-paths.ts";
import { futureRoutes } from "./trainer-routes-futures.ts";
import { modelRoutes } from "./trainer-routes-models.ts";
import { samplingRoutes } from "./trainer-routes-sampling.ts";
import { trainingRoutes } from "./trainer-routes-training.ts";
import { weightRoutes } from "./trainer-routes-weights.ts";
import { SEQUENCED, sequenced } from "./trainer-seq-ids.ts";
import { createTrainerState, type TrainerRoutes } from "./trainer-state.ts";

export type TrainerAppOptions = {
  backend: TrainerBackend;
  /** How long `retrieve_future` waits for a pending result before answering `try_again`. */
  pollWaitMs?: number;
  /** The only folder checkpoints are read from and written to (default `trainer-checkpoints` in the working dir). */
  checkpointRoot?: string;
};

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
  let servers: (() => Promise<void>)[] = [];
  const state = createTrainerState(
    opts.backend,
    checkpointRoot(opts.checkpointRoot ?? DEFAULT_CHECKPOINT_ROOT),
  );
  const metrics = createMetrics("glmv_trainer");
  const routes: TrainerRoutes = {
    ...modelRoutes(state),
    ...trainingRoutes(state),
    ...weightRoutes(state),
    ...samplingRoutes(state),
    ...futureRoutes(state, pollWaitMs),
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
        const out = SEQUENCED.has(name) ? sequenced(state.seen, name, input, route) : route(input);
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
    checkpointRoot: state.checkpoints.root,
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
      for (const p of new Set(state.samplers.values())) p.sampler.dispose();
      for (const slot of state.models.values()) (await slot.model).dispose();
      state.models.clear();
      state.samplers.clear();
    },
  };
}
