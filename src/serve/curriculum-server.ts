/**
 * The curriculum server (issue 6): RLCS as a service for engines that own their training loop.
 *
 * - `POST /v1/sample {n}` → `{step, prompts[], nextN}`: starts a step and returns n prompts (with their ids and
 *   payloads) drawn by curriculum weight; `nextN = ceil(n · ratioEma)` is how many to ask for next time.
 * - `POST /v1/observe {results: [{id, rewards[]}], requestId?}` → updates online difficulty and the ratio-EMA; the
 *   answer is sent only after the SQLite transaction committed. A retried `requestId` is not applied twice. Every
 *   group needs at least one reward, and every reward is a number in [0, 1] (else 400 naming `results.i.rewards.j`).
 * - `GET /v1/stats`, `GET /v1/prompts/:id`, `GET /healthz`, `GET /metrics`.
 * `/sample` and `/observe` (design.md's names) are aliases.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import type { CurriculumStore } from "./curriculum-store.ts";
import { createBaseApp } from "./http.ts";
import { createMetrics, renderMetrics } from "./metrics.ts";
import { parseBody } from "./reward-requests.ts";

export type CurriculumServerOptions = {
  /** The state (owned by the caller: close it after `app.close()`). */
  store: CurriculumStore;
  token?: string | undefined;
  /** Largest body in bytes; default 4 MiB. */
  bodyLimit?: number | undefined;
  /** Most prompts per sample; default 65,536. */
  maxSample?: number | undefined;
  /** Most groups per observe and rollouts per group; default 65,536 and 4,096. */
  maxGroups?: number | undefined;
  maxGroupSize?: number | undefined;
  /** Most milliseconds to receive a whole request (slower clients get 408); default 30,000. */
  requestTimeoutMs?: number | undefined;
};

/**
 * Build the curriculum server (not listening yet).
 * @example
 * const store = CurriculumStore.open("curriculum.sqlite");
 * const app = createCurriculumServer({ store });
 * await app.listen({ host: "127.0.0.1", port: 8001 });
 */
export function createCurriculumServer(opts: CurriculumServerOptions): FastifyInstance {
  const metrics = createMetrics("glmv_curriculum");
  const app = createBaseApp({
    token: opts.token,
    bodyLimit: opts.bodyLimit ?? 4 << 20,
    requestTimeoutMs: opts.requestTimeoutMs,
    metrics,
  });
  const store = opts.store;
  const SampleBody = z.object({
    n: z
      .int()
      .min(1)
      .max(opts.maxSample ?? 65_536),
  });
  const ObserveBody = z.object({
    results: z
      .array(
        z.object({
          id: z.union([z.string().max(1000), z.number()]).transform(String),
          // A reward outside [0, 1] would corrupt the pass-rate statistics; an empty group carries nothing.
          rewards: z
            .array(z.number().min(0).max(1))
            .min(1)
            .max(opts.maxGroupSize ?? 4096),
        }),
      )
      .max(opts.maxGroups ?? 65_536),
    requestId: z.string().min(1).max(200).optional(),
  });

  app.get("/healthz", async () => ({ ok: true }));
  app.get("/metrics", async (_req, reply) =>
    reply.type("text/plain; version=0.0.4").send(renderMetrics(metrics)),
  );

  const sample = async (req: { body: unknown }) => {
    return store.sample(parseBody(SampleBody, req.body).n);
  };
  const observe = async (req: { body: unknown }) => {
    const body = parseBody(ObserveBody, req.body);
    return store.observe(body.results, body.requestId);
  };
  for (const prefix of ["/v1", ""]) {
    app.post(`${prefix}/sample`, sample);
    app.post(`${prefix}/observe`, observe);
  }
  app.get("/v1/stats", async () => store.summary());
  app.get<{ Params: { id: string } }>("/v1/prompts/:id", async (req) => {
    const found = store.prompt(req.params.id);
    if (!found) throw new GlmvError("not_found", "unknown prompt id", { where: "id" });
    return found;
  });
  return app;
}
