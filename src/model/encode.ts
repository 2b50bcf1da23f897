/**
 * Encoding between engine-agnostic chat prompts and token ids for the in-process model: a `ChatPrompt` → prompt ids
 * (chat template, placeholder expansion), patch rows and grids (the image processor); a response → ids ending in
 * `<|endoftext|>`. Fixed-shape padding lives here too: one prompt length for the whole run keeps the jitted shapes
 * fixed. Task items become prompts and SFT examples in `data/task-encoding.ts`.
 */
import { GlmvError } from "../util/errors.ts";
import type { ChatMessage, ChatStyle } from "./chat-template.ts";
import { renderChat } from "./chat-template.ts";
import type { GlmvConfig } from "./config.ts";
import type { GridThw } from "./position-ids.ts";
import { processRawImage, type RawImage } from "./processor.ts";
import type { GlmvTokenizer } from "./tokenizer.ts";
import { expandPlaceholders } from "./video.ts";

/** One prompt: chat messages (images referenced by `{type: "image"}` items, in order) and their images. */
export type ChatPrompt = { id: string; messages: ChatMessage[]; images: RawImage[] };

/** What encoding needs: the model config (patch geometry, token ids), the tokenizer and the chat style. */
export type Encoder = { cfg: GlmvConfig; tok: GlmvTokenizer; style: ChatStyle };

/** A prompt ready for the model: expanded ids, patch rows of its images in order, and their grids. */
export type EncodedPrompt = { ids: number[]; pixels: Float32Array; grids: GridThw[] };

/** A teacher-forcing example: prompt + response ids, 1 on response tokens (the ones to learn), and media. */
export type EncodedExample = EncodedPrompt & { lossMask: number[]; promptTokens: number };

/**
 * Patch rows and grid of one image. The smallest allowed area is one merge window (28×28) rather than the
 * processor's default 112×112, so 56×56 task images keep their size (4×4 patches → 4 image tokens).
 */
export function processImageFor(cfg: GlmvConfig, img: RawImage): { pixels: Float32Array; grid: GridThw } {
  const v = cfg.vision;
  const window = v.patchSize * v.spatialMergeSize;
  const out = processRawImage(img, {
    minPixels: window * window,
    patchSize: v.patchSize,
    mergeSize: v.spatialMergeSize,
    temporalPatchSize: v.temporalPatchSize,
  });
  return { pixels: out.pixelValues, grid: out.gridThw };
}

/** Concatenate Float32Arrays (patch rows of several images). */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Prompt ids (chat template with the generation prompt, each `<|image|>` expanded to its token count), patch
 * rows and grids. The number of `{type:"image"}` items must equal `prompt.images.length`.
 * @example const { ids, grids } = encodePrompt(enc, prompt); // 4 `<|image|>` ids for one 56×56 image
 */
export function encodePrompt(enc: Encoder, prompt: Pick<ChatPrompt, "messages" | "images">): EncodedPrompt {
  const text = renderChat(prompt.messages, { style: enc.style });
  const processed = prompt.images.map((img) => processImageFor(enc.cfg, img));
  const grids = processed.map((p) => p.grid);
  const ids = expandPlaceholders(enc.tok.encode(text), { images: grids }, enc.tok);
  return { ids, pixels: concatFloat32(processed.map((p) => p.pixels)), grids };
}

/** Token ids of a response text followed by the end-of-text token (the stop the model must learn). */
export function encodeResponse(enc: Encoder, response: string): number[] {
  return [...enc.tok.encode(response), enc.tok.special.endOfText];
}

/** Stop tokens of GLM-V generation: end of text, or the start of a next user / observation turn. */
export function stopTokenIds(tok: GlmvTokenizer): number[] {
  return [tok.special.endOfText, tok.special.user, tok.special.observation];
}

/**
 * Media placeholder ids (`<|image|>`, `<|video|>` and their begin/end markers): a sampled one has no image behind
 * it, so generation bans them and an update cannot replay them.
 */
export function mediaTokenIds(tok: Pick<GlmvTokenizer, "special">): number[] {
  const s = tok.special;
  return [s.image, s.video, s.beginImage, s.endImage, s.beginVideo, s.endVideo];
}

/**
 * Right-pad a row to `length` with `padId` (mask value 0 on pads). Throws `bad_input` when it is too long.
 * @example padRow([1, 2], 4, 0) // { ids: [1,2,0,0], mask: [1,1,0,0] }
 */
export function padRow(
  ids: readonly number[],
  length: number,
  padId: number,
): { ids: number[]; mask: number[] } {
  if (ids.length > length)
    throw new GlmvError("bad_input", `row of ${ids.length} tokens exceeds the fixed length ${length}`);
  const pad = length - ids.length;
  return {
    ids: [...ids, ...new Array<number>(pad).fill(padId)],
    mask: [...ids.map(() => 1), ...new Array<number>(pad).fill(0)],
  };
}
