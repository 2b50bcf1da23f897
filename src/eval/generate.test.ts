import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ResponseCache } from "./cache.ts";
import {
  completion,
  type FakeHandler,
  type FakeServer,
  startFakeOpenAI,
  userTextOf,
} from "./fake-openai.fixture.ts";
import { type GenerationOptions, generateResponses, itemSeed } from "./generate.ts";
import { OpenAIModelClient } from "./models/openai.ts";
import { RetryPolicy } from "./retry.ts";
import type { EvalItem } from "./types.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: FakeHandler): Promise<OpenAIModelClient> {
  server = await startFakeOpenAI(handler);
  return new OpenAIModelClient({ baseUrl: server.url, model: "m" });
}

const items = (n: number): EvalItem[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `q${i}`,
    prompt: `question ${i}`,
    images: [],
    gold: "A",
    fields: {},
  }));

const task = { name: "toy" };
const fast = RetryPolicy.parse({ maxRetries: 3, backoffMs: 1, maxBackoffMs: 5, timeoutMs: 5_000 });
const opts = (over: Partial<GenerationOptions> = {}): GenerationOptions => ({
  thinking: true,
  maxTokens: 64,
  temperature: 0,
  seed: 1,
  concurrency: 4,
  retry: fast,
  ...over,
});

describe("generateResponses", () => {
  it("answers every item in item order, each with its own derived seed", async () => {
    const client = await serve((body) => ({ json: completion(`answer to ${userTextOf(body)}`) }));
    const { responses, stats } = await generateResponses(client, task, items(5), opts());
    expect(responses.map((r) => r.response)).toEqual([0, 1, 2, 3, 4].map((i) => `answer to question ${i}`));
    expect(stats).toEqual({ items: 5, cached: 0, failed: 0, retries: 0, forced: 0 });
    const seeds = server!.bodies.map((b) => [userTextOf(b), b.seed]);
    expect(new Map(seeds as [string, number][]).get("question 3")).toBe(itemSeed(1, "toy", "q3"));
    expect(new Set(seeds.map(([, s]) => s)).size).toBe(5);
  });

  it("never has more than `concurrency` requests in flight", async () => {
    const client = await serve(() => ({ json: completion("x"), delayMs: 20 }));
    await generateResponses(client, task, items(12), opts({ concurrency: 3 }));
    expect(server!.bodies).toHaveLength(12);
    expect(server!.maxInFlight).toBe(3);
  });

  it("retries a 500 and then succeeds", async () => {
    const client = await serve((_b, n) =>
      n < 2 ? { status: 500, json: { error: "boom" } } : { json: completion("ok") },
    );
    const { responses, stats } = await generateResponses(client, task, items(1), opts());
    expect(responses[0]!.response).toBe("ok");
    expect(server!.bodies).toHaveLength(3);
    expect(stats.retries).toBe(2);
  });

  it("does not retry a 4xx: the item fails with a null response and the run goes on", async () => {
    const client = await serve((body) =>
      userTextOf(body) === "question 1"
        ? { status: 400, json: { error: "bad image" } }
        : { json: completion("ok") },
    );
    const { responses, stats } = await generateResponses(client, task, items(3), opts());
    expect(responses.map((r) => r.response)).toEqual(["ok", null, "ok"]);
    expect(responses[1]!.error).toMatch(/HTTP 400/);
    expect(server!.bodies.filter((b) => userTextOf(b) === "question 1")).toHaveLength(1);
    expect(stats).toMatchObject({ failed: 1, retries: 0 });
  });

  it("gives up after the retries are spent (429 every time)", async () => {
    const client = await serve(() => ({ status: 429, json: {} }));
    const { responses } = await generateResponses(client, task, items(1), opts());
    expect(responses[0]!.response).toBeNull();
    expect(server!.bodies).toHaveLength(4);
  });

  it("an attempt past the timeout is aborted and retried", async () => {
    const client = await serve((_b, n) =>
      n === 0 ? { json: completion("late"), delayMs: 2_000 } : { json: completion("ok") },
    );
    const retry = { ...fast, timeoutMs: 100 };
    const { responses, stats } = await generateResponses(client, task, items(1), opts({ retry }));
    expect(responses[0]!.response).toBe("ok");
    expect(stats.retries).toBe(1);
  });

  it("a run killed midway resumes from the cache: the server never sees a request twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-cache-"));
    const client = await serve((body) => ({ json: completion(`answer to ${userTextOf(body)}`) }));
    const abort = new AbortController();
    const first = ResponseCache.open(dir);
    const killAfter3 = (done: number) => void (done === 3 && abort.abort(new Error("killed")));
    const killed = generateResponses(
      client,
      task,
      items(10),
      opts({ concurrency: 1, cache: first, signal: abort.signal, onItem: killAfter3 }),
    );
    await expect(killed).rejects.toThrow("killed");
    first.close();
    const askedBefore = server!.bodies.length;
    expect(askedBefore).toBe(3);

    const second = ResponseCache.open(dir);
    const { responses, stats } = await generateResponses(client, task, items(10), opts({ cache: second }));
    second.close();
    const asked = server!.bodies.map(userTextOf);
    expect(asked).toHaveLength(10);
    expect(new Set(asked).size).toBe(10);
    expect(stats.cached).toBe(askedBefore);
    expect(responses.map((r) => r.response)).toEqual(items(10).map((it) => `answer to ${it.prompt}`));
  });

  it("another model, thinking mode or seed is asked again; the same settings are not", async () => {
    const client = await serve(() => ({ json: completion("x") }));
    const cache = ResponseCache.open(":memory:");
    await generateResponses(client, task, items(2), opts({ cache }));
    await generateResponses(client, task, items(2), opts({ cache }));
    expect(server!.bodies).toHaveLength(2);
    await generateResponses(client, task, items(2), opts({ cache, thinking: false }));
    await generateResponses(client, task, items(2), opts({ cache, seed: 2 }));
    const other = new OpenAIModelClient({ baseUrl: server!.url, model: "other" });
    await generateResponses(other, task, items(2), opts({ cache }));
    expect(server!.bodies).toHaveLength(8);
    const edited = items(2).map((it) => ({ ...it, gold: "B" }));
    await generateResponses(client, task, edited, opts({ cache }));
    expect(server!.bodies).toHaveLength(10);
    cache.close();
  });

  it("a task's own max tokens apply in non-thinking mode only", async () => {
    const client = await serve(() => ({ json: completion("x") }));
    await generateResponses(client, { name: "chartqa", maxTokens: 16 }, items(1), opts({ thinking: false }));
    await generateResponses(client, { name: "chartqa", maxTokens: 16 }, items(1), opts({ thinking: true }));
    expect(server!.bodies.map((b) => b.max_tokens)).toEqual([16, 64]);
  });
});
