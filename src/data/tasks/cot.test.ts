import { describe, expect, it } from "vitest";
import { sftTarget } from "./cot.ts";
import { buildSuite } from "./suite.ts";

/** The official GLM-4.1V gate (reward-spec-official.md §1.1) plus exactly one box inside the answer. */
const GATE_41V = /^<think>(.*?)<\/think>\s*<answer>(.*?)<\/answer>$/s;
const GATE_45V = /^<think>(.*?)<\/think>(.*)$/s;
const BOX = /<\|begin_of_box\|>(.*?)<\|end_of_box\|>/g;

describe("sftTarget", () => {
  it("writes the exact GLM-4.1V form", () => {
    expect(sftTarget({ cot: "3+4=7.", responseAnswer: "7" }, "4.1v")).toBe(
      "<think>3+4=7.</think><answer><|begin_of_box|>7<|end_of_box|></answer>",
    );
  });

  it("writes the GLM-4.5V form without answer tags", () => {
    expect(sftTarget({ cot: "5 dots.", responseAnswer: "5" }, "4.5v")).toBe(
      "<think>5 dots.</think><|begin_of_box|>5<|end_of_box|>",
    );
  });

  it("passes the format gate with one box holding the response answer for every family", () => {
    for (const item of buildSuite({ seed: 4, perFamily: 6, split: "train" })) {
      const t41 = sftTarget(item, "4.1v");
      const m = GATE_41V.exec(t41);
      expect(m).not.toBeNull();
      expect(m![1]).toBe(item.cot);
      const boxes = [...m![2]!.matchAll(BOX)].map((b) => b[1]);
      expect(boxes).toEqual([item.responseAnswer]);
      expect(/<\/?(think|answer)>/.test(m![1]!)).toBe(false);
      const t45 = sftTarget(item, "4.5v");
      expect(t45).not.toMatch(/<\/?answer>/);
      expect([...GATE_45V.exec(t45)![2]!.matchAll(BOX)].map((b) => b[1])).toEqual([item.responseAnswer]);
    }
  });
});
