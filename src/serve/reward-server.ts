/**
 * The reward server (issue 6): glmv's reward system over HTTP, in three dialects.
 *
 * - `POST /get_reward` — OpenRLHF's remote reward protocol: `{query[], prompts[], labels[]}` →
 *   `{rewards[], scores[], extra_logs}`; `labels[i]` is JSON with the item's `domain`, `answer`, … . The same URL
 *   takes slime's `--rm-type remote_rm` body, one sample `{prompt, response, label}` (told apart by its shape) →
 *   `{reward, correct, format, stage, reason, extracted, timedOut, rebuilt}`, read by slime's `--reward-key reward`.
 *   Scoring is pure, so slime's retries of a request get the same answer.
 * - `POST /v1/score` — glmv batches: `{items[], style?, specialTokens?, thinking?}` with the `glmv reward score` item fields →
 *   `{results[]}`. The verl `compute_score` shim and the TRL reward function call this.
 * - `GET /healthz`, `GET /metrics` (Prometheus text).
 *
 * Every item is scored in the one `RewardPool` the server is given, under the pool's hard per-item deadline
 * (measured from the start of scoring in a worker): a timeout is reward 0 with `extra_logs.timed_out = 1`, never a
 * stalled request. There is no in-thread fast path: a cheap item still goes through a worker, because only a
 * worker can be killed at the deadline. Throughput comes instead from coalescing the one-item requests that arrive
 * in the same event-loop turn into one pool batch (`coalesceScoring`).
 */
import type { FastifyInstance } from "fastify";
import type { ResponseStyle } from "../model/domains.ts";
import type { RewardPool } from "../reward/pool.ts";
import type { ScoredResult, ScoreInput } from "../reward/system.ts";
import { GlmvError } from "../util/errors.ts";
import { createBaseApp } from "./http.ts";
import { assertJsonDepth, MAX_JSON_DEPTH } from "./json-depth.ts";
import { createMetrics, observeItem, renderMetrics, type ServiceMetrics } from "./metrics.ts";
import {
  assertLabelSize,
  GetRewardBody,
  getRewardDialect,
  itemOfSlime,
  itemsOfGetReward,
  itemsOfScore,
  parseBody,
  ScoreBody,
  type ServerItem,
  SlimeRewardBody,
  type SpecialTokenMode,
} from "./reward-requests.ts";

export type RewardServerOptions = {
  /** The pool that scores every request (owned by the caller: close it after `app.close()`). */
  pool: RewardPool;
  /** Bearer token for every route but `/healthz`. */
  token?: string | undefined;
  /** How responses arrive: with special tokens kept (OpenRLHF, default) or stripped (verl). */
  specialTokens?: SpecialTokenMode | undefined;
  /** The run's response style; an item's own `style` wins. Default "4.1v". */
  style?: ResponseStyle | undefined;
  /**
   * The run's thinking switch; a `/v1/score` request's own `thinking` wins. Default true. False puts the prompt's
   * pre-filled `<think></think>` back before scoring (`reward-requests.ts`), so the pool's own `thinking` stays on
   * (were it off, a request could not switch thinking back on).
   */
  thinking?: boolean | undefined;
  /** Largest body in bytes; default 16 MiB (64 long responses fit). */
  bodyLimit?: number | undefined;
  /** Most items in one request; default 1024. */
  maxItems?: number | undefined;
  /** Most milliseconds to receive a whole request (slower clients get 408); default 30,000. */
  requestTimeoutMs?: number | undefined;
};

/** The extra per-item columns OpenRLHF logs to wandb (lists of floats). */
type ExtraLogs = { timed_out: number[]; correct: number[]; format_ok: number[]; rebuilt: number[] };

type ScoreFn = (items: readonly ScoreInput[]) => Promise<ScoredResult[]>;

/**
 * Requests that arrive in the same event-loop turn are handed to the pool as one batch: one message per worker
 * instead of one per request (OpenRLHF sends one item per request, hundreds in flight). Each item keeps its own
 * deadline in the pool, so coalescing changes throughput, never the time limit of an item.
 * @example
 * const score = coalesceScoring(pool);
 * const [a, b] = await Promise.all([score([itemA]), score([itemB])]); // one pool.score call for both
 */
export function coalesceScoring(pool: RewardPool): ScoreFn {
  let pending: {
    items: readonly ScoreInput[];
    resolve: (r: ScoredResult[]) => void;
    reject: (e: unknown) => void;
  }[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    const all = batch.flatMap((b) => b.items);
    pool.score(all).then(
      (results) => {
        let at = 0;
        for (const b of batch) {
          b.resolve(results.slice(at, at + b.items.length));
          at += b.items.length;
        }
      },
      (e) => {
        for (const b of batch) b.reject(e);
      },
    );
  };
  return (items) =>
    new Promise((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ items, resolve, reject });
    });
}

