import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gateResponse } from "../reward/format.ts";
import { RewardPool } from "../reward/pool.ts";
import {
  getRewardDialect,
  itemOfSlime,
  itemsOfGetReward,
  itemsOfScore,
  normalizeResponse,
  responseOfQuery,
} from "./reward-requests.ts";
import { createRewardServer } from "./reward-server.ts";

const B = (a: string) => `<|begin_of_box|>${a}<|end_of_box|>`;

describe("responseOfQuery", () => {
  it("strips a matching prompt prefix, else splits at the last assistant tag, else keeps the query", () => {
    expect(responseOfQuery("PROMPT<think>a</think>", "PROMPT")).toBe("<think>a</think>");
    expect(responseOfQuery("<|user|>x<|assistant|>y<|user|>z<|assistant|>R", "other")).toBe("R");
    expect(responseOfQuery("just text", undefined)).toBe("just text");
  });
});

describe("normalizeResponse", () => {
  it("leaves kept text alone (the gate sees exactly what the model wrote)", () => {
    expect(normalizeResponse("no tags\n4", "kept", "4.1v")).toEqual({
      response: "no tags\n4",
      rebuilt: false,
    });
  });

  it("puts back a <think> that was part of the prompt", () => {
    const { response } = normalizeResponse(`reasoning</think><answer>${B("4")}</answer>`, "kept", "4.1v");
    expect(gateResponse(response, "4.1v")).toMatchObject({ format: "ok", extracted: "4" });
  });

  it("rebuilds tagless stripped text in both styles: the last line is the answer", () => {
    const r41 = normalizeResponse("Two and two.\nSo:\n4\n", "stripped", "4.1v");
    expect(r41).toEqual({
      response: `<think>Two and two.\nSo:</think><answer>${B("4")}</answer>`,
      rebuilt: true,
    });
    const r45 = normalizeResponse("Two and two.\nThe answer is \\boxed{4}", "stripped", "4.5v");
    expect(gateResponse(r45.response, "4.5v")).toMatchObject({ format: "ok", extracted: "4" });
  });

  it("boxes the answer region's last line when the tags survived but the box tokens did not", () => {
    const r41 = normalizeResponse("<think>count</think><answer>3</answer>", "stripped", "4.1v");
    expect(r41.rebuilt).toBe(true);
    expect(gateResponse(r41.response, "4.1v")).toMatchObject({ format: "ok", extracted: "3" });
    const r45 = normalizeResponse("<think>count</think>\nI see three.\n3", "stripped", "4.5v");
    expect(gateResponse(r45.response, "4.5v")).toMatchObject({ format: "ok", extracted: "3" });
  });

  it("keeps the gate's verdicts that stripping cannot fake: empty answers and two boxes", () => {
    expect(gateResponse(normalizeResponse("", "stripped", "4.1v").response, "4.1v").format).not.toBe("ok");
    const two = normalizeResponse("r\n\\boxed{3} \\boxed{4}", "stripped", "4.1v");
    expect(gateResponse(two.response, "4.1v").format).toBe("multiple_boxes");
    const intact = `<think>a</think><answer>${B("3")}</answer>`;
    expect(normalizeResponse(intact, "stripped", "4.1v")).toEqual({ response: intact, rebuilt: false });
  });
});

describe("normalizeResponse: thinking off", () => {
  it("puts the pre-filled empty think back in front of kept text without think tags, nothing else", () => {
    expect(normalizeResponse(`So ${B("4")}`, "kept", "4.5v", false)).toEqual({
      response: `<think></think>So ${B("4")}`,
      rebuilt: false,
    });
    const own = `<think>a</think>${B("4")}`;
    expect(normalizeResponse(own, "kept", "4.5v", false)).toEqual({ response: own, rebuilt: false });
    // A prompt that opened the thought (`</think>` only) still gets its `<think>`, as with thinking on.
    expect(normalizeResponse(`a</think>${B("4")}`, "kept", "4.5v", false).response).toBe(
      `<think>a</think>${B("4")}`,
    );
  });

  it("reads tagless stripped text as all answer: its box, else its last line boxed", () => {
    const lines = normalizeResponse("I count them.\nThere are three.\n3", "stripped", "4.5v", false);
    expect(lines.rebuilt).toBe(true);
    expect(gateResponse(lines.response, "4.5v")).toMatchObject({ format: "ok", extracted: "3", think: "" });
    const boxed = normalizeResponse("It is \\boxed{3}.\nThat is all.", "stripped", "4.1v", false);
    expect(gateResponse(boxed.response, "4.1v")).toMatchObject({ format: "ok", extracted: "3" });
    // A box above the last line is the answer (the last line is not boxed as well); two boxes are two answers.
    const two = normalizeResponse("\\boxed{3}\n4", "stripped", "4.5v", false);
    expect(gateResponse(two.response, "4.5v").format).toBe("ok");
    const hedge = normalizeResponse("\\boxed{3}\n\\boxed{4}", "stripped", "4.5v", false);
    expect(gateResponse(hedge.response, "4.5v").format).toBe("multiple_boxes");
  });
});

