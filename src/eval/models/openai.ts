/**
 * A `ModelClient` for any OpenAI-compatible chat server (vLLM, SGLang, hosted APIs): `POST {base}/chat/completions`
 * with the item's images as data URLs, thinking switched by `chat_template_kwargs.enable_thinking` (plus the 4.5V
 * style's `/nothink`), and `skip_special_tokens: false` so GLM's box markers survive to the extractor.
 *
 * Force-answering (paper §6): a thinking reply cut by the token budget before `</think>` is continued by a second
 * request whose final assistant message is the text so far plus `</think><answer>` (`</think>` in the 4.5V style,
 * which has no `<answer>`), sent with `continue_final_message: true, add_generation_prompt: false` as vLLM and
 * SGLang accept. The result is flagged `forcedAnswer`.
 *
 * One call is one attempt: the runner owns timeouts and retries, and this client says which failures are worth
 * another try (`ModelRequestError.retryable`).
 */
import { z } from "zod";
import { SPECIAL_TOKENS } from "../../model/special-tokens.ts";
import { GlmvError } from "../../util/errors.ts";
import type { GenerationRequest, GenerationResult, ModelClient } from "../model-client.ts";
import { ModelRequestError } from "../retry.ts";
import { type HttpReply, sendHttp } from "./http-send.ts";
import { DEFAULT_MAX_PIXELS, type OpenAIMessage, userMessage } from "./openai-messages.ts";

export const OpenAIClientConfig = z.object({
  /** Base URL including the version prefix, e.g. `http://localhost:8000/v1`. */
  baseUrl: z.string().url(),
  /** The served model name (`--served-model-name`). */
  model: z.string().min(1),
  apiKey: z.string().min(1).optional(),
  /** 4.1V writes `<think>…</think><answer>…</answer>`; 4.5V has no `<answer>` and takes `/nothink`. */
  style: z.enum(["4.1v", "4.5v"]).default("4.1v"),
  /** Images above this width × height are downscaled before sending. */
  maxPixels: z.number().int().positive().default(DEFAULT_MAX_PIXELS),
  /** New tokens of the force-answer continuation; 0 turns force-answering off. */
  forceAnswerTokens: z.number().int().min(0).default(1024),
  /** vLLM/SGLang extras (`chat_template_kwargs`, `skip_special_tokens`); off for hosted APIs that reject them. */
  serverExtras: z.boolean().default(true),
});
export type OpenAIClientConfig = z.input<typeof OpenAIClientConfig>;

type WireChoice = {
  message?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null };
  finish_reason?: string | null;
};
type WireCompletion = { choices?: WireChoice[]; usage?: { completion_tokens?: number } };

const trimSlash = (url: string) => url.replace(/\/+$/, "");

/**
 * @example
 * const client = new OpenAIModelClient({ baseUrl: "http://localhost:8000/v1", model: "glm-4.1v" });
 * const { text } = await client.generate({ prompt: "2+2?", images: [], thinking: true, maxTokens: 8192,
 *   temperature: 0, seed: 1 });
 */
export class OpenAIModelClient implements ModelClient {
  readonly id: string;
  readonly config: z.output<typeof OpenAIClientConfig>;
  /** Requests sent (continuations included), for tests and the run summary. */
  requests = 0;

  constructor(config: OpenAIClientConfig) {
    const parsed = OpenAIClientConfig.safeParse(config);
    if (!parsed.success) throw new GlmvError("bad_config", `openai model client: ${parsed.error.message}`);
    this.config = parsed.data;
    this.id = `openai:${trimSlash(this.config.baseUrl)}#${this.config.model}`;
  }

  /** Client settings that change what is sent: part of the response cache key. */
  get settings(): Record<string, unknown> {
    const { style, maxPixels, forceAnswerTokens, serverExtras } = this.config;
    return { style, maxPixels, forceAnswerTokens, serverExtras };
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const c = this.config;
    const messages = [await userMessage(request, c)];
    const body: Record<string, unknown> = {
      model: c.model,
      messages,
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      seed: request.seed,
    };
    if (c.serverExtras) {
      body.chat_template_kwargs = { enable_thinking: request.thinking };
      body.skip_special_tokens = false;
    }
    const first = await this.complete(body, request.signal);
    const head = readChoice(first, false);
    const { thinkEnd, answerStart } = SPECIAL_TOKENS;
    const stillThinking = request.thinking && head.finishReason === "length" && !head.text.includes(thinkEnd);
    if (!stillThinking || c.forceAnswerTokens === 0) {
      return { text: head.text, finishReason: head.finishReason, forcedAnswer: false, ...tokens(first) };
    }
    const prefix = head.text + (c.style === "4.1v" ? thinkEnd + answerStart : thinkEnd);
    const assistant: OpenAIMessage = { role: "assistant", content: prefix };
    const cont = await this.complete(
      {
        ...body,
        messages: [...messages, assistant],
        max_tokens: c.forceAnswerTokens,
        continue_final_message: true,
        add_generation_prompt: false,
      },
      request.signal,
    );
    const tail = readChoice(cont, true);
    const completionTokens = addTokens(tokens(first).completionTokens, tokens(cont).completionTokens);
    return {
      text: prefix + tail.text,
      finishReason: tail.finishReason,
      forcedAnswer: true,
      ...(completionTokens === undefined ? {} : { completionTokens }),
    };
  }

