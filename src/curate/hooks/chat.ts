/**
 * A client for OpenAI-compatible `POST /v1/chat/completions` with image parts (vLLM, SGLang, LMDeploy, hosted
 * APIs): for recaptioning, taxonomy tags and other model-judged stages.
 */
import { z } from "zod";
import { GlmvError } from "../../util/errors.ts";
import { Limiter, requestJson } from "../../util/http-json.ts";
import { imageDataUrl } from "./data-url.ts";
import { authHeaders, HookEndpoint, retryPolicyOf } from "./http.ts";

export const ChatHook = HookEndpoint.extend({
  maxTokens: z.number().int().positive().default(512),
  /** 0 by default: a curation pass should say the same thing when rerun. */
  temperature: z.number().min(0).max(2).default(0),
}).strict();
export type ChatHook = z.infer<typeof ChatHook>;

export type ChatPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };
export type ChatMessage = { role: "system" | "user" | "assistant"; content: string | ChatPart[] };
export type ChatAnswer = { text: string; finishReason: string | null };

/** An image as a chat content part (inline, as a `data:` URL). */
export const imagePart = (bytes: Uint8Array): ChatPart => ({
  type: "image_url",
  image_url: { url: imageDataUrl(bytes) },
});

/** A text chat content part. */
export const textPart = (text: string): ChatPart => ({ type: "text", text });

const ChatReply = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional() }),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
});

export type ChatClient = { complete(messages: ChatMessage[], signal?: AbortSignal): Promise<ChatAnswer> };

/**
 * A client for one chat endpoint. `complete` resolves to the first choice's text (empty if the model said
 * nothing) and throws `engine_error` when the server cannot be reached or answers out of shape.
 * @example
 * const chat = createChatClient(ChatHook.parse({ url: "http://localhost:8000/v1", model: "glm-4.5v" }));
 * const { text } = await chat.complete([{ role: "user", content: [imagePart(jpeg), textPart("Describe it.")] }]);
 */
export function createChatClient(hook: ChatHook): ChatClient {
  const url = `${hook.url.replace(/\/+$/, "")}/chat/completions`;
  const limiter = new Limiter(hook.concurrency);
  const retry = retryPolicyOf(hook);
  const headers = authHeaders(hook);
  return {
    async complete(messages, signal) {
      const body = {
        model: hook.model,
        messages,
        max_tokens: hook.maxTokens,
        temperature: hook.temperature,
      };
      const { body: raw } = await requestJson({ method: "POST", url, body, retry, headers, limiter, signal });
      const parsed = ChatReply.safeParse(raw);
      if (!parsed.success)
        throw new GlmvError("engine_error", "chat reply has no choices[0].message", { where: url });
      const choice = parsed.data.choices[0]!;
      return { text: choice.message.content ?? "", finishReason: choice.finish_reason ?? null };
    },
  };
}
