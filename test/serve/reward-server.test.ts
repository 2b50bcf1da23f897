import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RewardPool } from "../../src/reward/pool.ts";
import { createRewardServer } from "../../src/serve/reward-server.ts";

const FIXTURE = new URL("../../src/reward/pool.fixture.ts", import.meta.url);
const box = (a: string) => `<|begin_of_box|>${a}<|end_of_box|>`;
const PROMPT = "[gMASK]<sop><|user|>How many apples?<|assistant|>";
const label = (domain: string, answer: string) => JSON.stringify({ domain, answer });

let pool: RewardPool;
let app: ReturnType<typeof createRewardServer>;

beforeAll(async () => {
  pool = new RewardPool({ workers: 2, deadlineMs: 1500, extraVerifiersModule: FIXTURE });
  app = createRewardServer({ pool });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await pool.close();
});

const post = (url: string, payload: unknown) =>
  app.inject({ method: "POST", url, payload: payload as object });

describe("POST /get_reward (OpenRLHF)", () => {
  it("cuts the response from the query by the prompt prefix and scores it", async () => {
    const right = `${PROMPT}<think>one two three</think><answer>${box("3")}</answer><|user|>`;
    const wrong = `${PROMPT}<think>one two</think><answer>${box("2")}</answer><|endoftext|>`;
    const res = await post("/get_reward", {
      query: [right, wrong],
      prompts: [PROMPT, PROMPT],
      labels: [label("counting", "3"), label("counting", "3")],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.rewards).toEqual([1, 0]);
    expect(body.scores).toEqual([1, 0]);
    expect(body.extra_logs.correct).toEqual([1, 0]);
    expect(body.extra_logs.timed_out).toEqual([0, 0]);
  });

  it("splits at the last assistant tag when the prompt is not a prefix; labels may be objects", async () => {
    const q = `<|user|>q<|assistant|><think>x</think><answer>${box("3")}</answer>`;
    const res = await post("/get_reward", {
      query: [q],
      prompts: ["something else"],
      labels: [{ domain: "counting", answer: "3" }],
    });
    expect(res.json().rewards).toEqual([1]);
  });

  it("keeps the format gate: a response without think tags scores 0 in kept mode", async () => {
    const res = await post("/get_reward", {
      query: [`${PROMPT}${box("3")}`],
      prompts: [PROMPT],
      labels: [label("counting", "3")],
    });
    expect(res.json().rewards).toEqual([0]);
    expect(res.json().extra_logs.format_ok).toEqual([0]);
  });

  it("gives reward 0 and timed_out on a verification that hangs, and stays responsive", async () => {
    const res = await post("/get_reward", {
      query: [`${PROMPT}<think>t</think><answer>${box("a")}</answer>`],
      labels: [label("text", "__hang__")],
    });
    expect(res.json()).toMatchObject({ rewards: [0], extra_logs: { timed_out: [1] } });
    const health = await app.inject({ method: "GET", url: "/healthz" });
    expect(health.statusCode).toBe(200);
  });

  it("answers 400 naming the field for bad labels and mismatched lengths", async () => {
    const notJson = await post("/get_reward", { query: ["x"], labels: ["math:4"] });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.field).toBe("labels.0");
    const badDomain = await post("/get_reward", { query: ["x"], labels: [label("astrology", "4")] });
    expect(badDomain.json().error.field).toBe("labels.0.domain");
    const short = await post("/get_reward", { query: ["x", "y"], labels: [label("math", "4")] });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.field).toBe("labels");
    const wrongType = await post("/get_reward", { query: "x", labels: [] });
    expect(wrongType.json().error.field).toBe("query");
  });
});

