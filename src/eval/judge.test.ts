import { describe, expect, it } from "vitest";
import {
  cleanJudgeReply,
  extractionPrompt,
  type JudgedTask,
  judgeQuestion,
  withExtraction,
} from "./judge.ts";
import type { EvalItem } from "./types.ts";

const item: EvalItem = {
  id: "7",
  prompt: "full prompt",
  images: [],
  gold: "3",
  fields: { question: "How many?" },
};

describe("the extraction judge", () => {
  it("asks with the examples, then the question and the response, ending in 'Extracted answer: '", () => {
    const prompt = extractionPrompt("How many?", "I count three, so 3.");
    expect(prompt.endsWith("How many?\n\nModel response: I count three, so 3.\n\nExtracted answer: ")).toBe(
      true,
    );
    expect(prompt.match(/Extracted answer: \S/g)).toHaveLength(4); // the worked examples
  });

  it("reads the item's question field, else its prompt; a task hook wins", () => {
    const task = { name: "t" } as JudgedTask;
    expect(judgeQuestion(task, item)).toBe("How many?");
    expect(judgeQuestion(task, { ...item, fields: {} })).toBe("full prompt");
    expect(judgeQuestion({ ...task, judgeQuestion: (i) => `Q${i.id}` }, item)).toBe("Q7");
  });

  it("stores the extraction as fields.extraction unless the task says otherwise", () => {
    const task = { name: "t" } as JudgedTask;
    expect(withExtraction(task, item, "3").fields).toEqual({ question: "How many?", extraction: "3" });
    const hooked = { ...task, withExtraction: (i: EvalItem, x: string) => ({ ...i, gold: x }) };
    expect(withExtraction(hooked, item, "4").gold).toBe("4");
  });

  it("cleans a reply: thinking cut out, a repeated label and answer tags dropped", () => {
    expect(cleanJudgeReply("<think>hmm</think><answer>Extracted answer: 3.5</answer>")).toBe("3.5");
    expect(cleanJudgeReply("  (B) \n")).toBe("(B)");
  });
});
