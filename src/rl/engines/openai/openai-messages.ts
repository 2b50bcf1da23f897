/**
 * PolicyPrompt → OpenAI chat messages (integrations.md §4.2): text parts stay text, each `{type: "image"}` item takes
 * the prompt's next image as an `image_url` part holding a PNG data URL. vLLM and SGLang then run the model's own
 * chat template and image processor on the server side.
 */

import { encodePng } from "../../../data/tasks/png.ts";
import type { ChatMessage, ContentItem } from "../../../model/chat-template.ts";
import { type RawImage, toRgb } from "../../../model/processor.ts";
import { GlmvError } from "../../../util/errors.ts";
import type { PolicyPrompt } from "../../loop/policy.ts";

/** A content part of an OpenAI chat message. */
export type OpenAIContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } };

/** An OpenAI chat message as sent on the wire. */
export type OpenAIMessage = {
  role: "system" | "user" | "assistant" | "tool";
  content: string | OpenAIContentPart[];
};

/**
 * A PNG data URL of a raw image (grey/alpha images are converted to RGB first, as the processor does).
 * @example
 * await imageDataUrl({ data: new Uint8Array(12), width: 2, height: 2, channels: 3 }); // "data:image/png;base64,iVBOR…"
 */
export async function imageDataUrl(img: RawImage): Promise<string> {
  const png = await encodePng({ width: img.width, height: img.height, data: toRgb(img) });
  return `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
}

/**
 * Convert one prompt into OpenAI chat messages. Images are consumed in order; a prompt whose image items and
 * images disagree in number, or that holds a video item, is `bad_input`.
 * @example
 * await toOpenAIMessages({ id: "q1", images: [img], messages: [{ role: "user",
 *   content: [{ type: "image" }, { type: "text", text: "How many?" }] }] });
 * // [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,…" } },
 * //   { type: "text", text: "How many?" }] }]
 */
export async function toOpenAIMessages(prompt: PolicyPrompt): Promise<OpenAIMessage[]> {
  const urls = await Promise.all(prompt.images.map(imageDataUrl));
  let next = 0;
  const takeImage = (): string => {
    const url = urls[next++];
    if (url === undefined) {
      throw new GlmvError("bad_input", `prompt has more image items than images (${urls.length})`, {
        where: `prompt ${prompt.id}`,
      });
    }
    return url;
  };
  const messages = prompt.messages.map((m) => toOpenAIMessage(m, takeImage, prompt.id));
  if (next !== urls.length) {
    throw new GlmvError("bad_input", `prompt has ${urls.length} images but ${next} image items`, {
      where: `prompt ${prompt.id}`,
    });
  }
  return messages;
}

function toOpenAIMessage(m: ChatMessage, takeImage: () => string, promptId: string): OpenAIMessage {
  // GLM's "observation" turn is a tool result; OpenAI-compatible servers render role "tool" as `<|observation|>`.
  const role = m.role === "observation" ? "tool" : m.role;
  if (typeof m.content === "string") return { role, content: m.content };
  const hasImage = m.content.some((c) => c.type === "image");
  if (!hasImage && m.content.every((c) => c.type === "text")) {
    return { role, content: m.content.map((c) => (c as { text: string }).text).join("") };
  }
  return { role, content: m.content.map((c) => toPart(c, takeImage, promptId)) };
}

function toPart(item: ContentItem, takeImage: () => string, promptId: string): OpenAIContentPart {
  if (item.type === "text") return { type: "text", text: item.text };
  if (item.type === "image") return { type: "image_url", image_url: { url: takeImage() } };
  throw new GlmvError("bad_input", `content item '${item.type}' has no OpenAI form here (images only)`, {
    where: `prompt ${promptId}`,
  });
}
