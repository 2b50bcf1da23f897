/**
 * Golden cases from the released `glmv_reward` (test/fixtures/glmv-reward-golden.json) for extraction, the
 * official format gate, language mixing and repetition. Some golden cases name their input by a description
 * (e.g. "two boxes"); the inputs for those are built here from the spec (§1.2), one per description.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { OfficialPattern } from "./extract.ts";
import { checkOfficialFormat, extractOfficial, findBoxes } from "./extract.ts";
import { detectLanguageMix, detectRepetition } from "./style.ts";

type Case<I, O> = [I, O];
const golden = JSON.parse(
  readFileSync(new URL("../../test/fixtures/glmv-reward-golden.json", import.meta.url), "utf8"),
) as Record<string, Case<string, unknown>[]>;

const cases = <O>(key: string): Case<string, O>[] => {
  const list = golden[key];
  if (!list) throw new Error(`golden key ${key} missing`);
  return list as Case<string, O>[];
};

const B = "<|begin_of_box|>";
const E = "<|end_of_box|>";

/** Inputs for golden cases given by description. */
const DESCRIBED: Record<string, string> = {
  "two boxes": `<think>t</think>${B}1${E} and ${B}2${E}`,
  "no think": `${B}3${E}`,
  "answer tags kept?": `<think>t</think><answer>${B}ABC${E}</answer>`,
  "4.1V format": `<think>t</think><answer>${B}Stop${E}</answer>`,
  "4.5V format(no answer tags)": `<think>t</think>${B}Stop${E}`,
};

const inputOf = (key: string): string => {
  if (key.startsWith("<") || key.includes("\\") || key.includes(B)) return key;
  const built = DESCRIBED[key];
  if (built === undefined) throw new Error(`no input for described golden case "${key}"`);
  return built;
};

/** Which official pattern each released verifier uses (§1.2). */
const PATTERNS: Record<string, OfficialPattern> = {
  "math.extract": "p1",
  "vqa.extract": "p1",
  "chart.extract": "p2a",
  "counting.extract": "p2a",
  "ocr.extract": "p2b",
  "mmsi.extract": "p2b",
};

describe("golden find_boxed_content", () => {
  it.each(cases<string[]>("find_boxed_content"))("%j", (input, expected) => {
    expect(findBoxes(input)).toEqual(expected);
  });
});

describe("golden check_answer_format", () => {
  it.each(cases<boolean>("check_answer_format"))("%j", (input, expected) => {
    expect(checkOfficialFormat(input)).toBe(expected);
  });
});

describe("golden per-verifier extraction", () => {
  for (const [key, pattern] of Object.entries(PATTERNS)) {
    it.each(cases<string | null>(key))(`${key} %j`, (input, expected) => {
      expect(extractOfficial(inputOf(input), pattern)).toBe(expected);
    });
  }
});

describe("golden language_mix (verifier score = 1 − mixing)", () => {
  const zh =
    "我们首先观察图中的三角形，然后根据勾股定理计算斜边的长度，最后得到答案为五。这个推理过程是完整的，没有遗漏任何步骤，也检查了单位。";
  const en = "First we look at the triangle and then apply the theorem to the two sides. ".repeat(16);
  const inputs: Record<string, string> = {
    "zh para only": `<think>${zh}</think>\n\n${zh}`,
    "zh para + en para": `${zh}\n\n${en}`,
  };

  it.each(cases<number>("language_mix"))("%s", (name, score) => {
    const text = inputs[name];
    expect(text).toBeDefined();
    expect(1 - Number(detectLanguageMix(text!))).toBe(score);
  });
});

describe("golden detect_repeat", () => {
  const inputs: Record<string, string> = { "'abc'*200": "abc".repeat(200) };
  it.each(cases<boolean>("detect_repeat"))("%s", (name, expected) => {
    expect(detectRepetition(inputs[name]!)).toBe(expected);
  });
});