describe("POST /v1/score (glmv batches)", () => {
  it("scores items with the reward-score fields and returns them in order with ids", async () => {
    const res = await post("/v1/score", {
      items: [
        { id: "a", domain: "math", answer: "4", response: `<think>2+2</think><answer>${box("4")}</answer>` },
        { id: "b", domain: "math", answer: "4", response: `<think>2+2</think>${box("4")}`, style: "4.5v" },
        {
          id: "c",
          domain: "math",
          answer: "4",
          response: `<think>2+2</think><answer>${box("3 or 4")}</answer>`,
        },
      ],
    });
    expect(res.statusCode).toBe(200);
    const results = res.json().results as { id: string; reward: number; stage: string }[];
    expect(results.map((r) => [r.id, r.reward])).toEqual([
      ["a", 1],
      ["b", 1],
      ["c", 0],
    ]);
  });

  it("stripped mode rebuilds tagless text: last line is the answer, hedges still fail", async () => {
    const items = [
      { id: 1, domain: "counting", answer: "3", response: "I count one, two, three.\n3" },
      { id: 2, domain: "counting", answer: "3", response: "Counting carefully.\n\\boxed{3}" },
      { id: 3, domain: "counting", answer: "3", response: "Maybe.\n3 or 4" },
    ];
    const res = await post("/v1/score", { items, specialTokens: "stripped" });
    const results = res.json().results as { reward: number; rebuilt: boolean }[];
    expect(results.map((r) => r.reward)).toEqual([1, 1, 0]);
    expect(results.every((r) => r.rebuilt)).toBe(true);
    const kept = await post("/v1/score", { items: items.slice(0, 1) });
    expect(kept.json().results[0].reward).toBe(0);
  });

  it("rejects non-object items and unknown styles with the field named", async () => {
    const res = await post("/v1/score", { items: [42] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe("items.0");
    const style = await post("/v1/score", { items: [{}], style: "5v" });
    expect(style.json().error.field).toBe("style");
  });
});

describe("limits, auth and metrics", () => {
  it("enforces the batch-size and body-size limits", async () => {
    const small = createRewardServer({ pool, maxItems: 2, bodyLimit: 1000 });
    const many = await small.inject({
      method: "POST",
      url: "/v1/score",
      payload: { items: [{}, {}, {}] },
    });
    expect(many.statusCode).toBe(400);
    expect(many.json().error.field).toBe("items");
    const big = await small.inject({
      method: "POST",
      url: "/v1/score",
      payload: { items: ["x".repeat(5000)] },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe("body_too_large");
    await small.close();
  });

  it("requires the bearer token on every route but /healthz", async () => {
    const locked = createRewardServer({ pool, token: "s3cret" });
    expect((await locked.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    const denied = await locked.inject({ method: "GET", url: "/metrics" });
    expect(denied.statusCode).toBe(401);
    const ok = await locked.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: "Bearer s3cret" },
    });
    expect(ok.statusCode).toBe(200);
    await locked.close();
  });

  it("exports Prometheus counters for requests, latency, domains and timeouts", async () => {
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toMatch(/glmv_reward_requests_total\{route="\/get_reward",status="200"\} \d+/);
    expect(text).toMatch(/glmv_reward_request_duration_seconds_bucket\{route="\/v1\/score",le="\+Inf"\} \d+/);
    expect(text).toMatch(/glmv_reward_items_total\{domain="counting"\} \d+/);
    expect(text).toMatch(/glmv_reward_timeouts_total\{domain="text"\} 1/);
  });
});

describe("over a real socket", () => {
  it("finishes a request in flight when the server is closed, and refuses new connections", async () => {
    const live = createRewardServer({ pool });
    const address = await live.listen({ host: "127.0.0.1", port: 0 });
    const inFlight = fetch(`${address}/v1/score`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        items: [
          {
            id: 1,
            domain: "text",
            answer: "__hang__",
            response: `<think>t</think><answer>${box("a")}</answer>`,
          },
        ],
      }),
    });
    await new Promise((r) => setTimeout(r, 200));
    const closed = live.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { results: unknown[] }).results[0]).toMatchObject({
      reward: 0,
      timedOut: true,
    });
    await closed;
    await expect(fetch(`${address}/healthz`)).rejects.toThrow();
  });

  it("coalesces concurrent one-item requests without mixing up their results", async () => {
    const answers = Array.from({ length: 40 }, (_, i) => String(i % 7));
    const replies = await Promise.all(
      answers.map((a, i) =>
        post("/get_reward", {
          query: [`${PROMPT}<think>t</think><answer>${box(String(i % 7))}</answer>`],
          labels: [label("counting", i % 2 === 0 ? a : "99")],
        }),
      ),
    );
    expect(replies.map((r) => r.json().rewards[0])).toEqual(answers.map((_, i) => (i % 2 === 0 ? 1 : 0)));
  });

  it("serves /get_reward on loopback", async () => {
    const live = createRewardServer({ pool });
    const address = await live.listen({ host: "127.0.0.1", port: 0 });
    try {
      const res = await fetch(`${address}/get_reward`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: [`${PROMPT}<think>t</think><answer>${box("3")}</answer>`],
          prompts: [PROMPT],
          labels: [label("counting", "3")],
        }),
      });
      expect(await res.json()).toMatchObject({ rewards: [1], scores: [1] });
    } finally {
      await live.close();
    }
  });
});

describe("a server started with thinking off (glmv serve reward --no-thinking)", () => {
  // GLM-4.5V's non-thinking prompt ends with the pre-filled empty thought; OpenRLHF cuts the response after it.
  const OFF_PROMPT = "[gMASK]<sop><|user|>How many apples?/nothink<|assistant|>\n<think></think>\n";
  let offPool: RewardPool;
  let offApp: ReturnType<typeof createRewardServer>;
  beforeAll(async () => {
    offPool = new RewardPool({ workers: 1 });
    offApp = createRewardServer({ pool: offPool, style: "4.5v", thinking: false });
    await offApp.ready();
  });
  afterAll(async () => {
    await offApp.close();
    await offPool.close();
  });

  it("scores /get_reward thinking-off responses with the pre-fill put back; a request may switch it on", async () => {
    const query = [`${OFF_PROMPT}There are ${box("3")} apples.<|user|>`, `${OFF_PROMPT}${box("2")}<|user|>`];
    const body = {
      query,
      prompts: [OFF_PROMPT, OFF_PROMPT],
      labels: [label("counting", "3"), label("counting", "3")],
    };
    const off = (await offApp.inject({ method: "POST", url: "/get_reward", payload: body })).json();
    expect(off.rewards).toEqual([1, 0]);
    expect(off.extra_logs.format_ok).toEqual([1, 1]);
    // The same responses on the thinking-on server: no think block, so the gate says missing_think.
    expect((await post("/get_reward", body)).json().extra_logs.format_ok).toEqual([0, 0]);
    const item = { id: 1, domain: "counting", answer: "3", response: `There are ${box("3")} apples.` };
    const score = async (payload: object) =>
      (await offApp.inject({ method: "POST", url: "/v1/score", payload })).json().results[0];
    expect(await score({ items: [item] })).toMatchObject({ reward: 1, format: "ok" });
    expect(await score({ items: [item], thinking: true })).toMatchObject({
      reward: 0,
      format: "missing_think",
    });
    const health = (await offApp.inject({ method: "GET", url: "/healthz" })).json();
    expect(health).toMatchObject({ ok: true, thinking: false });
  });
});
