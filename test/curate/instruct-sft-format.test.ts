import { describe, expect, it } from "vitest";
import type { CurateItem } from "../../src/curate/stage.ts";
import { sftFormat } from "../../src/curate/stages/instruct/sft-format.ts";
import { openContext, runStage } from "./stage-driver.ts";

const BOX = (s: string) => `<|begin_of_box|>${s}<|end_of_box|>`;
const GOOD_41 = `<think>Two apples and two more make four.</think><answer>There are ${BOX("4")} apples.</answer>`;
const CHINESE =
  "这是一个很长的中文段落，用来说明模型在思考过程中使用了大量的中文文字，而且这个段落的长度超过了五十个汉字的阈值。";
const ENGLISH = Array.from({ length: 220 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}x`).join(" ");

let n = 0;
/** An SFT item: one user turn (content given as parts, as OpenAI-style data often has it) and the assistant text. */
function sft(
  answer: string,
  fields: Record<string, unknown> = {},
  question = "How many apples?",
): CurateItem {
  return {
    id: `sft-${n++}`,
    media: [],
    fields: {
      messages: [
        { role: "user", content: [{ type: "image" }, { type: "text", text: question }] },
        { role: "assistant", content: answer },
      ],
      ...fields,
    },
  };
}

async function check(items: CurateItem[], options: Record<string, unknown> = {}) {
  return runStage(sftFormat, options, items, openContext("/nonexistent"));
}

describe("sft-format: the template (reward gate)", () => {
  it("keeps a well-formed 4.1v answer and drops shape errors as bad_format with the gate's verdict", async () => {
    const out = await check([
      sft(GOOD_41),
      sft(`Two and two.<answer>${BOX("4")}</answer>`),
      sft(`<think>a</think><answer>${BOX("4")}</answer> and more text`),
      sft(`<think>a</think><answer>${BOX("4")} or ${BOX("5")}</answer>`),
    ]);
    expect(out[0]).toMatchObject({ kind: "keep" });
    expect(out[1]).toMatchObject({ kind: "drop", reason: "bad_format", detail: "bad_format: missing_think" });
    expect(out[2]).toMatchObject({
      kind: "drop",
      reason: "bad_format",
      detail: "bad_format: text_after_answer",
    });
    expect(out[3]).toMatchObject({
      kind: "drop",
      reason: "bad_format",
      detail: "bad_format: multiple_boxes",
    });
  });

  it("drops a verifiable answer without a usable box as missing_box", async () => {
    const out = await check([
      sft("<think>four</think><answer>There are 4 apples.</answer>"),
      sft(`<think>${BOX("4")}</think><answer>four</answer>`),
      sft(`<think>x</think><answer>${BOX(" ")}</answer>`),
    ]);
    expect(out.map((o) => o.kind === "drop" && o.reason)).toEqual([
      "missing_box",
      "missing_box",
      "missing_box",
    ]);
    expect(out[1]).toMatchObject({ detail: "missing_box: box_in_think_only" });
  });

  it("follows the reward's rule for open-ended items: no box at all, and an answer after the thinking", async () => {
    const options = { verifiableField: "boxed" };
    const out = await check(
      [
        sft("<think>Describe it.</think><answer>A red bicycle leans on a wall.</answer>", { boxed: false }),
        sft(`<think>Describe it.</think><answer>${BOX("A red bicycle")}</answer>`, { boxed: false }),
        sft("<think>Describe it.</think><answer>  </answer>", { boxed: false }),
      ],
      options,
    );
    expect(out[0]).toMatchObject({ kind: "keep" });
    expect(out[1]).toMatchObject({ kind: "drop", reason: "spurious_box" });
    expect(out[2]).toMatchObject({ kind: "drop", reason: "bad_format", detail: "bad_format: empty answer" });
  });

  it("checks the 4.5v template (no <answer> tags) when asked", async () => {
    const glm45 = `<think>Count them.</think>There are ${BOX("4")} apples.`;
    const [as45, as41] = [await check([sft(glm45)], { style: "4.5v" }), await check([sft(glm45)])];
    expect(as45[0]).toMatchObject({ kind: "keep" });
    expect(as41[0]).toMatchObject({
      kind: "drop",
      reason: "bad_format",
      detail: "bad_format: missing_answer_tags",
    });
  });

  it("takes a /nothink prompt's answer without a think block as the non-thinking template", async () => {
    const bare = `<answer>${BOX("4")}</answer>`;
    const out = await check([sft(bare, {}, "How many apples? /nothink"), sft(bare)]);
    expect(out[0]).toMatchObject({ kind: "keep" });
    expect(out[1]).toMatchObject({ kind: "drop", reason: "bad_format" });
  });

  it("reads a response field instead of messages, and drops an item with no assistant text", async () => {
    const plain = (id: string, fields: Record<string, unknown>): CurateItem => ({ id, media: [], fields });
    const out = await check([plain("r1", { response: GOOD_41 }), plain("r2", { text: "hi" })], {
      responseField: "response",
    });
    expect(out[0]).toMatchObject({ kind: "keep" });
    expect(out[1]).toMatchObject({ kind: "drop", reason: "bad_format", detail: "response" });
    const [none] = await check([plain("r3", { messages: [{ role: "user", content: "hi" }] })]);
    expect(none).toMatchObject({ kind: "drop", reason: "bad_format" });
  });
});

describe("sft-format: style checks (reward penalties)", () => {
  it("drops long-paragraph Chinese/English mixing as mixed_language", async () => {
    const mixed = `<think>${CHINESE}\n\n${ENGLISH}</think><answer>${BOX("4")}</answer>`;
    const [out] = await check([sft(mixed)]);
    expect(out).toMatchObject({ kind: "drop", reason: "mixed_language" });
  });

  it("drops looping text as repetitive, and names every failed check in the detail", async () => {
    const loop = "I will count the apples again to be sure. ".repeat(30);
    const [looping, both] = await check([
      sft(`<think>${loop}</think><answer>${BOX("4")}</answer>`),
      sft(`<think>${loop}</think><answer>four</answer>`),
    ]);
    expect(looping).toMatchObject({ kind: "drop", reason: "repetitive" });
    expect(both).toMatchObject({ kind: "drop", reason: "missing_box" });
    expect(both?.kind === "drop" && both.detail).toMatch(/missing_box: no_box; repetitive: /);
  });

  it("runs only the configured checks, and every assistant turn with turns: all", async () => {
    const mixed = `<think>${CHINESE}\n\n${ENGLISH}</think><answer>${BOX("4")}</answer>`;
    const [formatOnly] = await check([sft(mixed)], { checks: ["format", "box"] });
    expect(formatOnly).toMatchObject({ kind: "keep" });

    const twoTurns: CurateItem = {
      id: "multi",
      media: [],
      fields: {
        messages: [
          { role: "user", content: "first?" },
          { role: "assistant", content: "just text" },
          { role: "user", content: "second?" },
          { role: "assistant", content: GOOD_41 },
        ],
      },
    };
    const [last] = await check([twoTurns]);
    const [all] = await check([twoTurns], { turns: "all" });
    expect(last).toMatchObject({ kind: "keep" });
    expect(all).toMatchObject({
      kind: "drop",
      reason: "bad_format",
      detail: "bad_format: turn 1: missing_think",
    });
  });

  it("rejects unknown checks and option keys", () => {
    expect(sftFormat.options.safeParse({ checks: ["spelling"] }).success).toBe(false);
    expect(sftFormat.options.safeParse({ stlye: "4.1v" }).success).toBe(false);
  });
});
