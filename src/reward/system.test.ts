import { describe, expect, it } from "vitest";
import { VERIFIERS } from "./registry.ts";
import { type ScoreInput, scoreItem } from "./system.ts";
import type { Verifier } from "./types.ts";

const box = (a: string) => `<|begin_of_box|>${a}<|end_of_box|>`;
const r41 = (a: string) => `<think>count them</think><answer>${box(a)}</answer>`;
const r45 = (a: string) => `<think>count them</think>There are ${box(a)} apples.`;
const counting = (response: string, extra: Partial<ScoreInput> = {}): ScoreInput => ({
  id: 1,
  domain: "counting",
  response,
  answer: "7",
  ...extra,
});

describe("scoreItem: routing and style", () => {
  it("scores a right answer 1 and a wrong one 0 through the domain's verifier", () => {
    expect(scoreItem(counting(r41("7")))).toMatchObject({
      reward: 1,
      correct: true,
      format: "ok",
      extracted: "7",
      timedOut: false,
      stage: "verify",
    });
    expect(scoreItem(counting(r41("8")))).toMatchObject({
      reward: 0,
      correct: false,
      format: "ok",
      extracted: "8",
      stage: "verify",
    });
  });

  it("uses the run's style, and an item's own style wins", () => {
    expect(scoreItem(counting(r45("7")), { style: "4.5v" }).reward).toBe(1);
    expect(scoreItem(counting(r45("7")), { style: "4.1v" })).toMatchObject({ reward: 0, stage: "format" });
    expect(scoreItem(counting(r45("7"), { style: "4.5v" }), { style: "4.1v" }).reward).toBe(1);
    expect(scoreItem(counting(r41("7"), { style: "4.1v" }), { style: "4.5v" }).reward).toBe(1);
    // Default style is 4.1v.
    expect(scoreItem(counting(r41("7"))).reward).toBe(1);
  });

  it("routes each domain to its own verifier", () => {
    const seen: string[] = [];
    const spy =
      (name: string): Verifier =>
      () => {
        seen.push(name);
        return { score: 1, correct: true, reason: name };
      };
    const verifiers = { ...VERIFIERS, ocr: spy("ocr"), text: spy("text") };
    scoreItem({ id: 1, domain: "ocr", response: r41("abc"), answer: "abc" }, { verifiers });
    scoreItem({ id: 2, domain: "text", response: r41("abc"), answer: "abc" }, { verifiers });
    expect(seen).toEqual(["ocr", "text"]);
  });
});

describe("scoreItem: failures are zeros with a reason", () => {
  it("a format failure names the gate's status", () => {
    const r = scoreItem(counting("just 7"));
    expect(r).toMatchObject({ reward: 0, correct: false, format: "missing_think", stage: "format" });
    expect(r.reason).toMatch(/missing_think/);
    expect(scoreItem(counting(`<think>x</think><answer>${box("7")}${box("8")}</answer>`)).format).toBe(
      "multiple_boxes",
    );
  });

  it("a hedged answer is stopped before the verifier", () => {
    const r = scoreItem(counting(r41("7 or 8")));
    expect(r).toMatchObject({ reward: 0, correct: false, stage: "hacking", extracted: "7 or 8" });
  });

  it("style penalties zero a right answer", () => {
    const looping = `<think>${"let me count again. ".repeat(80)}</think><answer>${box("7")}</answer>`;
    const r = scoreItem(counting(looping));
    expect(r).toMatchObject({ reward: 0, correct: false, stage: "penalty" });
    expect(r.penalties).toContain("repetition");
  });

  it("clamps verifier scores into [0, 1] and turns a throw into a zero", () => {
    const with_ = (v: Verifier) => ({ verifiers: { ...VERIFIERS, counting: v } });
    const big: Verifier = () => ({ score: 1.7, correct: true, reason: "" });
    const nan: Verifier = () => ({ score: Number.NaN, correct: false, reason: "" });
    const boom: Verifier = () => {
      throw new Error("bug in verifier");
    };
    expect(scoreItem(counting(r41("7")), with_(big)).reward).toBe(1);
    expect(scoreItem(counting(r41("7")), with_(nan)).reward).toBe(0);
    expect(scoreItem(counting(r41("7")), with_(boom))).toMatchObject({
      reward: 0,
      correct: false,
      reason: expect.stringMatching(/bug in verifier/),
    });
  });

  it("passes maxBoxChars to the gate", () => {
    expect(scoreItem(counting(r41("7")), { maxBoxChars: 0 }).reward).toBe(0);
    expect(scoreItem(counting(r41("7")), { maxBoxChars: 10 }).reward).toBe(1);
  });
});

