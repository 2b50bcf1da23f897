import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { isGlmvError } from "../../../util/errors.ts";
import type { PolicyPrompt, RolloutParams } from "../../loop/policy.ts";
import { mixSeed, OpenAIRolloutEngine, rolloutOnlyPolicy } from "./openai-engine.ts";

// A fake GLM-V chat server speaking the OpenAI protocol with vLLM's extras. Its "tokenizer" maps the special tags
// below to single ids and every other character to its char code; a response is `<think>` + `a`×thinkLen +
// `</think><answer>42</answer>`, cut at max_tokens. A continuation request answers `7</answer>` (or `\n7`).
const SPECIAL: Record<string, number> = {
  "<think>": 1000,
  "</think>": 1001,
  "<answer>": 1002,
  "</answer>": 1003,
};
const ROLE: Record<string, number> = { system: 2000, user: 2001, assistant: 2002, tool: 2003 };
const IMAGE_ID = 3000;

function tokenize(text: string): number[] {
  const ids: number[] = [];
  for (let i = 0; i < text.length; ) {
    const tag = Object.keys(SPECIAL).find((t) => text.startsWith(t, i));
    if (tag) {
      ids.push(SPECIAL[tag]!);
      i += tag.length;
    } else ids.push(text.charCodeAt(i++));
  }
  return ids;
}
const detokenize = (ids: number[]) =>
  ids.map((id) => Object.keys(SPECIAL).find((t) => SPECIAL[t] === id) ?? String.fromCharCode(id)).join("");

type Msg = { role: string; content: string | { type: string; text?: string; image_url?: { url: string } }[] };
type Body = Record<string, unknown> & { messages: Msg[]; n: number; max_tokens: number; seed: number };

function renderPrompt(messages: Msg[], addGenerationPrompt: boolean): number[] {
  const ids: number[] = [];
  for (const m of messages) {
    ids.push(ROLE[m.role]!);
    const parts = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    for (const p of parts) ids.push(...(p.type === "text" ? tokenize(p.text ?? "") : [IMAGE_ID]));
  }
  if (addGenerationPrompt) ids.push(ROLE.assistant!);
  return ids;
}

type FakeOptions = { thinkLen: number; reasoning: "separate" | "inline"; extras: boolean };

function fakeCompletion(body: Body, opts: FakeOptions) {
  const continuing = body.continue_final_message === true;
  const promptIds = renderPrompt(body.messages, body.add_generation_prompt !== false);
  const full = continuing
    ? tokenize(String(body.messages.at(-1)?.content).endsWith("<answer>") ? "7</answer>" : "\n7")
    : tokenize(`<think>${"a".repeat(opts.thinkLen)}</think><answer>42</answer>`);
  const choices = Array.from({ length: body.n }, (_, j) => {
    const ids = full.slice(0, body.max_tokens);
    const finish = ids.length < full.length ? "length" : "stop";
    const text = detokenize(ids);
    let message: Record<string, string | null> = { role: "assistant", content: text };
    if (opts.reasoning === "separate") {
      // glm45 parser: everything before `</think>` is reasoning (tags dropped); without `</think>` all of it is.
      const end = text.indexOf("</think>");
      const reasoning = (end >= 0 ? text.slice(0, end) : text).replace("<think>", "");
      message = {
        role: "assistant",
        reasoning_content: reasoning,
        content: end >= 0 ? text.slice(end + 8) : null,
      };
    }
    const logprobs = {
      content: ids.map((id, i) => ({ token: String(id), logprob: -0.01 * (i + 1) - 0.001 * j })),
    };
    return { index: j, message, finish_reason: finish, logprobs, ...(opts.extras ? { token_ids: ids } : {}) };
  });
  return {
    id: "cmpl-1",
    object: "chat.completion",
    choices,
    usage: { prompt_tokens: promptIds.length },
    ...(opts.extras ? { prompt_token_ids: promptIds } : {}),
  };
}

type Reply = { status?: number; json?: unknown; delayMs?: number; headers?: Record<string, string> };
type Seen = { body: Body; at: number };

