import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { extractAnswer, extractBoxedAnswer, extractGsm8kAnswer } from "./answer-formats.ts";
import { type ScoreInput, scoreItem } from "./system.ts";

type Sample = { answer: string; response: string; pid?: string; question?: string };
const samples = (file: string): Sample[] =>
  readFileSync(new URL(`../../test/fixtures/answer-formats/${file}`, import.meta.url), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Sample);

const GSM8K = samples("gsm8k-reference.jsonl");
const GEO3K = samples("geometry3k-bard.jsonl");
const math = (response: string, answer: string, answerFormat: ScoreInput["answerFormat"]): ScoreInput => ({
  id: 1,
  domain: "math",
  response,
  answer,
  answerFormat,
});

describe("gsm8k: the answer after the last ####", () => {
  it("scores GSM8K's own reference solutions 1 (scored 0 as missing_think by the GLM-V gate)", () => {
    for (const s of GSM8K) {
      expect(scoreItem(math(s.response, s.answer, "gsm8k"))).toMatchObject({ reward: 1, format: "ok" });
      expect(scoreItem(math(s.response, s.answer, undefined))).toMatchObject({
        reward: 0,
        format: "missing_think",
      });
    }
  });

  it("takes the last marker, skips a think block, and reads '$10' and '1,000' as amounts", () => {
    expect(extractGsm8kAnswer("a\n#### 72")).toMatchObject({ format: "ok", extracted: "72" });
    expect(extractGsm8kAnswer("<think>draft #### 70</think>So 48+24.\n#### 72").extracted).toBe("72");
    expect(extractGsm8kAnswer("reasoning</think>\n#### 72").extracted).toBe("72");
    expect(extractGsm8kAnswer("#### 72\n#### 72.").extracted).toBe("72.");
    expect(scoreItem(math("She earned $10.\n#### $10", "10", "gsm8k")).reward).toBe(1);
    expect(scoreItem(math("#### 1,000", "1000", "gsm8k")).reward).toBe(1);
  });

  it("scores hedges and missing answers 0 with a format reason", () => {
    const natalia = GSM8K[0]!;
    const twoAnswers = `${natalia.response.replace("#### 72", "#### 71")}\n#### 72`;
    expect(scoreItem(math(twoAnswers, "72", "gsm8k"))).toMatchObject({
      reward: 0,
      stage: "format",
      format: "multiple_answers",
    });
    const noMarker = natalia.response.replace("#### 72", "The answer is 72");
    expect(scoreItem(math(noMarker, "72", "gsm8k")).format).toBe("missing_answer_marker");
    expect(extractGsm8kAnswer("work\n####   ").format).toBe("empty_answer");
    expect(extractGsm8kAnswer("#### 72\nor maybe 73").format).toBe("text_after_answer");
    expect(extractGsm8kAnswer("<think>never closed #### 72").format).toBe("unclosed_think");
    expect(extractGsm8kAnswer(`#### ${"9".repeat(50)}`, { maxBoxChars: 10 }).format).toBe("answer_too_long");
  });

  it("still runs the anti-hacking checks on the extracted answer", () => {
    expect(scoreItem(math("48+24\n#### 72 or 73", "72", "gsm8k"))).toMatchObject({
      reward: 0,
      stage: "hacking",
    });
  });
});

describe("boxed: verl's geometry3k recipe, optional think then the last \\boxed{}", () => {
  it("scores 33 real Bard Geometry3K responses by their boxed answer (15 right), never by format", () => {
    const results = GEO3K.map((s) => scoreItem(math(s.response, s.answer, "boxed")));
    expect(results.every((r) => r.format === "ok")).toBe(true);
    const right = GEO3K.filter((_, i) => results[i]!.reward === 1).map((s) => s.pid);
    expect(right).toEqual([
      "28",
      "236",
      "300",
      "414",
      "499",
      "575",
      "633",
      "640",
      "684",
      "713",
      "781",
      "786",
      "815",
      "866",
      "951",
    ]);
    // The GLM-V gate refuses every one of them (no think block).
    expect(GEO3K.every((s) => scoreItem(math(s.response, s.answer, undefined)).reward === 0)).toBe(true);
  });

  it("accepts the recipe's <think>…</think> \\boxed{…}; a box repeated with the same answer is one answer", () => {
    const think = GEO3K.find((s) => s.pid === "28")!.response.replace(/\\boxed\{8\.5\}/, "8.5");
    expect(scoreItem(math(`<think>${think}</think> \\boxed{8.5}`, "8.5", "boxed")).reward).toBe(1);
    expect(GEO3K.find((s) => s.pid === "250")!.response.match(/\\boxed/g)).toHaveLength(2);
    expect(extractBoxedAnswer("x = \\boxed{26} cm, so \\boxed{26}.").extracted).toBe("26");
  });

  it("scores two different boxed answers, none, or an empty one 0 with a format reason", () => {
    const right = GEO3K.find((s) => s.pid === "236")!;
    expect(scoreItem(math(`${right.response} Or perhaps \\boxed{9}.`, "12", "boxed"))).toMatchObject({
      reward: 0,
      stage: "format",
      format: "multiple_boxes",
    });
    expect(extractBoxedAnswer("\\boxed{\\boxed{3}}").format).toBe("multiple_boxes");
    expect(extractBoxedAnswer("<|begin_of_box|>3<|end_of_box|> \\boxed{4}").format).toBe("multiple_boxes");
    expect(extractBoxedAnswer("\\boxed{3} and \\boxed{").format).toBe("multiple_boxes");
    expect(extractBoxedAnswer("The answer is 12.").format).toBe("no_box");
    expect(extractBoxedAnswer("<think>\\boxed{12}</think> twelve").format).toBe("box_in_think_only");
    expect(extractBoxedAnswer("<think>a</think> \\boxed{ }").format).toBe("empty_box");
    expect(extractBoxedAnswer("hi <think>a</think> \\boxed{1}").format).toBe("text_before_think");
    expect(extractBoxedAnswer("<think>a</think> <think>b</think>\\boxed{1}").format).toBe("nested_tags");
  });

  it("still runs the anti-hacking checks on the boxed answer", () => {
    expect(scoreItem(math("<think>w</think> \\boxed{12 \\text{ or } 13}", "12", "boxed"))).toMatchObject({
      reward: 0,
      stage: "hacking",
    });
  });
});

describe("extractAnswer", () => {
  it("is the GLM-V gate for 'glmv' and never falls back to another format", () => {
    const glmv = "<think>w</think><answer><|begin_of_box|>72<|end_of_box|></answer>";
    expect(extractAnswer(glmv, "glmv", "4.1v")).toMatchObject({ format: "ok", extracted: "72" });
    expect(extractAnswer("work\n#### 72", "glmv", "4.1v").format).toBe("missing_think");
    expect(extractAnswer("\\boxed{72}", "gsm8k", "4.1v").format).toBe("missing_answer_marker");
    expect(extractAnswer("#### 72", "boxed", "4.1v").format).toBe("no_box");
  });
});
