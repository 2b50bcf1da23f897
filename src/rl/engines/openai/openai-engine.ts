/**
 * Rollouts from any OpenAI-compatible chat server (vLLM, SGLang, hosted APIs): integrations.md §4.
 *
 * One request per prompt asks for all `n` samples. Images go as PNG data URLs. Thinking is switched with
 * `chat_template_kwargs.enable_thinking`. Reasoning may come back separately (`--reasoning-parser glm45` →
 * `reasoning_content`, or `reasoning` in newer vLLM) or inline in `content`; either way the rollout text is the raw
 * `<think>…</think>…` the reward's format gate reads. Token ids come from vLLM's `return_token_ids`, logprobs from
 * `logprobs: true`.
 *
 * Force-answering (design.md, RL rollouts): the first request stops at `thinkBudget` tokens. A sample cut there
 * without `</think>` is continued by a second request whose final assistant message is the text so far plus the
 * injected `</think>` (and `<answer>` in the 4.1V style), sent with `continue_final_message: true,
 * add_generation_prompt: false`. A sample cut after `</think>` is continued without injection.
 */
import { z } from "zod";
import { SPECIAL_TOKENS } from "../../../model/special-tokens.ts";
import { GlmvError } from "../../../util/errors.ts";
import { Limiter, requestJson } from "../../../util/http-json.ts";
import type { Policy, PolicyPrompt, Rollout, RolloutParams } from "../../loop/policy.ts";
import { type OpenAIMessage, toOpenAIMessages } from "./openai-messages.ts";

export const OpenAIEngineConfig = z.object({
  /** Base URL including the version prefix, e.g. `http://localhost:8000/v1`. */
  baseUrl: z.string().url(),
  /** The served model name (`--served-model-name`). */
  model: z.string().min(1),
  apiKey: z.string().optional(),
  /** Requests in flight at once, over all prompts and continuations. */
  concurrency: z.number().int().positive().default(8),
  maxRetries: z.number().int().min(0).default(4),
  backoffMs: z.number().min(0).default(500),
  maxBackoffMs: z.number().min(0).default(20_000),
  /** One attempt's limit; long generations on big models need minutes. */
  timeoutMs: z.number().positive().default(600_000),
  /** Sent as `chat_template_kwargs.enable_thinking` when set (GLM-4.5V's switch; 4.1V always thinks). */
  enableThinking: z.boolean().optional(),
  logprobs: z.boolean().default(true),
  /** vLLM/SGLang extras: `return_token_ids`, `skip_special_tokens: false`. Off for hosted APIs that reject them. */
  serverExtras: z.boolean().default(true),
  /** "continue": force-answer with a continuation request; "off": one request of `maxNewTokens`. */
  forceAnswer: z.enum(["continue", "off"]).default("continue"),
  /** Ids of `</think>` and `<answer>`, used when the server does not return the continuation's prompt ids. */
  injectedTokenIds: z.object({ thinkEnd: z.number().int(), answerStart: z.number().int() }).optional(),
});
export type OpenAIEngineConfig = z.input<typeof OpenAIEngineConfig>;

/** Counters, for logs and tests. */
export type OpenAIEngineStats = { requests: number; retries: number; continuations: number };

/** The parts of a chat completion choice this engine reads. */
type WireChoice = {
  message?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null };
  finish_reason?: string | null;
  token_ids?: number[] | null;
  logprobs?: { content?: { token?: string; logprob: number }[] | null } | null;
};
type WireCompletion = {
  choices?: WireChoice[];
  prompt_token_ids?: number[] | null;
  usage?: { prompt_tokens?: number };
};

/** One request's sample, as raw text with what is known of its tokens. */
type Piece = { text: string; tokens?: number[]; logprobs?: number[]; finishReason: string };

/**
 * @example
 * const engine = new OpenAIRolloutEngine({ baseUrl: "http://localhost:8000/v1", model: "glm-4.5v" });
 * const groups = await engine.generate(prompts, { n: 8, temperature: 1, topP: 1, maxNewTokens: 2048,
 *   thinkBudget: 1536, style: "4.5v", seed: 7 });
 */
export class OpenAIRolloutEngine {
  readonly config: z.output<typeof OpenAIEngineConfig>;
  readonly stats: OpenAIEngineStats = { requests: 0, retries: 0, continuations: 0 };
  private readonly limiter: Limiter;

  constructor(config: OpenAIEngineConfig) {
    const parsed = OpenAIEngineConfig.safeParse(config);
    if (!parsed.success) throw new GlmvError("bad_config", `openai engine: ${parsed.error.message}`);
    this.config = parsed.data;
    this.limiter = new Limiter(this.config.concurrency);
  }