describe("request → items", () => {
  it("merges OpenRLHF labels (JSON strings or objects) with the cut response; only known fields pass", () => {
    const items = itemsOfGetReward(
      {
        query: ["P<think>a</think>", "Q<|assistant|>R"],
        prompts: ["P", "P"],
        labels: ['{"domain":"math","answer":"4","id":"x","extra":[[[]]]}', { domain: "ocr", answer: "hi" }],
      },
      "kept",
      "4.1v",
    );
    expect(items[0]!.item).toMatchObject({
      id: "x",
      domain: "math",
      answer: "4",
      response: "<think>a</think>",
    });
    expect(items[0]!.item).not.toHaveProperty("extra");
    expect(items[1]!.item).toMatchObject({ id: 1, domain: "ocr", response: "R" });
  });

  it("names the offending field", () => {
    expect(() => itemsOfGetReward({ query: ["q"], labels: ["[1]"] }, "kept", "4.1v")).toThrow(/labels\.0/);
    expect(() => itemsOfScore([{ id: 1, domain: "math", answer: 4, response: "r" }], "kept", "4.1v")).toThrow(
      /items\.0\.answer/,
    );
  });
});

describe("request-level style and answer formats", () => {
  it("gives each item the request's style unless it names its own (the pool's default must not gate it)", () => {
    const raw = { id: 1, domain: "counting", answer: "3", response: "<think>a</think>3" };
    const [plain, own] = itemsOfScore([raw, { ...raw, style: "4.1v" }], "stripped", "4.5v");
    expect(plain!.item.style).toBe("4.5v");
    expect(own!.item.style).toBe("4.1v");
  });

  it("passes every schema field through (precision, box frames, reward mode) and drops unknown extras", () => {
    const math = { id: 2, domain: "math", answer: "3.14", response: "r", precision: 2 };
    const fields = {
      coords: "pixel",
      imageSize: { width: 640, height: 480 },
      boxReward: "threshold",
      iouThreshold: 0.7,
    };
    const raw = {
      id: 1,
      domain: "grounding",
      answer: "[[1,2,3,4]]",
      response: "r",
      ...fields,
      extra: { deep: 1 },
    };
    const [{ item }, { item: mathItem }] = itemsOfScore([raw, math], "kept", "4.1v") as {
      item: Record<string, unknown>;
    }[] as [{ item: Record<string, unknown> }, { item: Record<string, unknown> }];
    expect(item).toMatchObject(fields);
    expect(item).not.toHaveProperty("extra");
    expect(mathItem).toMatchObject({ precision: 2 });
  });

  it("passes answerFormat through and leaves such responses as written (no GLM-V rebuild)", () => {
    const response = "48/2 = 24, 48+24 = 72\n#### 72";
    const [item] = itemsOfScore(
      [{ id: 1, domain: "math", answer: "72", response, answerFormat: "gsm8k" }],
      "stripped",
      "4.1v",
    );
    expect(item).toEqual({
      item: expect.objectContaining({ answerFormat: "gsm8k", response }),
      rebuilt: false,
    });
    expect(() =>
      itemsOfScore([{ id: 1, domain: "math", answer: "7", response, answerFormat: "latex" }], "kept", "4.1v"),
    ).toThrow(/items\.0\.answerFormat/);
  });
});

