import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isGlmvError } from "../util/errors.ts";
import { renderChat } from "./chat-template.ts";
import { SPECIAL_TOKENS } from "./special-tokens.ts";
import {
  buildTinyTokenizerJson,
  TINY_TOKEN_IDS,
  TINY_VOCAB_USED,
  tinyTokenizerJsonText,
} from "./tiny-tokenizer.ts";
import { createTokenizer, loadTinyTokenizer } from "./tokenizer.ts";

const tok = await loadTinyTokenizer();
// Every printable ASCII character plus newline.
const printable = fc.string({
  unit: fc.oneof(
    fc.constant("\n"),
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  ),
});

describe("tiny tokenizer asset", () => {
  it("the committed JSON equals what the builder produces", () => {
    const committed = readFileSync(new URL("./assets/tiny-tokenizer.json", import.meta.url), "utf8");
    expect(committed).toBe(tinyTokenizerJsonText());
  });

  it("fits the tiny preset's 256-entry vocab with every special token as one id", () => {
    expect(TINY_VOCAB_USED).toBeLessThanOrEqual(256);
    expect(tok.vocabSize).toBe(TINY_VOCAB_USED);
    for (const t of Object.values(SPECIAL_TOKENS)) expect(tok.encode(t)).toHaveLength(1);
    expect(tok.special.image).toBe(TINY_TOKEN_IDS["<|image|>"]);
  });
});

describe("encode / decode", () => {
  it("round-trips arbitrary printable ASCII with newlines, one id per character", () => {
    fc.assert(
      fc.property(printable, (s) => {
        const ids = tok.encode(s);
        expect(ids).toHaveLength(s.length);
        expect(tok.decode(ids)).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it("recognises special tokens inside text and keeps /nothink as plain text", () => {
    const ids = tok.encode("<|user|>\nhi/nothink<|assistant|>");
    expect(ids[0]).toBe(tok.special.user);
    expect(ids.at(-1)).toBe(tok.special.assistant);
    expect(ids).toHaveLength(1 + 3 + "/nothink".length + 1);
  });

  it("round-trips a rendered chat prompt and drops specials with skipSpecial", () => {
    const text = renderChat(
      [{ role: "user", content: [{ type: "image" }, { type: "text", text: "Count." }] }],
      {
        style: "4.1v",
      },
    );
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.decode(ids, { skipSpecial: true })).toBe("\nCount.\n");
  });

  it("maps characters outside the vocabulary to <unk>, and decodes [] to an empty string", () => {
    expect(tok.encode("é")).toEqual([TINY_TOKEN_IDS["<unk>"]]);
    expect(tok.decode([])).toBe("");
  });

  it("rejects ids outside the vocabulary and a tokenizer missing GLM specials", () => {
    expect(() => tok.decode([9999])).toThrow(/outside the vocabulary/);
    const json = buildTinyTokenizerJson();
    json.added_tokens = json.added_tokens.filter((t) => t.content !== "<|image|>");
    delete json.model.vocab["<|image|>"];
    try {
      createTokenizer(json);
      expect.unreachable();
    } catch (e) {
      expect(isGlmvError(e) && e.code === "tokenizer_error" && e.message.includes("<|image|>")).toBe(true);
    }
  });
});