describe("scoreItem: non-verifiable items (spurious boxing)", () => {
  const open = (response: string): ScoreInput => ({
    id: 1,
    domain: "text",
    verifiable: false,
    response,
    answer: "a red bicycle",
  });

  it("penalises a box, even around the right text", () => {
    const r = scoreItem(open(`<think>look</think><answer>${box("a red bicycle")}</answer>`));
    expect(r).toMatchObject({
      reward: 0,
      correct: false,
      stage: "spurious_box",
      penalties: ["spurious_box"],
    });
    expect(scoreItem(open("<think>look</think><answer>\\boxed{a red bicycle}</answer>")).stage).toBe(
      "spurious_box",
    );
  });

  it("compares the unboxed answer text with the reference", () => {
    expect(scoreItem(open("<think>look</think><answer>A red bicycle</answer>"))).toMatchObject({
      reward: 1,
      correct: true,
      format: "ok",
    });
    expect(scoreItem(open("<think>look</think><answer>a blue car</answer>")).correct).toBe(false);
    expect(scoreItem(open("<think>look</think><answer></answer>"))).toMatchObject({
      reward: 0,
      stage: "format",
    });
    expect(scoreItem(open("no think"))).toMatchObject({
      reward: 0,
      stage: "format",
      format: "missing_think",
    });
  });
});

describe("scoreItem: input validation (the one item schema)", () => {
  const bad = (item: unknown) => () => scoreItem(item as ScoreInput);
  it("throws a typed bad_input error naming the field instead of scoring garbage", () => {
    expect(bad({ id: 1, domain: "counting", answer: "7", response: null })).toThrow(
      expect.objectContaining({ name: "GlmvError", code: "bad_input", where: "item.response" }),
    );
    expect(bad({ id: 1, domain: "counting", response: r41("7") })).toThrow(
      expect.objectContaining({ code: "bad_input", where: "item.answer" }),
    );
    expect(bad({ id: 1, domain: "maths", answer: "7", response: r41("7") })).toThrow(
      expect.objectContaining({ code: "bad_input", where: "item.domain" }),
    );
    expect(bad(null)).toThrow(expect.objectContaining({ code: "bad_input", where: "item" }));
    expect(bad(counting(r41("7"), { style: "5v" as never }))).toThrow(
      expect.objectContaining({ where: "item.style" }),
    );
  });
  it("rejects a non-GLM-V answer format on an open-ended item", () => {
    expect(bad(counting(r41("7"), { verifiable: false, answerFormat: "gsm8k" }))).toThrow(
      expect.objectContaining({ code: "bad_input", where: "item.answerFormat" }),
    );
  });
});

describe("scoreItem: thinking off (GLM-4.5V/4.6V non-thinking mode)", () => {
  // What a client scores: the completion after the prompt's pre-filled `<think></think>`, so no think block.
  const thinkingOff = `There are ${box("7")} apples.`;

  it("scores a right thinking-off completion 1 with the switch and 0 (missing_think) without", () => {
    expect(scoreItem(counting(thinkingOff), { style: "4.5v", thinking: false })).toMatchObject({
      reward: 1,
      correct: true,
      format: "ok",
      extracted: "7",
      stage: "verify",
    });
    expect(scoreItem(counting(thinkingOff), { style: "4.5v" })).toMatchObject({
      reward: 0,
      format: "missing_think",
      stage: "format",
    });
    expect(
      scoreItem(counting(thinkingOff, { answer: "8" }), { style: "4.5v", thinking: false }),
    ).toMatchObject({ reward: 0, correct: false, stage: "verify" });
  });

  it("scores a completion with a think block the same either way", () => {
    for (const response of [r45("7"), r45("8"), r41("7"), `<think>count ${box("7")}`]) {
      for (const style of ["4.1v", "4.5v"] as const) {
        expect(scoreItem(counting(response), { style, thinking: false })).toEqual(
          scoreItem(counting(response), { style }),
        );
      }
    }
  });

  it("leaves anti-hacking, non-verifiable items and other answer formats as they were", () => {
    const off = { style: "4.5v", thinking: false } as const;
    expect(scoreItem(counting(`There are ${box("7 or 8")} apples.`), off)).toMatchObject({
      reward: 0,
      stage: "hacking",
    });
    const open = { domain: "text" as const, answer: "a cat", verifiable: false };
    expect(scoreItem(counting("a cat", open), off)).toMatchObject({ reward: 1, extracted: "a cat" });
    expect(scoreItem(counting(`It is ${box("a cat")}`, open), off)).toMatchObject({ stage: "spurious_box" });
    expect(scoreItem(counting("#### 7", { answerFormat: "gsm8k" }), off)).toMatchObject({ reward: 1 });
  });
});
