/**
 * `recaption`: factual recaptioning (paper §3.1): a vision-language model behind an OpenAI-compatible chat endpoint
 * rewrites each caption from the image, with the original caption in the prompt so its facts (names, numbers,
 * places, text) survive and nothing is invented. The original goes to `fields.originalCaption`. An empty answer or a
 * failed call keeps the original caption and says why in `fields.recaptionError`; the item is never dropped.
 */
import { z } from "zod";
import { ChatHook, createChatClient, imagePart, textPart } from "../../hooks/chat.ts";
import { firstImage } from "../../image/decode.ts";
import { keep, type StageDef } from "../../stage.ts";
import { textField, withFields } from "./common.ts";

export const DEFAULT_RECAPTION_PROMPT = `Here is an image and the caption it came with:
"{caption}"
Write one factual caption of this image. Keep every fact of the original caption that the image does not contradict
(names, numbers, places, dates, visible text), add what is plainly visible (objects, colours, layout, text in the
image), and invent nothing you cannot see. Answer with the caption alone.`;

export const RecaptionOptions = z.strictObject({
  hook: ChatHook,
  /** The field holding the caption (read, then replaced). */
  field: z.string().default("caption"),
  /** The user prompt; `{caption}` is replaced by the original caption. */
  prompt: z.string().default(DEFAULT_RECAPTION_PROMPT),
  /** An optional system message. */
  system: z.string().optional(),
});
export type RecaptionOptions = z.infer<typeof RecaptionOptions>;

/** The model's answer as a caption: trimmed, a "Caption:" lead-in and wrapping quotes removed. */
export const cleanCaption = (text: string): string =>
  text
    .trim()
    .replace(/^(?:\*\*)?caption(?:\*\*)?\s*:\s*/i, "")
    .replace(/^"(.*)"$/s, "$1")
    .trim();

export const recaption: StageDef<RecaptionOptions> = {
  name: "recaption",
  summary:
    "rewrite captions from the image with a chat model, keeping the original's facts (original kept too)",
  options: RecaptionOptions,
  async open(o) {
    const chat = createChatClient(o.hook);
    return {
      async process(item, { signal }) {
        const original = textField(item, o.field);
        const image = firstImage(item);
        const prompt = o.prompt.replaceAll("{caption}", original);
        const content = image ? [imagePart(image.bytes), textPart(prompt)] : [textPart(prompt)];
        const messages = [
          ...(o.system ? [{ role: "system" as const, content: o.system }] : []),
          { role: "user" as const, content },
        ];
        let recaptionError: string | undefined;
        let caption = "";
        try {
          const answer = await chat.complete(messages, signal);
          caption = cleanCaption(answer.text);
          if (!caption) recaptionError = `empty answer (finish_reason ${answer.finishReason ?? "none"})`;
        } catch (e) {
          recaptionError = (e as Error).message;
        }
        if (recaptionError) return keep(withFields(item, { originalCaption: original, recaptionError }));
        return keep(withFields(item, { [o.field]: caption, originalCaption: original }));
      },
    };
  },
};
