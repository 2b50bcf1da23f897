/**
 * GLM-4.6V output conventions (glmv issue 19 part 3). GLM-4.6V shares GLM-4.5V's chat template family and output
 * shape (transformers `glm4v_moe`, vLLM/SGLang `--reasoning-parser glm45 --tool-call-parser glm45`): `<think>…</think>`
 * then the answer with `<|begin_of_box|>…<|end_of_box|>`, no `<answer>` tags; thinking off appends `/nothink` to the
 * user turn and pre-fills an empty `<think></think>` after `<|assistant|>`. So style "4.5v" scores it; these tests
 * show that. What 4.6V adds is native tool calls, which are not answers unless the item expects one.
 */
import { describe, expect, it } from "vitest";
import { scoreItems } from "./index.ts";
import { type ScoreInput, scoreItem } from "./system.ts";

const B = "<|begin_of_box|>";
const E = "<|end_of_box|>";
const call = (name: string, args: Record<string, string> = {}) =>
  `<tool_call>${name}\n${Object.entries(args)
    .map(([k, v]) => `<arg_key>${k}</arg_key>\n<arg_value>${v}</arg_value>\n`)
    .join("")}</tool_call>`;
const counting = (response: string, extra: Partial<ScoreInput> = {}): ScoreInput => ({
  id: 1,
  domain: "counting",
  response,
  answer: "7",
  style: "4.5v",
  ...extra,
});

describe("GLM-4.6V responses score under style 4.5v", () => {
  it("thinking on: reasoning, then the boxed answer in text, a stop token at the end", () => {
    const r = `<think>I count the apples row by row: 3 + 4 = 7.</think>\nThere are ${B}7${E} apples in the image.<|user|>`;
    expect(scoreItem(counting(r))).toMatchObject({
      reward: 1,
      format: "ok",
      extracted: "7",
      stage: "verify",
    });
  });

  it("grounding: the box tokens around 0–999 coordinates", () => {
    const r = `<think>The dog is on the left.</think>${B}[[102,215,433,870]]${E}`;
    const item: ScoreInput = {
      id: 2,
      domain: "grounding",
      response: r,
      answer: "[[100,210,430,875]]",
      style: "4.5v",
    };
    expect(scoreItem(item)).toMatchObject({ format: "ok", correct: true, stage: "verify" });
  });

  it("thinking off: the completion after the pre-filled `<think></think>` scores once the pre-fill is put back", () => {
    const completion = `There are ${B}7${E} apples.`;
    expect(scoreItem(counting(`<think></think>\n${completion}`))).toMatchObject({ reward: 1, format: "ok" });
    // The bare completion has no think block: the gate cannot tell it from a policy that skipped its reasoning.
    expect(scoreItem(counting(completion))).toMatchObject({
      reward: 0,
      format: "missing_think",
      stage: "format",
    });
  });

  it("<answer> tags stay a 4.1V-only shape", () => {
    const r = `<think>t</think><answer>${B}7${E}</answer>`;
    expect(scoreItem(counting(r))).toMatchObject({ reward: 0, format: "unexpected_answer_tags" });
  });
});

