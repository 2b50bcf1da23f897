import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ResponseStyle } from "../model/domains.ts";
import { gateResponse, prefillEmptyThink, stripStopTokens } from "./format.ts";

const B = "<|begin_of_box|>";
const E = "<|end_of_box|>";
const r41 = (think: string, answer: string): string => `<think>${think}</think><answer>${answer}</answer>`;
const r45 = (think: string, answer: string): string => `<think>${think}</think>${answer}`;

describe("gateResponse: valid shapes", () => {
  it("accepts 4.1v with a token box and gives the parts", () => {
    const g = gateResponse(r41("2+2=4", `The sum is ${B} 4 ${E}.`), "4.1v");
    expect(g).toEqual({
      format: "ok",
      extracted: "4",
      think: "2+2=4",
      answerRegion: `The sum is ${B} 4 ${E}.`,
    });
  });

  it("accepts 4.5v with text around a \\boxed{} box", () => {
    const g = gateResponse(r45("t", "\nSo the answer is \\boxed{\\frac{1}{2}} indeed."), "4.5v");
    expect(g.format).toBe("ok");
    expect(g.extracted).toBe("\\frac{1}{2}");
  });

  it("allows whitespace between </think> and <answer> and around the response", () => {
    expect(gateResponse(`  <think>t</think>\n\n<answer>${B}x${E}</answer>\n`, "4.1v").format).toBe("ok");
  });

  it("matches tags case-insensitively", () => {
    expect(gateResponse(`<THINK>t</Think><ANSWER>${B}x${E}</answer>`, "4.1v").format).toBe("ok");
  });
});

describe("gateResponse: stop-tokens", () => {
  it("strips trailing stop tokens kept by OpenRLHF, in any order and with whitespace", () => {
    const resp = `${r45("t", `${B}7${E}`)}<|endoftext|>\n<|user|> <|observation|>`;
    expect(gateResponse(resp, "4.5v").extracted).toBe("7");
    expect(stripStopTokens(" a<|user|><|endoftext|> ")).toBe("a");
  });

  it("is empty_response for only whitespace and stop tokens", () => {
    expect(gateResponse("  <|endoftext|> ", "4.1v").format).toBe("empty_response");
    expect(gateResponse("", "4.5v").format).toBe("empty_response");
  });
});

describe("gateResponse: forced-answer", () => {
  it("accepts a think block cut mid-sentence by an injected </think>", () => {
    const cut = "Let me compute the area: the base is 4 and the hei";
    expect(gateResponse(`<think>${cut}</think><answer>${B}12${E}</answer>`, "4.1v").format).toBe("ok");
    expect(gateResponse(`<think>${cut}</think>\n${B}12${E}`, "4.5v").format).toBe("ok");
  });

  it("accepts a think cut inside a half-written box", () => {
    expect(gateResponse(`<think>so ${B}1</think>${B}12${E}`, "4.5v").extracted).toBe("12");
  });
});

describe("gateResponse: think failures", () => {
  it("missing_think / text_before_think / unclosed_think", () => {
    expect(gateResponse(`${B}4${E}`, "4.5v").format).toBe("missing_think");
    expect(gateResponse(`Sure! <think>t</think>${B}4${E}`, "4.5v").format).toBe("text_before_think");
    expect(gateResponse(`<think>t ${B}4${E}`, "4.5v").format).toBe("unclosed_think");
  });
});

describe("gateResponse: nested", () => {
  it("flags a think or answer tag inside the think part", () => {
    expect(gateResponse(`<think>a<think>b</think>${B}1${E}`, "4.5v").format).toBe("nested_tags");
    expect(gateResponse(r41("a <answer> b", `${B}1${E}`), "4.1v").format).toBe("nested_tags");
  });

  it("flags a second think block or answer tag inside the answer part", () => {
    expect(gateResponse(`<think>a</think>b</think>${B}1${E}`, "4.5v").format).toBe("nested_tags");
    expect(gateResponse(r41("a", `<think>x</think>${B}1${E}`), "4.1v").format).toBe("nested_tags");
    expect(gateResponse(`${r41("a", `${B}1${E}`)}<answer>2</answer>`, "4.1v").format).toBe("nested_tags");
  });
});

