/**
 * `POST /v1/chat/completions` bodies (the OpenAI wire format, with the vLLM/SGLang extras harnesses send) as
 * glmv chat requests, and chat results as OpenAI responses. Pure apart from reading images: data URLs always,
 * `file://` URLs only under the folder the server allows (as vLLM's `--allowed-local-media-path`), never the
 * network.
 */
import { randomBytes, randomInt } from "node:crypto";
import { readFile, realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { ChatImage, ChatRequest, ChatResult } from "../model/chat-generate.ts";
import type { ChatMessage, ContentItem } from "../model/chat-template.ts";
import { decodeImage } from "../model/processor.ts";
import { NOTHINK, SPECIAL_TOKENS } from "../model/special-tokens.ts";
import { GlmvError } from "../util/errors.ts";
import { parseBody } from "./reward-requests.ts";

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const ImagePart = z.object({
  type: z.literal("image_url"),
  image_url: z.union([z.string(), z.object({ url: z.string(), detail: z.string().optional() })]),
});
const Part = z.discriminatedUnion("type", [TextPart, ImagePart]);
const Message = z.object({
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string(), z.array(Part)]).nullish(),
  reasoning_content: z.string().nullish(),
});

/** The fields glmv reads; others an OpenAI client may send (`logprobs`, `user`, …) are ignored. */
export const ChatCompletionBody = z.object({
  model: z.string().nullish(),
  messages: z.array(Message).min(1),
  max_tokens: z.int().min(1).nullish(),
  max_completion_tokens: z.int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  /** vLLM: -1 (or 0) = off. */
  top_k: z.int().min(-1).nullish(),
  seed: z.int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  n: z.literal(1, { error: "only n = 1 is served" }).nullish(),
  stream: z.literal(false, { error: "streaming is not served; send stream: false" }).nullish(),
  chat_template_kwargs: z.object({ enable_thinking: z.boolean().optional() }).nullish(),
  continue_final_message: z.boolean().nullish(),
  add_generation_prompt: z.boolean().nullish(),
  skip_special_tokens: z.boolean().nullish(),
  /** glmv: force-answer after this many new tokens (the model injects `</think>`; 4.1V also `<answer>`). */
  think_budget: z.int().min(0).nullish(),
});
export type ChatCompletionBody = z.infer<typeof ChatCompletionBody>;

/** Server-side limits and sources a request is read against. */
export type RequestLimits = {
  /** Most new tokens a request may ask for. */
  maxTokens: number;
  /** New tokens when the request names none. */
  defaultMaxTokens: number;
  /** The only folder `file://` image URLs may point into; none = file URLs refused. */
  allowedMediaPath?: string | undefined;
};

const bad = (message: string, where: string) => new GlmvError("bad_input", message, { where });

/**
 * A validated body as a chat request (images read and decoded; errors name the field, e.g.
 * `messages.0.content.1.image_url`).
 * @example const request = await chatRequestOfBody(body, { maxTokens: 8192, defaultMaxTokens: 1024 });
 */
export async function chatRequestOfBody(raw: unknown, limits: RequestLimits): Promise<ChatRequest> {
  const body = parseBody(ChatCompletionBody, raw);
  const maxField = body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? limits.defaultMaxTokens;
  if (maxTokens > limits.maxTokens)
    throw bad(`${maxField} is ${maxTokens}; this server allows at most ${limits.maxTokens}`, maxField);
  const images: ChatImage[] = [];
  const messages: ChatMessage[] = [];
  for (const [i, m] of body.messages.entries()) {
    const content: ContentItem[] = [];
    const parts =
      typeof m.content === "string" ? [{ type: "text" as const, text: m.content }] : (m.content ?? []);
    for (const [j, part] of parts.entries()) {
      if (part.type === "text") content.push({ type: "text", text: part.text });
      else {
        const where = `messages.${i}.content.${j}.image_url`;
        if (m.role !== "user") throw bad("only user messages may hold images", where);
        const url = typeof part.image_url === "string" ? part.image_url : part.image_url.url;
        images.push(await readImageUrl(url, where, limits.allowedMediaPath));
        content.push({ type: "image" });
      }
    }
    const role = m.role === "developer" ? "system" : m.role;
    messages.push({
      role,
      content,
      ...(m.role === "assistant" && m.reasoning_content ? { reasoningContent: m.reasoning_content } : {}),
    });
  }
  const last = body.messages.at(-1)!;
  const continueFinal = body.continue_final_message === true || body.add_generation_prompt === false;
  if (continueFinal && last.role !== "assistant") {
    const field = body.continue_final_message === true ? "continue_final_message" : "add_generation_prompt";
    throw bad("continuing needs an assistant message last", field);
  }
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const lastUserText = lastUser ? textOf(lastUser).trimEnd() : "";
  // GLM-4.5V: /nothink at the end of the last user turn switches thinking off, as the kwarg does
  const thinking = (body.chat_template_kwargs?.enable_thinking ?? true) && !lastUserText.endsWith(NOTHINK);
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  return {
    messages,
    images,
    thinking,
    continueFinal,
    maxTokens,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: Math.max(0, body.top_k ?? 0),
    // OpenAI: no seed, a fresh draw each time
    seed: body.seed ?? randomInt(0, 2 ** 31),
    stop,
    skipSpecial: body.skip_special_tokens ?? false,
    ...(body.think_budget != null
      ? { thinkBudget: body.think_budget, answerTokens: Math.max(0, maxTokens - body.think_budget) }
      : {}),
  };
}