  /** Most requests ever in flight together (never above `concurrency`). */
  get peakConcurrency(): number {
    return this.limiter.peak;
  }

  /** G samples for each prompt, grouped per prompt in input order. */
  async generate(prompts: readonly PolicyPrompt[], params: RolloutParams): Promise<Rollout[][]> {
    return Promise.all(prompts.map((p, i) => this.generateOne(p, params, i)));
  }

  private async generateOne(prompt: PolicyPrompt, params: RolloutParams, index: number): Promise<Rollout[]> {
    const messages = await toOpenAIMessages(prompt);
    const forcing = this.config.forceAnswer === "continue" && params.thinkBudget < params.maxNewTokens;
    const firstBudget = forcing ? params.thinkBudget : params.maxNewTokens;
    const first = await this.complete(messages, params, {
      n: params.n,
      maxTokens: firstBudget,
      seed: mixSeed(params.seed, index, 0),
    });
    const choices = first.choices ?? [];
    if (choices.length !== params.n) {
      throw new GlmvError("engine_error", `asked for ${params.n} samples, got ${choices.length}`, {
        where: `prompt ${prompt.id}`,
      });
    }
    const promptIds = first.prompt_token_ids ?? undefined;
    const promptTokens = promptIds?.length ?? first.usage?.prompt_tokens ?? 0;
    return Promise.all(
      choices.map(async (choice, j) => {
        const head = readPiece(choice, false);
        const base = { promptId: prompt.id, promptTokens };
        if (!forcing || head.finishReason !== "length") return assemble(base, [head], []);
        const { thinkEnd, answerStart } = SPECIAL_TOKENS;
        const inject = !head.text.includes(thinkEnd);
        const injectedText = inject ? (params.style === "4.1v" ? `${thinkEnd}${answerStart}` : thinkEnd) : "";
        const injectedCount = inject ? (params.style === "4.1v" ? 2 : 1) : 0;
        const remaining = params.maxNewTokens - firstBudget - injectedCount;
        if (remaining <= 0) return assemble(base, [head], []);
        this.stats.continuations++;
        const cont = await this.complete(
          [...messages, { role: "assistant", content: head.text + injectedText }],
          params,
          { n: 1, maxTokens: remaining, seed: mixSeed(params.seed, index, j + 1), continueFinal: true },
        );
        const tailChoice = cont.choices?.[0];
        if (!tailChoice)
          throw new GlmvError("engine_error", "continuation returned no choice", { where: prompt.id });
        const tailPiece = readPiece(tailChoice, true);
        const tail = { ...tailPiece, text: injectedText + tailPiece.text };
        const injectedIds = inject
          ? this.injectedIds(params.style, promptIds, head, cont.prompt_token_ids)
          : [];
        return assemble(base, [head, tail], injectedIds);
      }),
    );
  }

  /** The injected ids: the continuation prompt's tail after prompt + head when the server returns prompt ids. */
  private injectedIds(
    style: RolloutParams["style"],
    promptIds: number[] | undefined,
    head: Piece,
    contPromptIds: number[] | null | undefined,
  ): number[] | undefined {
    if (promptIds && head.tokens && contPromptIds) {
      const known = [...promptIds, ...head.tokens];
      if (known.every((t, i) => contPromptIds[i] === t)) return contPromptIds.slice(known.length);
    }
    const ids = this.config.injectedTokenIds;
    if (!ids) return undefined;
    return style === "4.1v" ? [ids.thinkEnd, ids.answerStart] : [ids.thinkEnd];
  }

  private async complete(
    messages: OpenAIMessage[],
    params: RolloutParams,
    call: { n: number; maxTokens: number; seed: number; continueFinal?: boolean },
  ): Promise<WireCompletion> {
    const c = this.config;
    const body: Record<string, unknown> = {
      model: c.model,
      messages,
      n: call.n,
      max_tokens: call.maxTokens,
      temperature: params.temperature,
      top_p: params.topP,
      seed: call.seed,
      logprobs: c.logprobs,
    };
    if (c.enableThinking !== undefined) body.chat_template_kwargs = { enable_thinking: c.enableThinking };
    if (c.serverExtras) Object.assign(body, { return_token_ids: true, skip_special_tokens: false });
    if (call.continueFinal)
      Object.assign(body, { continue_final_message: true, add_generation_prompt: false });
    this.stats.requests++;
    const { body: reply } = await requestJson({
      method: "POST",
      url: `${c.baseUrl.replace(/\/+$/, "")}/chat/completions`,
      body,
      ...(c.apiKey ? { headers: { authorization: `Bearer ${c.apiKey}` } } : {}),
      retry: {
        maxRetries: c.maxRetries,
        backoffMs: c.backoffMs,
        maxBackoffMs: c.maxBackoffMs,
        timeoutMs: c.timeoutMs,
      },
      limiter: this.limiter,
      onRetry: () => {
        this.stats.retries++;
      },
    });
    if (!reply || typeof reply !== "object")
      throw new GlmvError("engine_error", "chat completion reply is not an object");
    return reply as WireCompletion;
  }
}