describe("gateResponse: answer tags", () => {
  it("4.1v needs <answer>…</answer> right after the think", () => {
    expect(gateResponse(r45("t", `${B}1${E}`), "4.1v").format).toBe("missing_answer_tags");
    expect(gateResponse(`<think>t</think>${B}1${E}<answer>1</answer>`, "4.1v").format).toBe(
      "box_outside_answer",
    );
    expect(gateResponse(r45("t", "plain"), "4.1v").format).toBe("missing_answer_tags");
    expect(gateResponse(`<think>t</think><answer>${B}1${E}`, "4.1v").format).toBe("missing_answer_tags");
    expect(gateResponse(`<think>t</think>So <answer>${B}1${E}</answer>`, "4.1v").format).toBe(
      "missing_answer_tags",
    );
  });

  it("4.1v rejects text or a box after </answer>", () => {
    expect(gateResponse(`${r41("t", `${B}1${E}`)} thanks`, "4.1v").format).toBe("text_after_answer");
    expect(gateResponse(`${r41("t", "x")} ${B}1${E}`, "4.1v").format).toBe("box_outside_answer");
  });

  it("4.5v rejects answer tags", () => {
    expect(gateResponse(r41("t", `${B}1${E}`), "4.5v").format).toBe("unexpected_answer_tags");
  });
});

describe("gateResponse: boxed", () => {
  it("no_box and box_in_think_only", () => {
    expect(gateResponse(r45("t", "42"), "4.5v").format).toBe("no_box");
    expect(gateResponse(r45(`so ${B}42${E}`, "42"), "4.5v").format).toBe("box_in_think_only");
    expect(gateResponse(r41("so \\boxed{42}", "42"), "4.1v").format).toBe("box_in_think_only");
  });

  it("counts token boxes and \\boxed together, nested boxes too", () => {
    expect(gateResponse(r45("t", `${B}1${E} \\boxed{1}`), "4.5v").format).toBe("multiple_boxes");
    expect(gateResponse(r45("t", "\\boxed{\\boxed{1}}"), "4.5v").format).toBe("multiple_boxes");
    expect(gateResponse(r45("t", `${B}a${B}b${E}${E}`), "4.5v").format).toBe("multiple_boxes");
  });

  it("treats a half-written second box as a second answer", () => {
    expect(gateResponse(r45("t", `${B}1${E} or ${B}2`), "4.5v").format).toBe("multiple_boxes");
  });

  it("empty_box and box_too_long", () => {
    expect(gateResponse(r45("t", `${B}  ${E}`), "4.5v").format).toBe("empty_box");
    expect(gateResponse(r45("t", `\\boxed{${"9".repeat(1001)}}`), "4.5v").format).toBe("box_too_long");
    expect(gateResponse(r45("t", `\\boxed{${"9".repeat(20)}}`), "4.5v", { maxBoxChars: 10 }).format).toBe(
      "box_too_long",
    );
    expect(gateResponse(r45("t", `\\boxed{${"9".repeat(1000)}}`), "4.5v").format).toBe("ok");
  });

  it("gives extracted only when ok", () => {
    const g = gateResponse(r45("t", `${B}1${E}${B}2${E}`), "4.5v");
    expect(g.extracted).toBeNull();
    expect(g.think).toBe("t");
  });
});

/** Answer text with no tag, box, or brace characters (braces could pair with a `\boxed{`). */
const plainAnswer = fc
  .string({ minLength: 1, maxLength: 60 })
  .filter((s) => !/[<>{}|\\]/.test(s) && s.trim().length > 0);
const style = fc.constantFrom<ResponseStyle>("4.1v", "4.5v");
const boxKind = fc.constantFrom("token", "boxed");
const wrap = (content: string, kind: string): string =>
  kind === "token" ? `${B}${content}${E}` : `\\boxed{${content}}`;
const build = (st: ResponseStyle, think: string, answer: string): string =>
  st === "4.1v" ? r41(think, answer) : r45(think, answer);

