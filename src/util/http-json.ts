/**
 * JSON over HTTP for engine adapters (OpenAI-compatible servers, the Tinker API), and the reply shape the trainer
 * server answers with: a concurrency limit, a per-attempt timeout, and retries with exponential backoff on 429, 408,
 * 5xx, timeouts and dropped connections. Other 4xx replies are the caller's fault and are never retried. A caller's
 * AbortSignal cancels the attempt in flight and the wait before the next one.
 */
import { GlmvError } from "./errors.ts";

/** How hard to try one request. */
export type RetryPolicy = {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Delay before retry k (0-based) is `backoffMs · 2^k`, capped at `maxBackoffMs`; `Retry-After` wins if given. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Wall-clock limit of one attempt. */
  timeoutMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 4,
  backoffMs: 500,
  maxBackoffMs: 20_000,
  timeoutMs: 600_000,
};

/**
 * At most `max` tasks at once; the rest wait in arrival order. `peak` records the most ever running together.
 * @example
 * const limit = new Limiter(2); await Promise.all(urls.map((u) => limit.run(() => fetch(u))));
 */
export class Limiter {
  readonly max: number;
  active = 0;
  peak = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(max: number) {
    if (!(Number.isInteger(max) && max >= 1))
      throw new GlmvError("bad_config", `concurrency must be ≥ 1, got ${max}`);
    this.max = max;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Options of one JSON request. */
export type JsonRequest = {
  method: "GET" | "POST";
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  retry: RetryPolicy;
  limiter?: Limiter;
  /** Statuses handed back to the caller as replies instead of being retried or thrown (Tinker's 408 re-poll). */
  passStatuses?: readonly number[];
  /** Called before each retry with its number (1-based), delay and reason: for counters and logs. */
  onRetry?: (attempt: number, delayMs: number, reason: string) => void;
  /** Once it aborts, the attempt in flight is cancelled, no retry follows, and the request throws `engine_error`. */
  signal?: AbortSignal;
};

export type JsonReply = { status: number; body: unknown };

/** Wait `ms`, or less if `signal` aborts first (not at all if it already has). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** The error of a request whose caller's signal aborted, naming the abort's reason (the runner's "item time limit"). */
function abortedError(req: JsonRequest): GlmvError {
  const reason = req.signal?.reason;
  const why = reason instanceof Error ? reason.message : String(reason ?? "aborted");
  return new GlmvError("engine_error", `${req.method} ${req.url} aborted (${why})`);
}

/** Whether a status is worth another try: rate limits, request timeouts and server errors. */
export const isRetryableStatus = (status: number): boolean =>
  status === 429 || status === 408 || status >= 500;

/**
 * Send one JSON request with retries. Resolves to the parsed reply of a 2xx (or a `passStatuses`) answer; throws
 * `engine_error` on a non-retryable status, once the retries are spent, or when `req.signal` aborts.
 * @example
 * const { body } = await requestJson({ method: "POST", url: `${base}/chat/completions`, body: req, retry: DEFAULT_RETRY });
 */
export async function requestJson(req: JsonRequest): Promise<JsonReply> {
  let lastReason = "";
  for (let attempt = 0; ; attempt++) {
    if (req.signal?.aborted) throw abortedError(req);
    const run = () => attemptOnce(req);
    const outcome = req.limiter ? await req.limiter.run(run) : await run();
    if (outcome.kind === "reply") return outcome.reply;
    if (outcome.kind === "fatal") throw outcome.error;
    lastReason = outcome.reason;
    if (attempt >= req.retry.maxRetries) break;
    const backoff = Math.min(req.retry.maxBackoffMs, req.retry.backoffMs * 2 ** attempt);
    const delay =
      outcome.retryAfterMs !== undefined ? Math.min(req.retry.maxBackoffMs, outcome.retryAfterMs) : backoff;
    req.onRetry?.(attempt + 1, delay, outcome.reason);
    await sleep(delay, req.signal);
  }
  throw new GlmvError(
    "engine_error",
    `${req.method} ${req.url} failed after ${req.retry.maxRetries + 1} attempts: ${lastReason}`,
  );
}

type Outcome =
  | { kind: "reply"; reply: JsonReply }
  | { kind: "retry"; reason: string; retryAfterMs?: number }
  | { kind: "fatal"; error: GlmvError };

async function attemptOnce(req: JsonRequest): Promise<Outcome> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), req.retry.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, abort.signal]) : abort.signal;
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: { "content-type": "application/json", accept: "application/json", ...req.headers },
      ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
      signal,
    });
    const text = await res.text();
    if (res.ok || req.passStatuses?.includes(res.status)) {
      return { kind: "reply", reply: { status: res.status, body: parseBody(text, req.url) } };
    }
    const reason = `HTTP ${res.status}: ${text.slice(0, 300)}`;
    if (!isRetryableStatus(res.status)) {
      return { kind: "fatal", error: new GlmvError("engine_error", `${req.method} ${req.url} → ${reason}`) };
    }
    const retryAfter = Number(res.headers.get("retry-after"));
    return {
      kind: "retry",
      reason,
      ...(res.headers.has("retry-after") && Number.isFinite(retryAfter)
        ? { retryAfterMs: retryAfter * 1000 }
        : {}),
    };
  } catch (e) {
    if (e instanceof GlmvError) return { kind: "fatal", error: e };
    if (req.signal?.aborted) return { kind: "fatal", error: abortedError(req) };
    // Otherwise an abort is our timeout; anything else is the connection (refused, reset, closed mid-reply).
    const reason = abort.signal.aborted
      ? `timed out after ${req.retry.timeoutMs} ms`
      : `network: ${(e as Error).message}`;
    return { kind: "retry", reason };
  } finally {
    clearTimeout(timer);
  }
}

function parseBody(text: string, url: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GlmvError("engine_error", `reply is not JSON: ${text.slice(0, 200)}`, { where: url, cause: e });
  }
}
