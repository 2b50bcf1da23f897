import { beforeAll, describe, expect, it } from "vitest";
import { isGlmvError } from "../util/errors.ts";
import { presetConfig } from "./config.ts";
import {
  type ChatPrompt,
  type Encoder,
  encodePrompt,
  encodeResponse,
  mediaTokenIds,
  padRow,
  processImageFor,
  stopTokenIds,
} from "./encode.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "./tokenizer.ts";

let tok: GlmvTokenizer;
let enc: Encoder;

beforeAll(async () => {
  tok = await loadTinyTokenizer();
  enc = { cfg: presetConfig("tiny"), tok, style: "4.1v" };
});

/** One user turn: a grey `side`×`side` image, then the question. */
const imagePrompt = (question: string, side = 56): ChatPrompt => ({
  id: "p",
  messages: [{ role: "user", content: [{ type: "image" }, { type: "text", text: question }] }],
  images: [{ data: new Uint8Array(side * side * 3).fill(128), width: side, height: side, channels: 3 }],
});

const count = (ids: readonly number[], id: number) => ids.filter((x) => x === id).length;

describe("encodePrompt", () => {
  it("puts exactly 4 <|image|> tokens for a 56×56 image, between the image markers", () => {
    const { ids, grids, pixels } = encodePrompt(enc, imagePrompt("how many dots?"));
    expect(count(ids, tok.special.image)).toBe(4);
    expect(grids).toEqual([[1, 4, 4]]);
    expect(pixels.length).toBe(16 * 3 * 2 * 14 * 14);
    const begin = ids.indexOf(tok.special.beginImage);
    expect(ids.slice(begin + 1, begin + 5)).toEqual([4, 4, 4, 4].map(() => tok.special.image));
    expect(ids[begin + 5]).toBe(tok.special.endImage);
  });

  it("renders the chat template: [gMASK]<sop><|user|>\\n … question<|assistant|>\\n", () => {
    const text = tok.decode(encodePrompt(enc, imagePrompt("how many dots?")).ids);
    expect(text.startsWith("[gMASK]<sop><|user|>\n<|begin_of_image|>")).toBe(true);
    expect(text.endsWith("how many dots?<|assistant|>\n")).toBe(true);
  });

  it("keeps a 56×56 image at 4×4 patches (the default processor would upscale it)", () => {
    expect(processImageFor(enc.cfg, imagePrompt("q").images[0]!).grid).toEqual([1, 4, 4]);
  });
});

describe("encodeResponse, stopTokenIds, mediaTokenIds", () => {
  it("ends a response with <|endoftext|>, a stop token; media placeholders are never stops", () => {
    const ids = encodeResponse(enc, "<think>2</think><answer>2</answer>");
    expect(ids.at(-1)).toBe(tok.special.endOfText);
    expect(stopTokenIds(tok)).toContain(ids.at(-1));
    expect(mediaTokenIds(tok)).toContain(tok.special.image);
    expect(mediaTokenIds(tok).some((id) => stopTokenIds(tok).includes(id))).toBe(false);
  });
});

describe("padRow", () => {
  it("pads on the right with mask 0 and rejects rows longer than the fixed length", () => {
    expect(padRow([5, 6], 4, 0)).toEqual({ ids: [5, 6, 0, 0], mask: [1, 1, 0, 0] });
    try {
      padRow([1, 2, 3], 2, 0);
      expect.unreachable();
    } catch (e) {
      expect(isGlmvError(e) && e.code).toBe("bad_input");
    }
  });
});