/**
 * Score a request's items in slices of `slice`, one after another. The pool's queue is first come, first served:
 * a 1,024-item batch of computer-algebra bombs sent whole would hold every worker for 1,024 deadlines while other
 * clients wait; in slices, other requests' items queue between them, so no request waits longer than about
 * `slice / workers` deadlines for one of its items to start.
 */
async function scoreAll(
  score: ScoreFn,
  items: ServerItem[],
  metrics: ServiceMetrics,
  slice: number,
): Promise<ScoredResult[]> {
  const results: ScoredResult[] = [];
  for (let at = 0; at < items.length; at += slice) {
    results.push(...(await score(items.slice(at, at + slice).map((s) => s.item))));
  }
  results.forEach((r, i) => {
    observeItem(metrics, items[i]!.item.domain, r.timedOut, r.stage === "verifier_error");
  });
  return results;
}

function checkCount(n: number, max: number, field: string): void {
  if (n > max) {
    throw new GlmvError("bad_input", `at most ${max} items per request, got ${n}`, { where: field });
  }
}

/**
 * Build the reward server (not listening yet: call `app.listen` or test with `app.inject`).
 * @example
 * const pool = new RewardPool({ deadlineMs: 2000 });
 * const app = createRewardServer({ pool });
 * await app.listen({ host: "127.0.0.1", port: 8000 });
 */
export function createRewardServer(opts: RewardServerOptions): FastifyInstance {
  const metrics = createMetrics("glmv_reward");
  const app = createBaseApp({
    token: opts.token,
    bodyLimit: opts.bodyLimit ?? 16 << 20,
    requestTimeoutMs: opts.requestTimeoutMs,
    metrics,
  });
  const pool = opts.pool;
  const score = coalesceScoring(pool);
  const slice = Math.max(16, 8 * pool.size);
  const mode = opts.specialTokens ?? "kept";
  const style = opts.style ?? "4.1v";
  const thinking = opts.thinking ?? true;
  const maxItems = opts.maxItems ?? 1024;

  app.get("/healthz", async () => ({
    ok: true,
    workers: pool.size,
    deadlineMs: pool.deadlineMs,
    mode,
    thinking,
  }));

  app.get("/metrics", async (_req, reply) =>
    reply.type("text/plain; version=0.0.4").send(renderMetrics(metrics)),
  );

  app.post("/get_reward", async (req) => {
    if (getRewardDialect(req.body) === "slime") {
      const body = parseBody(SlimeRewardBody, req.body);
      assertLabelSize(body.label);
      if (typeof body.label === "string") assertJsonDepth(body.label, MAX_JSON_DEPTH, "label");
      const item = itemOfSlime(body, mode, style, thinking);
      const [result] = await scoreAll(score, [item], metrics, slice);
      return { ...result!, rebuilt: item.rebuilt };
    }
    const body = parseBody(GetRewardBody, req.body);
    checkCount(body.query.length, maxItems, "query");
    // A label string is JSON parsed again later: the body's depth scan cannot see inside strings.
    body.labels.forEach((label, i) => {
      if (typeof label === "string") assertJsonDepth(label, MAX_JSON_DEPTH, `labels.${i}`);
    });
    const items = itemsOfGetReward(body, mode, style, thinking);
    const results = await scoreAll(score, items, metrics, slice);
    const rewards = results.map((r) => r.reward);
    const extra: ExtraLogs = {
      timed_out: results.map((r) => (r.timedOut ? 1 : 0)),
      correct: results.map((r) => (r.correct ? 1 : 0)),
      format_ok: results.map((r) => (r.format === "ok" ? 1 : 0)),
      rebuilt: items.map((s) => (s.rebuilt ? 1 : 0)),
    };
    // Rewards are already in [0, 1], so they double as OpenRLHF's `scores` (dynamic filtering).
    return { rewards, scores: rewards, extra_logs: extra };
  });

  app.post("/v1/score", async (req) => {
    const body = parseBody(ScoreBody, req.body);
    checkCount(body.items.length, maxItems, "items");
    const items = itemsOfScore(
      body.items,
      body.specialTokens ?? mode,
      body.style ?? style,
      body.thinking ?? thinking,
    );
    const results = await scoreAll(score, items, metrics, slice);
    return {
      results: results.map((r, i) => ({ id: items[i]!.item.id, ...r, rebuilt: items[i]!.rebuilt })),
    };
  });
  return app;
}
