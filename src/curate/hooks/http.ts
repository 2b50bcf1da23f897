/**
 * Where a hook's OpenAI-compatible server is and how hard to try it. The hooks POST through
 * `src/util/http-json.ts`'s `requestJson` (429, 408, 5xx, timeouts and dropped connections retried with backoff;
 * other 4xx thrown at once) with a concurrency limit and the item's AbortSignal: once it aborts, the request in
 * flight is cancelled and no retry follows.
 */
import { z } from "zod";
import { GlmvError } from "../../util/errors.ts";
import type { RetryPolicy } from "../../util/http-json.ts";

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