  private async complete(
    body: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<WireCompletion> {
    this.requests++;
    const url = `${trimSlash(this.config.baseUrl)}/chat/completions`;
    const init = { method: "POST" as const, body: JSON.stringify(body) };
    const reply = await requestJson(url, init, this.config.apiKey, signal);
    if (!reply || typeof reply !== "object" || !Array.isArray((reply as WireCompletion).choices))
      throw new ModelRequestError("chat completion reply has no choices", { retryable: false, where: url });
    return reply as WireCompletion;
  }
}

/** The raw text of the first choice: separated reasoning goes back between `<think>` tags. */
function readChoice(
  reply: WireCompletion,
  continuation: boolean,
): Pick<GenerationResult, "text" | "finishReason"> {
  const choice = reply.choices?.[0];
  if (!choice) throw new ModelRequestError("chat completion reply has no choices", { retryable: false });
  const finishReason = choice.finish_reason === "length" ? "length" : "stop";
  const content = choice.message?.content ?? "";
  const reasoning = choice.message?.reasoning_content ?? choice.message?.reasoning ?? null;
  if (continuation || reasoning === null) return { text: (reasoning ?? "") + content, finishReason };
  // a reply cut while still thinking has no content yet, and its `</think>` was never written
  const thinkingDone = content.length > 0 || finishReason !== "length";
  const { thinkStart, thinkEnd } = SPECIAL_TOKENS;
  return { text: `${thinkStart}${reasoning}${thinkingDone ? `${thinkEnd}${content}` : ""}`, finishReason };
}

const tokens = (reply: WireCompletion): { completionTokens?: number } =>
  typeof reply.usage?.completion_tokens === "number"
    ? { completionTokens: reply.usage.completion_tokens }
    : {};

const addTokens = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a + b;

/** One attempt: a non-2xx is a `ModelRequestError` with its status; a dropped connection is retryable. */
async function requestJson(
  url: string,
  init: { method: "GET" | "POST"; body?: string },
  apiKey: string | undefined,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  let reply: HttpReply;
  try {
    reply = await sendHttp({ ...init, url, headers, ...(signal ? { signal } : {}) });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    const why = (e as { code?: string }).code ?? (e as Error).message;
    throw new ModelRequestError(`${init.method} ${url}: connection failed: ${why}`, {
      retryable: true,
      cause: e,
    });
  }
  const { status, text } = reply;
  if (status < 200 || status >= 300) {
    throw new ModelRequestError(`${init.method} ${url} → HTTP ${status}: ${text.slice(0, 300)}`, { status });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelRequestError(`reply is not JSON: ${text.slice(0, 200)}`, {
      retryable: false,
      where: url,
      cause: e,
    });
  }
}

/**
 * The first model a server lists at `GET {base}/models` (vLLM and SGLang serve one), for specs without `#model`.
 * @example await firstServedModel("http://localhost:8000/v1") // "glm-4.1v"
 */
export async function firstServedModel(baseUrl: string, apiKey?: string): Promise<string> {
  const url = `${trimSlash(baseUrl)}/models`;
  let reply: unknown;
  try {
    reply = await requestJson(url, { method: "GET" }, apiKey, AbortSignal.timeout(30_000));
  } catch (e) {
    throw new GlmvError(
      "bad_argument",
      `cannot list the served models (${(e as Error).message}); name one as openai:URL#model`,
      { where: "--model", cause: e },
    );
  }
  const id = (reply as { data?: { id?: unknown }[] } | null)?.data?.[0]?.id;
  if (typeof id !== "string" || id === "")
    throw new GlmvError("bad_argument", `${url} lists no model; name one as openai:URL#model`, {
      where: "--model",
    });
  return id;
}
