/**
 * The runner's generation phase for one task: every item asked once, with at most `concurrency` requests in
 * flight, each under a timeout and retried with backoff (retry.ts); every answer is written to the response cache
 * the moment it arrives, and items already there are not asked again. A request that still fails is recorded with
 * a null response (the task's ≥ 95% success rule is applied when scoring).
 */
import { createHash } from "node:crypto";
import type { ResponseCache } from "./cache.ts";
import { responseKey } from "./cache.ts";
import type { GenerationRequest, GenerationResult, ModelClient } from "./model-client.ts";
import { type RetryPolicy, withRetries } from "./retry.ts";
import type { EvalItem, EvalTask } from "./types.ts";

/** The paper's §6 output budget. */
export const DEFAULT_MAX_TOKENS = 8192;

/** A client may name the settings that change its requests (style, image cap…): they join the cache key. */
export type CachedClient = ModelClient & { readonly settings?: Record<string, unknown> };

export type GenerationOptions = {
  thinking: boolean;
  /** Output budget; a task's own `maxTokens` wins in non-thinking mode (e.g. ChartQA's 16). */
  maxTokens: number;
  temperature: number;
  /** The run's seed; each item's seed is derived from it, the task and the item id. */
  seed: number;
  concurrency: number;
  retry: RetryPolicy;
  cache?: ResponseCache;
  /** Cancels the run: nothing new starts and requests in flight are aborted (what was answered stays cached). */
  signal?: AbortSignal;
  /** After each item settles (answered, cached or failed). */
  onItem?: (done: number, total: number) => void;
  /** Jitter source for the retry backoff (tests pin it). */
  random?: () => number;
};

/** One item's outcome: the response text (null when it failed) and how it came. */
export type ItemResponse = {
  item: EvalItem;
  response: string | null;
  result: GenerationResult | null;
  cached: boolean;
  /** Why the item failed after its retries. */
  error?: string;
};

export type GenerationStats = {
  items: number;
  cached: number;
  failed: number;
  retries: number;
  forced: number;
};

/**
 * A deterministic non-negative 31-bit seed per item from the run seed, task and item id (not its position, so
 * `--limit` and reordering leave each item's seed alone).
 * @example itemSeed(0, "mmmu", "validation_Art_1") // same number on every run
 */
export function itemSeed(seed: number, taskName: string, itemId: string): number {
  const digest = createHash("sha256").update(`${seed}\u0000${taskName}\u0000${itemId}`).digest();
  return digest.readUInt32BE(0) >>> 1; // some servers reject negative or 64-bit seeds
}

/** The output budget of a task's requests. */
export function taskMaxTokens(
  task: Pick<EvalTask, "maxTokens">,
  opts: Pick<GenerationOptions, "thinking" | "maxTokens">,
) {
  return !opts.thinking && task.maxTokens !== undefined ? task.maxTokens : opts.maxTokens;
}

/**
 * Ask `client` every item of `task` (in item order in the result). Throws only when the run is cancelled.
 * @example const { responses, stats } = await generateResponses(client, task, items, opts);
 */
export async function generateResponses(
  client: CachedClient,
  task: Pick<EvalTask, "name" | "maxTokens">,
  items: readonly EvalItem[],
  opts: GenerationOptions,
): Promise<{ responses: ItemResponse[]; stats: GenerationStats }> {
  const maxTokens = taskMaxTokens(task, opts);
  const stats: GenerationStats = { items: items.length, cached: 0, failed: 0, retries: 0, forced: 0 };
  const responses: ItemResponse[] = new Array(items.length);
  const keys: string[] = new Array(items.length);
  const seeds = items.map((item) => itemSeed(opts.seed, task.name, item.id));
  const todo: number[] = [];
  let done = 0;
  const settle = (i: number, r: ItemResponse) => {
    responses[i] = r;
    if (r.result?.forcedAnswer) stats.forced++;
    opts.onItem?.(++done, items.length);
  };
  items.forEach((item, i) => {
    const settings = { thinking: opts.thinking, maxTokens, temperature: opts.temperature, seed: seeds[i]! };
    keys[i] = responseKey(client.id, task.name, item, { ...settings, client: client.settings ?? {} });
    const hit = opts.cache?.getResponse(keys[i]!);
    if (!hit) {
      todo.push(i);
      return;
    }
    stats.cached++;
    settle(i, { item, response: hit.text, result: hit, cached: true });
  });

  const askOne = async (i: number) => {
    const item = items[i]!;
    const request: Omit<GenerationRequest, "signal"> = {
      prompt: item.prompt,
      images: item.images,
      ...(item.video ? { video: item.video } : {}),
      thinking: opts.thinking,
      maxTokens,
      temperature: opts.temperature,
      seed: seeds[i]!,
    };
    try {
      const result = await withRetries((signal) => client.generate({ ...request, signal }), opts.retry, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.random ? { random: opts.random } : {}),
        onRetry: () => void stats.retries++,
      });
      opts.cache?.putResponse(keys[i]!, result);
      settle(i, { item, response: result.text, result, cached: false });
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      stats.failed++;
      settle(i, { item, response: null, result: null, cached: false, error: (e as Error).message });
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      opts.signal?.throwIfAborted();
      await askOne(todo[next++]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, todo.length) }, worker));
  return { responses, stats };
}
