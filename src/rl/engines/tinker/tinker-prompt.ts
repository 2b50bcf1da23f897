/**
 * A policy prompt as Tinker model input: the chat template rendered and tokenized, split at each `<|image|>` into
 * an image chunk (PNG, its placeholder count as `expected_tokens`). `TinkerPolicy` keeps the result per prompt for
 * sampling, scoring and the update.
 */
import { renderChat } from "../../../model/chat-template.ts";
import { type RawImage, smartResize } from "../../../model/processor.ts";
import { SPECIAL_TOKENS } from "../../../model/special-tokens.ts";
import type { GlmvTokenizer } from "../../../model/tokenizer.ts";
import { GlmvError } from "../../../util/errors.ts";
import type { PolicyPrompt, RolloutParams } from "../../loop/policy.ts";
import { imageDataUrl } from "../openai/openai-messages.ts";
import type { ModelInputChunk } from "./tinker-protocol.ts";

/** GLM-V's image placeholder count: merge 2×2 over 14-pixel patches of the smart-resized image. */
export const glmImageTokens = (img: RawImage): number => {
  const [h, w] = smartResize(2, img.height, img.width);
  return (h / 28) * (w / 28);
};

/**
 * A prompt as the Tinker model input: its chunks, its length in model positions, and per position the text token
 * id (null under an image), which the update's next-token targets read.
 */
export type ChunkedPrompt = { chunks: ModelInputChunk[]; length: number; textIds: (number | null)[] };

/** How a prompt is rendered and how many placeholders an image becomes. */
export type PromptEncoding = {
  tokenizer: Pick<GlmvTokenizer, "encode">;
  style: RolloutParams["style"];
  /** GLM-4.5V thinking switch; absent = the template's default. */
  enableThinking?: boolean | undefined;
  /** Placeholder tokens an image becomes; default `glmImageTokens`. */
  imageTokens?: ((img: RawImage) => number) | undefined;
};

/**
 * Render, tokenize and split a prompt at its image placeholders.
 * @example const enc = await chunkPrompt(prompt, { tokenizer, style: "4.1v" }); // enc.chunks → model_input
 */
export async function chunkPrompt(prompt: PolicyPrompt, how: PromptEncoding): Promise<ChunkedPrompt> {
  const text = renderChat(prompt.messages, {
    style: how.style,
    ...(how.enableThinking === undefined ? {} : { enableThinking: how.enableThinking }),
  });
  const pieces = text.split(SPECIAL_TOKENS.image);
  if (pieces.length - 1 !== prompt.images.length) {
    throw new GlmvError(
      "bad_input",
      `prompt has ${pieces.length - 1} image items, ${prompt.images.length} images`,
      { where: prompt.id },
    );
  }
  const chunks: ModelInputChunk[] = [];
  const textIds: (number | null)[] = [];
  const count = how.imageTokens ?? glmImageTokens;
  for (const [i, piece] of pieces.entries()) {
    const ids = how.tokenizer.encode(piece);
    if (ids.length > 0) chunks.push({ type: "encoded_text", tokens: ids });
    textIds.push(...ids);
    const img = prompt.images[i];
    if (img) {
      const n = count(img);
      const data = (await imageDataUrl(img)).slice("data:image/png;base64,".length);
      chunks.push({ type: "image", data, format: "png", expected_tokens: n });
      textIds.push(...new Array<null>(n).fill(null));
    }
  }
  return { chunks, length: textIds.length, textIds };
}