describe("tool calls are not answers", () => {
  const reason = /^format: tool_call \(a tool call is not an answer/;

  it("a call after the reasoning is format tool_call, even next to the right boxed answer", () => {
    for (const r of [
      `<think>I should zoom in.</think>${call("zoom_in", { bbox: "[0,0,500,500]" })}<|observation|>`,
      `<think>t</think>There are ${B}7${E} apples.\n${call("count_objects", { label: "apple" })}`,
      `<think>t</think>${B}7 ${call("f")}${E}`,
      `${call("search", { query: "apples" })}`,
      `<think>t</think><tool_call>{"name": "search", "arguments": {"query": "apples"}}</tool_call>`,
      `<think>t</think>${B}7${E}<tool_call>search`,
    ]) {
      const res = scoreItem(counting(r));
      expect(res, r).toMatchObject({ reward: 0, correct: false, format: "tool_call", stage: "format" });
      expect(res.reason).toMatch(reason);
    }
  });

  it("in every style and answer format, and on open-ended items", () => {
    const r41 = `<think>t</think><answer>${B}7${E}${call("f")}</answer>`;
    expect(scoreItem(counting(r41, { style: "4.1v" })).format).toBe("tool_call");
    expect(scoreItem(counting(`#### 7\n${call("f")}`, { answerFormat: "gsm8k" })).format).toBe("tool_call");
    expect(scoreItem(counting(`\\boxed{7} ${call("f")}`, { answerFormat: "boxed" })).format).toBe(
      "tool_call",
    );
    const open: ScoreInput = {
      id: 3,
      domain: "text",
      response: `<think>t</think>A red car.${call("f")}`,
      answer: "a red car",
      verifiable: false,
      style: "4.5v",
    };
    expect(scoreItem(open).format).toBe("tool_call");
  });

  it("a call only drafted in the reasoning is no call: the answer scores", () => {
    const r = `<think>Maybe ${call("zoom_in")}? No, I can count directly.</think>There are ${B}7${E} apples.`;
    expect(scoreItem(counting(r))).toMatchObject({ reward: 1, stage: "verify" });
  });
});

describe("items that expect a tool call (expectsToolCall)", () => {
  const gold = '{"name":"zoom_in","arguments":{"bbox":[100,100,400,400],"factor":2}}';
  const item = (response: string): ScoreInput => ({
    id: 4,
    domain: "gui",
    response,
    answer: gold,
    style: "4.5v",
    expectsToolCall: true,
  });

  it("the same call (markup or JSON, any argument order) is 1 at stage verify", () => {
    const markup = `<think>The label is too small to read.</think>Let me zoom in.\n${call("zoom_in", { factor: "2", bbox: "[100, 100, 400, 400]" })}<|observation|>`;
    expect(scoreItem(item(markup))).toMatchObject({
      reward: 1,
      correct: true,
      format: "ok",
      stage: "verify",
      extracted: '{"arguments":{"bbox":[100,100,400,400],"factor":2},"name":"zoom_in"}',
    });
    const json = `<think>t</think><tool_call>{"name": "zoom_in", "arguments": {"factor": 2, "bbox": [100,100,400,400]}}</tool_call>`;
    expect(scoreItem(item(json)).reward).toBe(1);
  });

  it("another call, other arguments or an extra call is 0 with the reason", () => {
    expect(scoreItem(item(call("zoom_out", { factor: "2" })))).toMatchObject({
      reward: 0,
      stage: "verify",
      reason: "called zoom_out, expected zoom_in",
    });
    const other = call("zoom_in", { factor: "3", bbox: "[100,100,400,400]" });
    expect(scoreItem(item(other))).toMatchObject({ reward: 0, reason: "tool call arguments differ" });
    const right = call("zoom_in", { factor: "2", bbox: "[100,100,400,400]" });
    expect(scoreItem(item(`${right}${other}`))).toMatchObject({
      reward: 0,
      reason: "2 tool calls, expected 1",
    });
  });

  it("an answer instead of a call is format missing_tool_call", () => {
    expect(scoreItem(item(`<think>t</think>The label says ${B}EXIT${E}.`))).toMatchObject({
      reward: 0,
      format: "missing_tool_call",
      stage: "format",
      reason: "format: missing_tool_call (no tool call)",
    });
  });

  it("the field reaches the worker pool", async () => {
    const markup = call("zoom_in", { factor: "2", bbox: "[100,100,400,400]" });
    const [expected, ordinary] = await scoreItems(
      [item(markup), { ...item(markup), expectsToolCall: false }],
      {
        workers: 1,
      },
    );
    expect(expected).toMatchObject({ reward: 1, stage: "verify" });
    expect(ordinary).toMatchObject({ reward: 0, format: "tool_call" });
  });
});

describe("expectsToolCall in the item schema", () => {
  it("is validated (a non-boolean is bad_input naming the field), not silently ignored", () => {
    expect(() =>
      scoreItem({
        id: 1,
        domain: "text",
        answer: "x",
        response: "r",
        expectsToolCall: "yes" as unknown as boolean,
      }),
    ).toThrow(/expectsToolCall/);
  });
});