/**
 * A `Policy` for rollout-only use (evaluation, data generation): `generate` goes to the engine; `update`, `save`
 * and `load` throw `engine_error`, since an OpenAI-compatible server cannot train.
 * @example
 * const policy = rolloutOnlyPolicy(new OpenAIRolloutEngine({ baseUrl, model: "glm-4.1v" }));
 */
export function rolloutOnlyPolicy(engine: Pick<OpenAIRolloutEngine, "generate">, name = "openai"): Policy {
  const cannot = (what: string) => async (): Promise<never> => {
    throw new GlmvError(
      "engine_error",
      `the ${name} engine is rollout-only: it cannot ${what} (use a local or tinker policy)`,
    );
  };
  return {
    generate: (prompts, params) => engine.generate(prompts, params),
    update: cannot("update"),
    save: cannot("save"),
    load: cannot("load"),
    dispose: () => {},
  };
}

/** Raw text of a choice: separated reasoning is put back between `<think>` tags (continuations are raw tails). */
function readPiece(choice: WireChoice, continuation: boolean): Piece {
  const finishReason = choice.finish_reason ?? "stop";
  const content = choice.message?.content ?? "";
  const reasoning = choice.message?.reasoning_content ?? choice.message?.reasoning ?? null;
  let text: string;
  if (continuation || reasoning === null) text = (reasoning ?? "") + content;
  else {
    // A sample cut while still thinking has no content yet, and its `</think>` was never written.
    const thinkingDone = content.length > 0 || finishReason !== "length";
    text = `<think>${reasoning}${thinkingDone ? `</think>${content}` : ""}`;
  }
  const entries = choice.logprobs?.content ?? undefined;
  const logprobs = entries?.map((e) => e.logprob);
  const tokens = choice.token_ids ?? tokensFromLogprobs(entries);
  return { text, finishReason, ...(tokens ? { tokens } : {}), ...(logprobs ? { logprobs } : {}) };
}

/** vLLM's `return_tokens_as_token_ids` writes each token as `token_id:123`. */
function tokensFromLogprobs(entries: { token?: string }[] | undefined): number[] | undefined {
  if (!entries || entries.length === 0) return undefined;
  const ids = entries.map((e) => /^token_id:(\d+)$/.exec(e.token ?? "")?.[1]);
  return ids.every((id) => id !== undefined) ? ids.map(Number) : undefined;
}

/**
 * Join pieces into a rollout. Token arrays are all-or-nothing: if any piece's ids (or the injected ids) are unknown,
 * `tokens`, `logprobs` and `injected` are empty and only the text is kept. Unknown logprobs of known tokens are 0.
 */
function assemble(
  base: { promptId: string; promptTokens: number },
  pieces: Piece[],
  injectedIds: number[] | undefined,
): Rollout {
  const last = pieces[pieces.length - 1]!;
  const text = pieces.map((p) => p.text).join("");
  const finished = last.finishReason === "stop" || last.finishReason === "tool_calls";
  const known = injectedIds !== undefined && pieces.every((p) => p.tokens !== undefined);
  if (!known) return { ...base, text, finished, tokens: [], logprobs: [], injected: [] };
  const tokens: number[] = [];
  const logprobs: number[] = [];
  const injected: boolean[] = [];
  pieces.forEach((p, i) => {
    if (i === 1) {
      tokens.push(...injectedIds);
      for (const _ of injectedIds) {
        logprobs.push(0);
        injected.push(true);
      }
    }
    const ids = p.tokens ?? [];
    tokens.push(...ids);
    ids.forEach((_, k) => {
      logprobs.push(p.logprobs?.[k] ?? 0);
      injected.push(false);
    });
  });
  return { ...base, text, finished, tokens, logprobs, injected };
}

/** A per-request seed from the call's seed, the prompt index and the request number (distinct, deterministic). */
export function mixSeed(seed: number, prompt: number, request: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (prompt + 0x27d4eb2f), 0xc2b2ae35);
  h = Math.imul(h ^ (request + 0x165667b1), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 1; // non-negative 31-bit: some servers reject negative or 64-bit seeds
}
