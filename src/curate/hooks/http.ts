/**
 * The hooks' one HTTP call: POST JSON to an OpenAI-compatible server with `src/util/http-json.ts`'s retry policy
 * (429, 408, 5xx, timeouts and dropped connections retried with backoff; other 4xx thrown at once), a concurrency
 * limit, and the item's AbortSignal: once it aborts, the request in flight is cancelled and no retry follows.
 */
import { z } from "zod";
import { GlmvError } from "../../util/errors.ts";
import { isRetryableStatus, type Limiter, type RetryPolicy } from "../../util/http-json.ts";

/** Where a hook's server is and how hard to try it; the YAML `hook:` block of the stages that call one. */
export const HookEndpoint = z
  .object({
    /** The API base, e.g. `http://localhost:8000/v1` (the `/embeddings` or `/chat/completions` path is added). */
    url: z.string().url(),
    model: z.string().min(1),
    /** The environment variable holding a bearer token, if the server wants one (never the token itself). */
    apiKeyEnv: z.string().optional(),
    /** Wall-clock limit of one attempt. */
    timeoutMs: z.number().int().positive().default(60_000),
    maxRetries: z.number().int().min(0).default(3),
    /** Requests in flight at once from one process. */
    concurrency: z.number().int().min(1).default(8),
  })
  .strict();
export type HookEndpoint = z.infer<typeof HookEndpoint>;

/** The retry policy of an endpoint: http-json's backoff with the endpoint's timeout and retry count. */
export const retryPolicyOf = (e: HookEndpoint): RetryPolicy => ({
  maxRetries: e.maxRetries,
  backoffMs: 200,
  maxBackoffMs: 10_000,
  timeoutMs: e.timeoutMs,
});

/** Headers for an endpoint (the bearer token read from `apiKeyEnv` when set). */
export function authHeaders(e: HookEndpoint): Record<string, string> {
  if (!e.apiKeyEnv) return {};
  const token = process.env[e.apiKeyEnv];
  if (!token)
    throw new GlmvError("bad_config", `environment variable ${e.apiKeyEnv} is not set`, {
      where: "apiKeyEnv",
    });
  return { authorization: `Bearer ${token}` };
}

export type PostOptions = {
  retry: RetryPolicy;
  headers?: Record<string, string>;
  limiter?: Limiter;
  signal?: AbortSignal;
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    signal?.addEventListener("abort", wake, { once: true });
  });

/**
 * POST `body` as JSON and return the parsed 2xx reply. Throws `engine_error` on a non-retryable status, once the
 * retries are spent, or when `signal` aborts (the message says which).
 * @example
 * const reply = await postJson(`${base}/embeddings`, { model, input }, { retry: retryPolicyOf(endpoint), signal });
 */
export async function postJson(url: string, body: unknown, opts: PostOptions): Promise<unknown> {
  const payload = JSON.stringify(body);
  let lastReason = "";
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new GlmvError("engine_error", `POST ${url} aborted (item time limit)`);
    const once = () => attemptOnce(url, payload, opts);
    const outcome = opts.limiter ? await opts.limiter.run(once) : await once();
    if (outcome.kind === "reply") return outcome.body;
    if (outcome.kind === "fatal") throw new GlmvError("engine_error", `POST ${url} → ${outcome.reason}`);
    lastReason = outcome.reason;
    if (attempt >= opts.retry.maxRetries) break;
    const backoff = Math.min(opts.retry.maxBackoffMs, opts.retry.backoffMs * 2 ** attempt);
    await sleep(outcome.retryAfterMs ?? backoff, opts.signal);
  }
  throw new GlmvError(
    "engine_error",
    `POST ${url} failed after ${opts.retry.maxRetries + 1} attempts: ${lastReason}`,
  );
}

type Outcome =
  | { kind: "reply"; body: unknown }
  | { kind: "retry"; reason: string; retryAfterMs?: number }
  | { kind: "fatal"; reason: string };

async function attemptOnce(url: string, payload: string, opts: PostOptions): Promise<Outcome> {
  const timeout = AbortSignal.timeout(opts.retry.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...opts.headers },
      body: payload,
      signal,
    });
    const text = await res.text();
    if (res.ok) {
      try {
        return { kind: "reply", body: text ? JSON.parse(text) : null };
      } catch {
        return { kind: "fatal", reason: `reply is not JSON: ${text.slice(0, 200)}` };
      }
    }
    const reason = `HTTP ${res.status}: ${text.slice(0, 300)}`;
    if (!isRetryableStatus(res.status)) return { kind: "fatal", reason };
    const retryAfter = Number(res.headers.get("retry-after"));
    return res.headers.has("retry-after") && Number.isFinite(retryAfter)
      ? { kind: "retry", reason, retryAfterMs: Math.min(opts.retry.maxBackoffMs, retryAfter * 1000) }
      : { kind: "retry", reason };
  } catch (e) {
    if (opts.signal?.aborted) return { kind: "fatal", reason: "aborted (item time limit)" };
    const reason = timeout.aborted
      ? `timed out after ${opts.retry.timeoutMs} ms`
      : `network: ${(e as Error).message}`;
    return { kind: "retry", reason };
  }
}
