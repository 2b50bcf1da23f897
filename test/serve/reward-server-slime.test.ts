/**
 * slime's `--rm-type remote_rm` on `POST /get_reward`: one sample `{prompt, response, label}` per request, told apart
 * from OpenRLHF's batch by its shape, answered with an object whose `reward` slime reads (`--reward-key reward`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RewardPool } from "../../src/reward/pool.ts";
import { MAX_LABEL_CHARS } from "../../src/serve/reward-requests.ts";
import { createRewardServer } from "../../src/serve/reward-server.ts";

const FIXTURE = new URL("../../src/reward/pool.fixture.ts", import.meta.url);
const box = (a: string) => `<|begin_of_box|>${a}<|end_of_box|>`;
const PROMPT = "[gMASK]<sop><|user|>How many apples?<|assistant|>";
const label = (domain: string, answer: string) => JSON.stringify({ domain, answer });
const answer = (a: string) => `<think>one two three</think><answer>${box(a)}</answer>`;

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

const post = (payload: unknown) =>
  app.inject({ method: "POST", url: "/get_reward", payload: payload as object });
const postText = (payload: string) =>
  app.inject({
    method: "POST",
    url: "/get_reward",
    payload,
    headers: { "content-type": "application/json" },
  });

describe("POST /get_reward, slime's one-sample dialect", () => {
  it("scores a right and a wrong answer, with the breakdown beside the reward", async () => {
    const right = await post({ prompt: PROMPT, response: answer("3"), label: label("counting", "3") });
    expect(right.statusCode).toBe(200);
    expect(right.json()).toMatchObject({
      reward: 1,
      correct: true,
      format: "ok",
      stage: "verify",
      extracted: "3",
      timedOut: false,
      rebuilt: false,
    });
    expect(typeof right.json().reason).toBe("string");
    const wrong = await post({ prompt: PROMPT, response: answer("2"), label: label("counting", "3") });
    expect(wrong.statusCode).toBe(200);
    expect(wrong.json()).toMatchObject({ reward: 0, correct: false, format: "ok", extracted: "2" });
  });

  it("takes an object label and a chat-message prompt; a retried request gets the same answer", async () => {
    const body = {
      prompt: [{ role: "user", content: "How many apples?" }],
      response: answer("3"),
      label: { domain: "counting", answer: "3" },
    };
    const first = await post(body);
    const again = await post(body);
    expect(first.json().reward).toBe(1);
    expect(again.json()).toEqual(first.json());
  });

  it("keeps the format gate: an unboxed answer scores 0 with its stage named", async () => {
    const res = await post({ prompt: PROMPT, response: "three", label: label("counting", "3") });
    expect(res.json()).toMatchObject({ reward: 0, correct: false });
    expect(res.json().format).not.toBe("ok");
  });

  it("answers 400 naming the field for a malformed label, never a silent 0", async () => {
    const cases: [unknown, string][] = [
      ["counting:3", "label"], // not JSON
      ["[1,2]", "label"], // JSON, not an object
      [3, "label"], // wrong type
      [undefined, "label"], // missing
      [label("astrology", "3"), "label.domain"],
      [JSON.stringify({ domain: "counting", answer: 3 }), "label.answer"],
      [{ domain: "counting" }, "label.answer"],
    ];
    for (const [bad, field] of cases) {
      const res = await post({ prompt: PROMPT, response: answer("3"), label: bad });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json().error.field, JSON.stringify(bad)).toBe(field);
      expect(res.json().reward).toBeUndefined();
    }
  });

  it("refuses hostile bodies with the field named: deep JSON, a huge label, wrong types", async () => {
    const deepLabel = `${"[".repeat(100)}${"]".repeat(100)}`;
    const deep = await post({ response: answer("3"), label: deepLabel });
    expect(deep.statusCode).toBe(400);
    expect(deep.json().error.field).toBe("label");
    const deepPrompt = `{"prompt":${"[".repeat(5000)}${"]".repeat(5000)},"response":"r","label":"{}"}`;
    const deepBody = await postText(deepPrompt);
    expect(deepBody.statusCode).toBe(400);
    expect(deepBody.json().error.field).toBe("body");
    const hugeAnswer = "9".repeat(MAX_LABEL_CHARS);
    for (const huge of [label("counting", hugeAnswer), { domain: "counting", answer: hugeAnswer }]) {
      const res = await post({ response: answer("3"), label: huge });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe("label");
      expect(res.json().error.message.length).toBeLessThan(200);
    }
    const response = await post({ prompt: PROMPT, response: 3, label: label("counting", "3") });
    expect(response.json().error.field).toBe("response");
    const prompt = await post({ prompt: 3, response: answer("3"), label: label("counting", "3") });
    expect(prompt.json().error.field).toBe("prompt");
    const health = await app.inject({ method: "GET", url: "/healthz" });
    expect(health.statusCode).toBe(200);
  });

  it("leaves OpenRLHF's batch dialect as it was on the same URL", async () => {
    const batch = await post({
      query: [`${PROMPT}${answer("3")}`, `${PROMPT}${answer("2")}`],
      prompts: [PROMPT, PROMPT],
      labels: [label("counting", "3"), label("counting", "3")],
    });
    expect(batch.json()).toMatchObject({ rewards: [1, 0], scores: [1, 0], extra_logs: { correct: [1, 0] } });
    // A body with both shapes' keys, or neither, is read as OpenRLHF's and answered in its words.
    const mixed = await post({ query: "x", response: "r", labels: [] });
    expect(mixed.json().error.field).toBe("query");
    const neither = await post({ prompt: PROMPT });
    expect(neither.json().error.field).toBe("query");
  });
});
