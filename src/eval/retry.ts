/**
 * How the runner retries one generation: a per-attempt timeout, and exponential backoff with full jitter on rate
 * limits (429), request timeouts (408), server errors (5xx), dropped connections and attempts that ran past the
 * timeout. Any other failure (a 4xx, an unreadable image) is the request's own fault and is never retried.
 */
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";

export const RetryPolicy = z.object({
  /** Retries after the first attempt. */
  maxRetries: z.number().int().min(0).default(4),
  /** Retry k (0-based) waits a uniform draw in [0, min(maxBackoffMs, backoffMs · 2^k)] (full jitter). */
  backoffMs: z.number().min(0).default(1000),
  maxBackoffMs: z.number().min(0).default(30_000),
  /** Wall-clock limit of one attempt; long thinking on big models takes minutes. */
  timeoutMs: z.number().positive().default(900_000),
});
export type RetryPolicy = z.output<typeof RetryPolicy>;

/**
 * A failed model request, with whether trying again may help. Clients throw it for HTTP failures (`status` set)
 * and dropped connections (`status` undefined, retryable).
 * @example throw new ModelRequestError("HTTP 503: overloaded", { status: 503 });
 */
export class ModelRequestError extends GlmvError {
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(
    message: string,
    opts: { status?: number; retryable?: boolean; where?: string; cause?: unknown },
  ) {
    super("engine_error", message, { where: opts.where, cause: opts.cause });
    this.status = opts.status;
    this.retryable = opts.retryable ?? (opts.status === undefined || isRetryableStatus(opts.status));
  }
}

/** Rate limits, request timeouts and server errors are worth another try; other statuses are not. */
export const isRetryableStatus = (status: number): boolean =>
  status === 429 || status === 408 || status >= 500;

/** Whether `e` (thrown by an attempt that the run did not cancel) is worth another try. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof ModelRequestError) return e.retryable;
  if (e instanceof GlmvError) return false;
  // fetch reports refused/reset connections as a TypeError ("fetch failed") with the socket error as its cause
  return e instanceof TypeError && /fetch failed|socket|network/i.test(e.message);
}

/** Thrown by an attempt cut by the per-attempt timeout (retryable). */
export class AttemptTimeout extends ModelRequestError {
  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`, { retryable: true });
  }
}

export type RetryHooks = {
  /** Cancels the whole run: no further attempt starts, and a running one is aborted. */
  signal?: AbortSignal;
  /** Called before each retry with its number (1-based), delay and the failure. */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  /** Source of jitter in [0, 1) (tests pin it). */
  random?: () => number;
};

/**
 * Run `attempt` until it succeeds, fails for good, or the retries are spent (then the last error is thrown).
 * Each attempt gets a signal that fires at the timeout or when the run is cancelled.
 * @example const result = await withRetries((signal) => client.generate({ ...request, signal }), policy);
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks = {},
): Promise<T> {
  const random = hooks.random ?? Math.random;
  for (let k = 0; ; k++) {
    hooks.signal?.throwIfAborted();
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(new AttemptTimeout(policy.timeoutMs)), policy.timeoutMs);
    const signal = hooks.signal ? AbortSignal.any([hooks.signal, timer.signal]) : timer.signal;
    try {
      return await attempt(signal);
    } catch (e) {
      if (hooks.signal?.aborted) throw hooks.signal.reason;
      const error = timer.signal.aborted ? timer.signal.reason : e;
      if (k >= policy.maxRetries || !isRetryable(error)) throw error;
      const delay = random() * Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** k);
      hooks.onRetry?.(k + 1, delay, error);
      await sleep(delay, hooks.signal);
    } finally {
      clearTimeout(timeout);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
