import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import { extractAnswer } from "./extract.ts";

const T = SPECIAL_TOKENS;
const think = (s: string) => `${T.thinkStart}${s}${T.thinkEnd}`;
const answer = (s: string) => `${T.answerStart}${s}${T.answerEnd}`;
const box = (s: string) => `${T.beginBox}${s}${T.endBox}`;

describe("extractAnswer: GLM responses", () => {
  it("takes the first box inside <answer> (scope box) and keeps the thinking apart", () => {
    const r = `${think("Let me see: 2+2")}${answer(`\nThe answer is ${box("4")} and ${box("5")}.\n`)}`;
    expect(extractAnswer(r, "auto", "box")).toEqual({ answer: "4", thinking: "Let me see: 2+2", glm: true });
  });

  it("scores the whole <answer> text with the box tokens removed (scope whole)", () => {
    const r = `${think("read the sign")}${answer(`STOP ${box("HERE")}`)}`;
    expect(extractAnswer(r, "auto", "whole").answer).toBe("STOP HERE");
  });

  it("falls back to the whole answer region when it holds no complete box", () => {
    expect(extractAnswer(`${think("x")}${answer("B")}`, "auto", "box").answer).toBe("B");
    expect(extractAnswer(`${think("x")}${answer(`${T.beginBox}42`)}`, "auto", "box").answer).toBe("42");
  });

  it("reads the GLM-4.5V style: a box after </think> with no <answer> tags", () => {
    expect(extractAnswer(`${think("hmm")}So ${box("C")}`, "auto", "box").answer).toBe("C");
  });

  it("treats the text before a stray </think> as thinking (the template sent <think>)", () => {
    const r = `the sum is 7${T.thinkEnd}${answer(box("7"))}`;
    expect(extractAnswer(r, "auto", "box")).toEqual({ answer: "7", thinking: "the sum is 7", glm: true });
  });

  it("gives an empty answer for an unclosed <think> with no answer (budget ran out mid-thought)", () => {
    expect(extractAnswer(`${T.thinkStart}I think it is B but`, "auto", "box")).toEqual({
      answer: "",
      thinking: "I think it is B but",
      glm: true,
    });
  });

  it("ends an unclosed <think> at <answer> (the model skipped </think>)", () => {
    const r = `${T.thinkStart}maybe A${answer(box("B"))}`;
    expect(extractAnswer(r, "auto", "box")).toEqual({ answer: "B", thinking: "maybe A", glm: true });
  });

  it("takes the forced answer after an injected </think><answer> and an unclosed answer", () => {
    const r = `${T.thinkStart}long reasoning${T.thinkEnd}${T.answerStart}${box("12")}`;
    expect(extractAnswer(r, "auto", "box").answer).toBe("12");
  });

  it("takes the outer box of nested boxes, with the inner tokens removed", () => {
    expect(extractAnswer(answer(box(`a${box("b")}c`)), "auto", "box").answer).toBe("abc");
  });

  it("removes other special tokens left at the end (<|endoftext|>, <|user|>)", () => {
    const r = `${think("t")}${answer(box("9"))}${T.endOfText}${T.user}`;
    expect(extractAnswer(r, "auto", "whole").answer).toBe("9");
  });
});

describe("extractAnswer: modes", () => {
  it("auto passes a response without GLM markers to the official parser unchanged", () => {
    const r = "  The answer is (B).\n";
    expect(extractAnswer(r, "auto", "box")).toEqual({ answer: r, thinking: "", glm: false });
  });

  it("official passes even a GLM response unchanged", () => {
    const r = `${think("x")}${answer(box("4"))}`;
    expect(extractAnswer(r, "official", "box")).toEqual({ answer: r, thinking: "", glm: false });
  });

  it("glm forces GLM parsing: without markers the whole response, trimmed", () => {
    expect(extractAnswer("  B \n", "glm", "box")).toEqual({ answer: "B", thinking: "", glm: true });
  });

  it("auto with \\boxed{} only (not a GLM marker) leaves the response to the official parser", () => {
    const r = "so \\boxed{3}";
    expect(extractAnswer(r, "auto", "box").answer).toBe(r);
  });
});

/** Text pieces: plain words and every marker, but never the sentinel that marks thinking. */
const TOKENS = Object.values(T);
const piece = fc.oneof(
  fc.string({ maxLength: 6 }).map((s) => s.replaceAll("SECRET", "")),
  fc.constantFrom(...TOKENS),
  fc.constantFrom("<thi", "nk>", "</thi", "<|begin_of", "_box|>"),
);
const textWith = (banned: string[]) =>
  fc.array(piece, { maxLength: 8 }).map((ps) => {
    let s = ps.join("");
    // drop banned markers until none is left (a removal may join the halves of another)
    for (let prev = ""; prev !== s; ) {
      prev = s;
      for (const b of banned) s = s.replaceAll(b, "");
    }
    return s.replaceAll("SECRET", "");
  });
/** A thinking block's body: carries the sentinel and may hold any marker but the think tags. */
const thinkBody = fc
  .tuple(textWith([T.thinkStart, T.thinkEnd]), textWith([T.thinkStart, T.thinkEnd]))
  .map(([a, b]) => `${a}SECRET${b}`);
/** The body of a last, unclosed think block: no `<answer>` (one would end the thinking). */
const unclosedBody = fc
  .tuple(
    textWith([T.thinkStart, T.thinkEnd, T.answerStart]),
    textWith([T.thinkStart, T.thinkEnd, T.answerStart]),
  )
  .map(([a, b]) => `${a}SECRET${b}`);
/** Text outside thinking: any marker but the think tags, never the sentinel. */
const outside = textWith([T.thinkStart, T.thinkEnd]);

/** A response: optional leading `…</think>`, then free text and closed think blocks, optionally a last unclosed one. */
const glmResponse = fc
  .record({
    lead: fc.option(thinkBody, { nil: undefined }),
    parts: fc.array(fc.tuple(outside, thinkBody), { maxLength: 3 }),
    tail: outside,
    unclosed: fc.option(unclosedBody, { nil: undefined }),
  })
  .map(({ lead, parts, tail, unclosed }) => {
    let s = lead !== undefined ? `${lead}${T.thinkEnd}` : "";
    for (const [text, body] of parts) s += `${text}${T.thinkStart}${body}${T.thinkEnd}`;
    s += tail;
    if (unclosed !== undefined) s += `${T.thinkStart}${unclosed}`;
    return s;
  });

describe("extractAnswer: a thinking block never reaches a scorer (property)", () => {
  it("no thinking text and no think tag appears in the answer (modes auto and glm, both scopes)", () => {
    fc.assert(
      fc.property(
        glmResponse,
        fc.constantFrom("auto" as const, "glm" as const),
        fc.constantFrom("box" as const, "whole" as const),
        (response, mode, scope) => {
          const { answer, glm } = extractAnswer(response, mode, scope);
          expect(answer).not.toContain("SECRET");
          expect(answer).not.toContain(T.thinkStart);
          expect(answer).not.toContain(T.thinkEnd);
          // GLM parsing leaves no special token; a marker-free response in auto goes through unchanged
          if (glm) for (const token of TOKENS) expect(answer).not.toContain(token);
          else expect(answer).toBe(response);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("keeps the thinking text in `thinking` whenever the response has a think block", () => {
    fc.assert(
      fc.property(glmResponse, (response) => {
        const { thinking, glm } = extractAnswer(response, "auto", "box");
        if (response.includes("SECRET")) {
          expect(glm).toBe(true);
          expect(thinking).toContain("SECRET");
        }
      }),
      { numRuns: 1000 },
    );
  });
});