describe("gateResponse: properties", () => {
  it("extracts any plain answer back exactly (trimmed) from a valid response of either style", () => {
    fc.assert(
      fc.property(style, boxKind, plainAnswer, plainAnswer, plainAnswer, (st, kind, ans, pre, think) => {
        const g = gateResponse(build(st, think, `${pre} ${wrap(ans, kind)} .`), st);
        expect(g.format).toBe("ok");
        expect(g.extracted).toBe(ans.trim());
      }),
    );
  });

  it("gives multiple_boxes whenever a second box is added", () => {
    fc.assert(
      fc.property(
        style,
        boxKind,
        boxKind,
        plainAnswer,
        plainAnswer,
        fc.boolean(),
        (st, k1, k2, a, b, first) => {
          const one = wrap(a, k1);
          const two = wrap(b, k2);
          const answer = first ? `${two} then ${one}` : `${one} then ${two}`;
          expect(gateResponse(build(st, "t", answer), st).format).toBe("multiple_boxes");
        },
      ),
    );
  });

  it("never throws on random strings and token soup", () => {
    const piece = fc.constantFrom(
      B,
      E,
      "\\boxed{",
      "}",
      "<think>",
      "</think>",
      "<answer>",
      "</answer>",
      "<|user|>",
    );
    fc.assert(
      fc.property(style, fc.array(fc.oneof(piece, fc.string()), { maxLength: 30 }), (st, parts) => {
        const g = gateResponse(parts.join(""), st);
        expect(g.format === "ok").toBe(g.extracted !== null);
      }),
    );
  });

  it("completes on 1 MB adversarial inputs (linear scans)", () => {
    const mb = 1 << 20;
    const inputs = [
      `<think>${"{".repeat(mb)}</think>${"\\boxed{".repeat(mb / 8)}`,
      `<think>${"a".repeat(mb)}</think><answer>${B.repeat(mb / 16)}</answer>`,
      `<think>${"</think>".repeat(mb / 8)}`,
      "<".repeat(mb),
      `<think>t</think>${`${B}1${E}`.repeat(mb / 32)}`,
    ];
    for (const input of inputs) expect(typeof gateResponse(input, "4.1v").format).toBe("string");
    for (const input of inputs) expect(typeof gateResponse(input, "4.5v").format).toBe("string");
  });
});

describe("gateResponse: thinking off (GLM-4.5V/4.6V non-thinking mode)", () => {
  // The chat template pre-filled `<think></think>` in the prompt: the completion is the answer text alone.
  const off = { thinking: false } as const;

  it("gates a completion without a think block as if the pre-filled empty one were there", () => {
    const completion = `There are ${B}7${E} apples.`;
    expect(gateResponse(completion, "4.5v", off)).toEqual({
      format: "ok",
      extracted: "7",
      think: "",
      answerRegion: completion,
    });
    expect(gateResponse(completion, "4.5v").format).toBe("missing_think");
    expect(gateResponse(completion, "4.5v", { thinking: true }).format).toBe("missing_think");
    // \boxed{} and trailing stop tokens as OpenRLHF keeps them; 4.1v's <answer> shape alike.
    expect(gateResponse("So \\boxed{12}.<|user|>", "4.5v", off).extracted).toBe("12");
    expect(gateResponse(`<answer>${B}3${E}</answer>`, "4.1v", off).extracted).toBe("3");
  });

  it("keeps every other check of the gate on such a completion", () => {
    expect(gateResponse(`${B}3${E} or ${B}4${E}`, "4.5v", off).format).toBe("multiple_boxes");
    expect(gateResponse("There are seven apples.", "4.5v", off).format).toBe("no_box");
    expect(gateResponse(`<answer>${B}3${E}</answer>`, "4.5v", off).format).toBe("unexpected_answer_tags");
    expect(gateResponse(`${B}3${E}`, "4.1v", off).format).toBe("missing_answer_tags");
    expect(gateResponse(" <|endoftext|>", "4.5v", off).format).toBe("empty_response");
  });

  it("gates a completion that has a think block (or a stray think tag) the same either way", () => {
    const cases = [
      r45("count", `${B}7${E}`),
      r41("count", `${B}7${E}`),
      r45("count", "seven"),
      `Well <think>count</think>${B}7${E}`,
      `<think>count ${B}7${E}`,
      `count</think>${B}7${E}`,
      `${B}7${E}<THINK></THINK>`,
      r45("a<think>b", `${B}7${E}`),
    ];
    for (const style of ["4.1v", "4.5v"] as const) {
      for (const response of cases) {
        expect(gateResponse(response, style, off)).toEqual(gateResponse(response, style));
      }
    }
  });

  it("prefillEmptyThink adds the empty block only to a non-empty completion with no think tag", () => {
    expect(prefillEmptyThink(`So ${B}4${E}`)).toBe(`<think></think>So ${B}4${E}`);
    expect(prefillEmptyThink("<think>a</think>4")).toBe("<think>a</think>4");
    expect(prefillEmptyThink("a</THINK>4")).toBe("a</THINK>4");
    expect(prefillEmptyThink(" <|endoftext|>")).toBe(" <|endoftext|>");
  });
});