const textOf = (m: ChatMessage) =>
  typeof m.content === "string"
    ? m.content
    : m.content.map((p) => (p.type === "text" ? p.text : "")).join("");

/** Bytes of an image URL, decoded (so a bad image is a 422 naming its field, not a failure inside a batch). */
async function readImageUrl(url: string, where: string, allowed: string | undefined): Promise<ChatImage> {
  let bytes: Uint8Array;
  if (url.startsWith("data:")) bytes = dataUrlBytes(url, where);
  else if (url.startsWith("file:")) bytes = await localFileBytes(url, where, allowed);
  else
    throw bad(
      "only data: URLs (and file: URLs the server allows) are read; remote URLs are not fetched",
      where,
    );
  try {
    return await decodeImage(bytes);
  } catch (e) {
    throw new GlmvError("image_invalid", (e as Error).message, { where, cause: e });
  }
}

/** The payload of a `data:[mime][;base64],…` URL. */
export function dataUrlBytes(url: string, where: string): Uint8Array {
  const comma = url.indexOf(",");
  if (comma < 0) throw bad("a data URL needs a comma before its payload", where);
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  if (meta.split(";").includes("base64")) return new Uint8Array(Buffer.from(payload, "base64"));
  return new Uint8Array(Buffer.from(decodeURIComponent(payload), "latin1"));
}

async function localFileBytes(url: string, where: string, allowed: string | undefined): Promise<Uint8Array> {
  if (allowed === undefined)
    throw bad("file: URLs are refused unless the server runs with --allowed-local-media-path", where);
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (e) {
    throw bad(`not a file URL: ${(e as Error).message}`, where);
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new GlmvError("not_found", "no such image file", { where });
  }
  const root = await realpath(resolve(allowed));
  const rel = relative(root, real);
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw bad("file is outside --allowed-local-media-path", where);
  return new Uint8Array(await readFile(real));
}

/** How the answer's thinking is reported: kept in `content` (default), or split out as vLLM's GLM parser does. */
export const REASONING_PARSERS = ["none", "glm45"] as const;
export type ReasoningParser = (typeof REASONING_PARSERS)[number];

/**
 * vLLM's GLM-4.5 reasoning parser: with both `<think>` and `</think>` in the text, the reasoning is what lies between
 * them and the content what follows (null when empty); otherwise everything is content.
 * @example splitGlmReasoning("<think>r</think>\nA") // { reasoning: "r", content: "\nA" }
 */
export function splitGlmReasoning(text: string): { reasoning: string | null; content: string | null } {
  const open = SPECIAL_TOKENS.thinkStart;
  const close = SPECIAL_TOKENS.thinkEnd;
  if (!text.includes(open) || !text.includes(close)) return { reasoning: null, content: text };
  const afterOpen = text.slice(text.indexOf(open) + open.length);
  const end = afterOpen.indexOf(close);
  if (end < 0) return { reasoning: null, content: afterOpen };
  const content = afterOpen.slice(end + close.length);
  return { reasoning: afterOpen.slice(0, end), content: content === "" ? null : content };
}

/**
 * The OpenAI `chat.completion` object of a result.
 * @example completionBody(result, { model: "glmv", reasoningParser: "none" }).choices[0].message.content
 */
export function completionBody(result: ChatResult, o: { model: string; reasoningParser: ReasoningParser }) {
  const split =
    o.reasoningParser === "glm45"
      ? splitGlmReasoning(result.text)
      : { reasoning: null, content: result.text };
  return {
    id: `chatcmpl-${randomBytes(12).toString("hex")}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: o.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: split.content, reasoning_content: split.reasoning },
        finish_reason: result.finishReason,
        logprobs: null,
        /** glmv: the thinking budget ran out and the model's `</think>` was injected. */
        forced_answer: result.forcedAnswer,
      },
    ],
    usage: {
      prompt_tokens: result.promptTokens,
      completion_tokens: result.completionTokens,
      total_tokens: result.promptTokens + result.completionTokens,
    },
  };
}