const servers: { close: () => void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function startServer(handle: (body: Body, index: number) => Reply) {
  const seen: Seen[] = [];
  let inFlight = 0;
  let peak = 0;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Body;
    const index = seen.length;
    seen.push({ body, at: Date.now() });
    inFlight++;
    peak = Math.max(peak, inFlight);
    const reply = handle(body, index);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    inFlight--;
    if (res.destroyed) return;
    res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
    res.end(JSON.stringify(reply.json ?? { error: { message: "fake error" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push({ close: () => server.close() });
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v1`, seen, peak: () => peak };
}

const IMAGE = { data: new Uint8Array(4 * 4 * 3).fill(200), width: 4, height: 4, channels: 3 };
const prompt = (id: string): PolicyPrompt => ({
  id,
  images: [IMAGE],
  messages: [{ role: "user", content: [{ type: "image" }, { type: "text", text: "How many?" }] }],
});
const PARAMS: RolloutParams = {
  n: 3,
  temperature: 1,
  topP: 1,
  maxNewTokens: 64,
  thinkBudget: 64,
  style: "4.1v",
  seed: 5,
};
const FULL_TEXT = `<think>${"a".repeat(6)}</think><answer>42</answer>`;

describe("OpenAIRolloutEngine: requests and replies", () => {
  it("sends images as data URLs, n, seed, thinking switch; reads n samples with ids and logprobs", async () => {
    const opts: FakeOptions = { thinkLen: 6, reasoning: "inline", extras: true };
    const srv = await startServer((b) => ({ json: fakeCompletion(b, opts) }));
    const engine = new OpenAIRolloutEngine({ baseUrl: srv.baseUrl, model: "glm", enableThinking: false });
    const [group] = await engine.generate([prompt("p0")], PARAMS);
    const body = srv.seen[0]!.body;
    const parts = body.messages[0]!.content as { type: string; image_url?: { url: string } }[];
    expect(parts[0]!.type).toBe("image_url");
    const png = Buffer.from(parts[0]!.image_url!.url.replace("data:image/png;base64,", ""), "base64");
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
    expect(body).toMatchObject({
      n: 3,
      max_tokens: 64,
      seed: mixSeed(5, 0, 0),
      logprobs: true,
      return_token_ids: true,
    });
    expect(body.chat_template_kwargs).toEqual({ enable_thinking: false });
    expect(group).toHaveLength(3);
    const r = group![1]!;
    expect(r.text).toBe(FULL_TEXT);
    expect(r.tokens).toEqual(tokenize(FULL_TEXT));
    expect(r.logprobs[0]).toBeCloseTo(-0.011);
    expect(r.injected.every((x) => !x)).toBe(true);
    expect(r).toMatchObject({ promptId: "p0", finished: true, promptTokens: 1 + 1 + "How many?".length + 1 });
  });

  it("puts separately returned reasoning back between think tags", async () => {
    const opts: FakeOptions = { thinkLen: 6, reasoning: "separate", extras: true };
    const srv = await startServer((b) => ({ json: fakeCompletion(b, opts) }));
    const engine = new OpenAIRolloutEngine({ baseUrl: srv.baseUrl, model: "glm" });
    const [group] = await engine.generate([prompt("p0")], { ...PARAMS, n: 2 });
    expect(group!.map((r) => r.text)).toEqual([FULL_TEXT, FULL_TEXT]);
    expect(srv.seen[0]!.body.chat_template_kwargs).toBeUndefined();
  });

  it("keeps the text but no token arrays when the server returns no ids", async () => {
    const opts: FakeOptions = { thinkLen: 6, reasoning: "inline", extras: false };
    const srv = await startServer((b) => ({ json: fakeCompletion(b, opts) }));
    const engine = new OpenAIRolloutEngine({ baseUrl: srv.baseUrl, model: "glm", serverExtras: false });
    const [group] = await engine.generate([prompt("p0")], { ...PARAMS, n: 1 });
    expect(srv.seen[0]!.body.return_token_ids).toBeUndefined();
    expect(group![0]).toMatchObject({ text: FULL_TEXT, tokens: [], logprobs: [], injected: [] });
  });
});

describe("OpenAIRolloutEngine: force-answering by continuation", () => {
  for (const reasoning of ["inline", "separate"] as const) {
    it(`injects </think><answer> after the think budget and continues (${reasoning} reasoning)`, async () => {
      const opts: FakeOptions = { thinkLen: 30, reasoning, extras: true };
      const srv = await startServer((b) => ({ json: fakeCompletion(b, opts) }));
      const engine = new OpenAIRolloutEngine({ baseUrl: srv.baseUrl, model: "glm" });
      const [group] = await engine.generate([prompt("p0")], {
        ...PARAMS,
        n: 2,
        thinkBudget: 8,
        maxNewTokens: 20,
      });
      expect(srv.seen).toHaveLength(3); // one first request (n = 2), one continuation per sample
      expect(srv.seen[0]!.body.max_tokens).toBe(8);
      const cont = srv.seen[1]!.body;
      expect(cont).toMatchObject({
        n: 1,
        max_tokens: 10,
        continue_final_message: true,
        add_generation_prompt: false,
      });
      const head = `<think>${"a".repeat(7)}`;
      expect(cont.messages.at(-1)).toEqual({ role: "assistant", content: `${head}</think><answer>` });
      const r = group![0]!;
      expect(r.text).toBe(`${head}</think><answer>7</answer>`);
      expect(r.tokens).toEqual([...tokenize(head), 1001, 1002, ...tokenize("7</answer>")]);
      expect(r.injected).toEqual([...Array(8).fill(false), true, true, false, false]);
      expect(r.logprobs.slice(8, 10)).toEqual([0, 0]);
      expect(r.logprobs[10]).toBeCloseTo(-0.01);
      expect(r.finished).toBe(true);
      expect(engine.stats.continuations).toBe(2);
    });
  }

  it("uses configured ids for the injected tokens when prompt ids are not returned; 4.5V injects </think> only", async () => {
    const opts: FakeOptions = { thinkLen: 30, reasoning: "inline", extras: true };
    const srv = await startServer((b) => {
      const json = fakeCompletion(b, opts) as Record<string, unknown>;
      delete json.prompt_token_ids;
      return { json };
    });
    const engine = new OpenAIRolloutEngine({
      baseUrl: srv.baseUrl,
      model: "glm",
      injectedTokenIds: { thinkEnd: 1001, answerStart: 1002 },
    });
    const [group] = await engine.generate([prompt("p0")], {
      ...PARAMS,
      n: 1,
      thinkBudget: 4,
      maxNewTokens: 12,
      style: "4.5v",
    });
    expect(srv.seen[1]!.body.messages.at(-1)!.content).toBe("<think>aaa</think>");
    expect(group![0]!.text).toBe("<think>aaa</think>\n7");
    expect(group![0]!.tokens).toEqual([...tokenize("<think>aaa"), 1001, 10, 55]);
  });

  it("does not continue a sample that stopped within the budget", async () => {
    const opts: FakeOptions = { thinkLen: 2, reasoning: "inline", extras: true };
    const srv = await startServer((b) => ({ json: fakeCompletion(b, opts) }));
    const engine = new OpenAIRolloutEngine({ baseUrl: srv.baseUrl, model: "glm" });
    await engine.generate([prompt("p0")], { ...PARAMS, thinkBudget: 40, maxNewTokens: 60 });
    expect(srv.seen).toHaveLength(1);
  });
});

describe("OpenAIRolloutEngine: retries, timeouts, concurrency", () => {
  const ok = (b: Body) => ({ json: fakeCompletion(b, { thinkLen: 2, reasoning: "inline", extras: true }) });

  it("retries 429 and 500 with exponential backoff, then succeeds", async () => {
    const srv = await startServer((b, i) => (i === 0 ? { status: 429 } : i === 1 ? { status: 500 } : ok(b)));
    const engine = new OpenAIRolloutEngine({
      baseUrl: srv.baseUrl,
      model: "glm",
      backoffMs: 60,
      maxRetries: 3,
    });
    const [group] = await engine.generate([prompt("p0")], PARAMS);
    expect(group).toHaveLength(3);
    expect(engine.stats.retries).toBe(2);
    const [a, b, c] = srv.seen.map((s) => s.at);
    expect(b! - a!).toBeGreaterThanOrEqual(55); // 60 ms, then 120 ms (timer slack of a few ms allowed)
    expect(c! - b!).toBeGreaterThanOrEqual(115);
  });

  it("honours Retry-After up to the backoff cap", async () => {
    const srv = await startServer((b, i) =>
      i === 0 ? { status: 429, headers: { "retry-after": "5" } } : ok(b),
    );
    const engine = new OpenAIRolloutEngine({
      baseUrl: srv.baseUrl,
      model: "glm",
      backoffMs: 1,
      maxBackoffMs: 150,
    });
    await engine.generate([prompt("p0")], PARAMS);
    expect(srv.seen[1]!.at - srv.seen[0]!.at).toBeGreaterThanOrEqual(145);
  });

  it("times out a slow reply and retries it", async () => {
    const srv = await startServer((b, i) => (i === 0 ? { ...ok(b), delayMs: 600 } : ok(b)));
    const engine = new OpenAIRolloutEngine({
      baseUrl: srv.baseUrl,
      model: "glm",
      timeoutMs: 150,
      backoffMs: 10,
    });
    const [group] = await engine.generate([prompt("p0")], PARAMS);
    expect(group).toHaveLength(3);
    expect(engine.stats.retries).toBe(1);
    expect(srv.seen).toHaveLength(2);
  });

  it("gives up with engine_error after the retries, and never retries a 400", async () => {
    const down = await startServer(() => ({ status: 503 }));
    const e1 = new OpenAIRolloutEngine({ baseUrl: down.baseUrl, model: "glm", backoffMs: 5, maxRetries: 2 });
    const err = await e1.generate([prompt("p0")], PARAMS).catch((e: unknown) => e);
    expect(isGlmvError(err) && err.code === "engine_error").toBe(true);
    expect(down.seen).toHaveLength(3);
    const bad = await startServer(() => ({ status: 400 }));
    const e2 = new OpenAIRolloutEngine({ baseUrl: bad.baseUrl, model: "glm", backoffMs: 5 });
    await expect(e2.generate([prompt("p0")], PARAMS)).rejects.toThrow(/HTTP 400/);
    expect(bad.seen).toHaveLength(1);
  });

  it("never has more requests in flight than the concurrency limit", async () => {
    const srv = await startServer((b) => ({ ...ok(b), delayMs: 40 }));
    const engine = new OpenAIRolloutEngine({ baseUrl: srv.baseUrl, model: "glm", concurrency: 2 });
    const groups = await engine.generate(["a", "b", "c", "d", "e", "f"].map(prompt), PARAMS);
    expect(groups.map((g) => g[0]!.promptId)).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(srv.peak()).toBe(2);
    expect(engine.peakConcurrency).toBe(2);
  });
});

describe("rolloutOnlyPolicy", () => {
  it("generates through the engine and refuses to update with a typed error", async () => {
    const srv = await startServer((b) => ({
      json: fakeCompletion(b, { thinkLen: 2, reasoning: "inline", extras: true }),
    }));
    const policy = rolloutOnlyPolicy(new OpenAIRolloutEngine({ baseUrl: srv.baseUrl, model: "glm" }));
    expect(await policy.generate([prompt("p0")], PARAMS)).toHaveLength(1);
    const err = await policy
      .update(
        { samples: [], microBatches: [] },
        { lr: 1e-3, passes: 1, clipLow: 0.2, clipHigh: 0.28, aggregation: "token" },
      )
      .catch((e: unknown) => e);
    expect(isGlmvError(err) && err.code === "engine_error").toBe(true);
  });
});
