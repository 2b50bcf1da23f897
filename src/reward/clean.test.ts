import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanAnswer, stripBoxTokens, stripThinking } from "./clean.ts";
import * as glmvReward from "./index.ts";

const B = "<|begin_of_box|>";
const E = "<|end_of_box|>";

describe("stripBoxTokens", () => {
  it("removes both box tokens and keeps their content and the text around them", () => {
    expect(stripBoxTokens(`The answer is ${B}7${E}.`)).toBe("The answer is 7.");
    expect(stripBoxTokens(`${B}[[120,40,380,610]]${E}`)).toBe("[[120,40,380,610]]");
    expect(stripBoxTokens(`a ${B}1${E} and ${B}2${E}; stray ${E} and ${B}`)).toBe("a 1 and 2; stray  and ");
  });

  it("leaves text without box tokens (and TeX boxes) unchanged", () => {
    expect(stripBoxTokens("x = \\boxed{3}")).toBe("x = \\boxed{3}");
    expect(stripBoxTokens("")).toBe("");
  });

  it("never leaves a box token behind, whatever the text", () => {
    const piece = fc.oneof(
      fc.constantFrom(B, E, "<|", "|>", "box", "<|begin_of_", "end_of_box|>"),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const out = stripBoxTokens(parts.join(""));
        expect(out).not.toContain(B);
        expect(out).not.toContain(E);
      }),
      { numRuns: 500 },
    );
  });

  it("removes a token that removing another one joined up", () => {
    expect(stripBoxTokens(`<|begin_of_${B}box|>7<|end_of_${E}box|>`)).toBe("7");
  });
});

describe("stripThinking", () => {
  it("drops closed think blocks, text before a prompt-opened </think>, and an unfinished thought", () => {
    expect(stripThinking("<think>2+2</think>It is 4.")).toBe("It is 4.");
    expect(stripThinking("still reasoning</think>\nIt is 4.")).toBe("\nIt is 4.");
    expect(stripThinking("<think>a</think>b<think>c</think>d")).toBe("bd");
    expect(stripThinking("<think>never finished")).toBe("");
    expect(stripThinking("<THINK>upper</THINK>kept")).toBe("kept");
    expect(stripThinking("no markers at all")).toBe("no markers at all");
  });
});

describe("cleanAnswer: the answer a person should see", () => {
  it("GLM-4.1V: drops think, <answer> tags, box tokens and the stop token", () => {
    const r = `<think>Count them: one, two, three.</think><answer>There are ${B}3${E} apples.</answer><|user|>`;
    expect(cleanAnswer(r)).toBe("There are 3 apples.");
  });

  it("GLM-4.5V / 4.6V thinking on: think then the boxed answer, no answer tags", () => {
    const r = `<think>The car is blue.</think>\nThe car is ${B}blue${E}.<|endoftext|>`;
    expect(cleanAnswer(r)).toBe("The car is blue.");
  });

  it("GLM-4.5V / 4.6V thinking off: the completion after the pre-filled empty thought, with or without it", () => {
    expect(cleanAnswer(`${B}[[10,20,300,400]]${E}`)).toBe("[[10,20,300,400]]");
    expect(cleanAnswer(`<think></think>\n${B}B${E}`)).toBe("B");
  });

  it("a response cut by forced answering (</think> injected, no opening tag in the completion)", () => {
    expect(cleanAnswer(`so the sum is</think><answer>${B}12${E}</answer>`)).toBe("12");
  });

  it("a response still thinking has no answer yet: empty, never the reasoning", () => {
    expect(cleanAnswer("<think>Let me count: one, two")).toBe("");
  });

  it("plain text and TeX boxes pass through trimmed", () => {
    expect(cleanAnswer("  42 \n")).toBe("42");
    expect(cleanAnswer("<think>x</think>So \\boxed{\\frac{1}{2}}.")).toBe("So \\boxed{\\frac{1}{2}}.");
  });

  it("never leaves a GLM-V marker in the output", () => {
    const markers = [B, E, "<think>", "</think>", "<answer>", "</answer>", "<|user|>", "<|endoftext|>"];
    const halves = ["<|begin_of_", "box|>", "<think", ">", "</ans", "wer>", "<|end_of_"];
    const piece = fc.oneof(fc.constantFrom(...markers, ...halves), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), fc.constantFrom("", " "), (parts, sep) => {
        const out = cleanAnswer(parts.join(sep));
        for (const m of [B, E, "<think>", "</think>", "<answer>", "</answer>"]) expect(out).not.toContain(m);
      }),
      { numRuns: 500 },
    );
  });
});

describe("public API", () => {
  it("glmv/reward exports cleanAnswer and stripBoxTokens (the root API: test/public-api.test.ts)", () => {
    expect(glmvReward.cleanAnswer).toBe(cleanAnswer);
    expect(glmvReward.stripBoxTokens).toBe(stripBoxTokens);
  });
});