describe("POST /v1/score through the real server", () => {
  let pool: RewardPool;
  let app: ReturnType<typeof createRewardServer>;
  beforeAll(() => {
    pool = new RewardPool({ workers: 1 });
    app = createRewardServer({ pool, specialTokens: "stripped" });
  });
  afterAll(async () => {
    await app.close();
    await pool.close();
  });
  const score = async (body: object) => {
    const res = await app.inject({ method: "POST", url: "/v1/score", payload: body });
    return { status: res.statusCode, body: res.json() as { results: Record<string, unknown>[] } };
  };

  it('scores a correct GLM-4.5V response 1 when the request says "style": "4.5v" (server run style 4.1v)', async () => {
    const response = "<think>one, two, three</think><|begin_of_box|>3<|end_of_box|>";
    const { status, body } = await score({
      style: "4.5v",
      specialTokens: "kept",
      items: [{ id: "a", domain: "counting", answer: "3", response }],
    });
    expect(status).toBe(200);
    expect(body.results[0]).toMatchObject({ id: "a", reward: 1, format: "ok" });
    // verl's stripped text (box tokens gone) takes the same path.
    const stripped = await score({
      style: "4.5v",
      items: [{ id: "b", domain: "counting", answer: "3", response: "<think>one, two, three</think>\n3" }],
    });
    expect(stripped.body.results[0]).toMatchObject({ id: "b", reward: 1, format: "ok", rebuilt: true });
  });

  it('scores a GLM-4.5V thinking-off completion 1 when the request says "thinking": false, 0 without', async () => {
    const off = { id: "off", domain: "counting", answer: "3", response: `There are ${B("3")} apples.` };
    const own = { id: "own", domain: "counting", answer: "3", response: `<think>1, 2, 3</think>${B("3")}` };
    const request = { style: "4.5v", specialTokens: "kept", items: [off, own] };
    const thinkingOff = await score({ ...request, thinking: false });
    expect(thinkingOff.status).toBe(200);
    expect(thinkingOff.body.results[0]).toMatchObject({ id: "off", reward: 1, format: "ok", rebuilt: false });
    const thinkingOn = await score(request);
    expect(thinkingOn.body.results[0]).toMatchObject({ id: "off", reward: 0, format: "missing_think" });
    expect((await score({ ...request, thinking: true })).body.results[0]).toMatchObject({ reward: 0 });
    // A completion with its own think block scores the same either way.
    expect(thinkingOff.body.results[1]).toEqual(thinkingOn.body.results[1]);
    expect(thinkingOn.body.results[1]).toMatchObject({ id: "own", reward: 1 });
    const bad = await app.inject({
      method: "POST",
      url: "/v1/score",
      payload: { ...request, thinking: "no" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/thinking/);
  });

  it("scores GSM8K and geometry3k formats by the item's answerFormat", async () => {
    const { body } = await score({
      items: [
        { id: 1, domain: "math", answer: "72", response: "48+24 = 72\n#### 72", answerFormat: "gsm8k" },
        { id: 2, domain: "math", answer: "72", response: "#### 71\n#### 72", answerFormat: "gsm8k" },
        {
          id: 3,
          domain: "math",
          answer: "30",
          response: "<think>x+2x=90</think> \\boxed{30}",
          answerFormat: "boxed",
        },
        {
          id: 4,
          domain: "math",
          answer: "30",
          response: "\\boxed{30} or \\boxed{60}",
          answerFormat: "boxed",
        },
      ],
    });
    expect(body.results.map((r) => [r.reward, r.format])).toEqual([
      [1, "ok"],
      [0, "multiple_answers"],
      [1, "ok"],
      [0, "multiple_boxes"],
    ]);
  });
});

describe("slime's one-sample dialect", () => {
  it("is told apart from OpenRLHF's batch by its shape", () => {
    expect(getRewardDialect({ prompt: "p", response: "r", label: "{}" })).toBe("slime");
    expect(getRewardDialect({ query: ["q"], labels: ["{}"] })).toBe("openrlhf");
    expect(getRewardDialect({ query: "q", response: "r" })).toBe("openrlhf");
    expect(getRewardDialect([{ response: "r" }])).toBe("openrlhf");
  });

  it("takes the label as the item and the response as written; an empty-think prompt means thinking off", () => {
    const on = itemOfSlime(
      { prompt: "<|assistant|>", response: `So ${B("4")}`, label: { domain: "math", answer: "4" } },
      "kept",
      "4.5v",
    );
    expect(on.item).toMatchObject({ domain: "math", answer: "4", response: `So ${B("4")}` });
    const off = itemOfSlime(
      {
        prompt: "<|assistant|><think></think>\n",
        response: `So ${B("4")}`,
        label: '{"domain":"math","answer":"4"}',
      },
      "kept",
      "4.5v",
    );
    expect(off.item.response).toBe(`<think></think>So ${B("4")}`);
  });
});
