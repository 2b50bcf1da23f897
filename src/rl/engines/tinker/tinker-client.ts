/**
 * A JSON client of the Tinker training API (trainer-api.md §1): sessions and models, `forward_backward`,
 * `optim_step`, `save_weights_for_sampler`, `asample`, weights save/load, and the futures every mutating call
 * returns (`retrieve_future` polled until a result, re-polled on `{type: "try_again"}` or HTTP 408). It speaks the
 * JSON wire format that SkyRL's Tinker-compatible server and `glmv serve trainer` accept.
 */
import { GlmvError } from "../../../util/errors.ts";
import { DEFAULT_RETRY, type JsonReply, type RetryPolicy, requestJson } from "../../../util/http-json.ts";
import type {
  AdamParams,
  Datum,
  ForwardBackwardOutput,
  LossFn,
  ModelInput,
  OptimStepResponse,
  SampleResponse,
  SamplingParams,
} from "./tinker-protocol.ts";

/** How requests reach the server: HTTP by default, or a direct call into an in-process server (tests, embedding). */
export type TinkerTransport = (method: "GET" | "POST", path: string, body?: unknown) => Promise<JsonReply>;

export type TinkerClientOptions = {
  /** Server root, e.g. `http://localhost:8000` (routes live under `/api/v1`). */
  url?: string;
  apiKey?: string;
  retry?: RetryPolicy;
  transport?: TinkerTransport;
  /** Pause between `try_again` polls. */
  pollIntervalMs?: number;
  /** Give up on a future after this long. */
  futureTimeoutMs?: number;
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null;

/**
 * @example
 * const client = new TinkerClient({ url: "http://localhost:8000" });
 * const session = await client.createSession(["glmv"]);
 * const model = await client.createModel(session, "glmv-tiny", 0); // rank 0: full fine-tuning
 */
export class TinkerClient {
  private readonly transport: TinkerTransport;
  private readonly pollIntervalMs: number;
  private readonly futureTimeoutMs: number;
  /** Per-model request order (`seq_id`). */
  private readonly seq = new Map<string, number>();

  constructor(opts: TinkerClientOptions) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 20;
    this.futureTimeoutMs = opts.futureTimeoutMs ?? 3_600_000;
    if (opts.transport) this.transport = opts.transport;
    else if (opts.url) this.transport = httpTransport(opts.url, opts.retry ?? DEFAULT_RETRY, opts.apiKey);
    else throw new GlmvError("bad_config", "a Tinker client needs a url or a transport");
  }

  async healthz(): Promise<unknown> {
    return this.call("GET", "/healthz");
  }

  async capabilities(): Promise<{ supported_models: { model_name: string; max_context_length?: number }[] }> {
    return (await this.call("GET", "/get_server_capabilities")) as never;
  }

  async createSession(tags: string[] = [], sdkVersion = "glmv"): Promise<string> {
    const reply = await this.call("POST", "/create_session", {
      tags,
      sdk_version: sdkVersion,
      user_metadata: {},
    });
    return field(reply, "session_id");
  }

  /**
   * Open a sampling session on saved weights (`modelPath`) or on a base model; returns its id. A path or model the
   * server does not know (404) is `not_found`, so a caller can say which of its own arguments named it.
   */
  async createSamplingSession(
    sessionId: string,
    target: { modelPath: string } | { baseModel: string | null },
  ): Promise<string> {
    const reply = await this.transport("POST", "/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: 0,
      ...("modelPath" in target ? { model_path: target.modelPath } : { base_model: target.baseModel }),
    });
    const id = isObject(reply.body) ? reply.body.sampling_session_id : undefined;
    if (reply.status >= 400 || typeof id !== "string") {
      const what = "modelPath" in target ? ` on ${target.modelPath}` : "";
      throw new GlmvError(
        reply.status === 404 ? "not_found" : "engine_error",
        `cannot open a sampler${what}: HTTP ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`,
      );
    }
    return id;
  }

  /** Create a trainable model; `loraRank` 0 asks for full fine-tuning (SkyRL, glmv). */
  async createModel(sessionId: string, baseModel: string, loraRank: number, seed?: number): Promise<string> {
    const reply = await this.call("POST", "/create_model", {
      session_id: sessionId,
      model_seq_id: 0,
      base_model: baseModel,
      lora_config: { rank: loraRank, ...(seed === undefined ? {} : { seed }) },
      user_metadata: {},
    });
    if (isObject(reply) && typeof reply.model_id === "string") {
      if (typeof reply.request_id === "string") await this.retrieve(reply.request_id);
      return reply.model_id;
    }
    return field(await this.retrieve(field(reply, "request_id")), "model_id");
  }

  async forwardBackward(
    modelId: string,
    data: Datum[],
    lossFn: LossFn,
    lossFnConfig?: Record<string, number>,
  ): Promise<ForwardBackwardOutput> {
    const input = { data, loss_fn: lossFn, ...(lossFnConfig ? { loss_fn_config: lossFnConfig } : {}) };
    return (await this.future("/forward_backward", modelId, {
      forward_backward_input: input,
    })) as ForwardBackwardOutput;
  }

  async optimStep(modelId: string, adam: AdamParams): Promise<OptimStepResponse> {
    return (await this.future("/optim_step", modelId, { adam_params: adam })) as OptimStepResponse;
  }

  /** Publish the current weights for sampling; returns the sampling session (ephemeral) or the path. */
  async saveWeightsForSampler(
    modelId: string,
    target: { path: string } | { samplingSessionSeqId: number },
  ): Promise<{ path?: string; sampling_session_id?: string }> {
    const body =
      "path" in target ? { path: target.path } : { sampling_session_seq_id: target.samplingSessionSeqId };
    return (await this.future("/save_weights_for_sampler", modelId, body)) as never;
  }

  async saveWeights(modelId: string, path: string): Promise<{ path: string }> {
    return (await this.future("/save_weights", modelId, { path })) as never;
  }

  async loadWeights(modelId: string, path: string, optimizer = true): Promise<unknown> {
    return this.future("/load_weights", modelId, { path, optimizer });
  }

  /**
   * Sample from published weights. With `promptLogprobs` the reply also carries the prompt's teacher-forced
   * logprobs (checked here: one number per position after the first), which is how a sequence is scored without
   * touching the trainer's gradients (Tinker's `compute_logprobs`: `max_tokens: 1` and prompt logprobs).
   */
  async sample(req: {
    prompt: ModelInput;
    numSamples: number;
    params: SamplingParams;
    samplingSessionId: string;
    promptLogprobs?: boolean;
  }): Promise<SampleResponse> {
    const reply = await this.call("POST", "/asample", {
      prompt: req.prompt,
      num_samples: req.numSamples,
      sampling_params: req.params,
      sampling_session_id: req.samplingSessionId,
      seq_id: 0,
      prompt_logprobs: req.promptLogprobs === true,
    });
    const result = (await this.retrieve(field(reply, "request_id"))) as SampleResponse;
    if (req.promptLogprobs) checkPromptLogprobs(result, req.prompt);
    return result;
  }

  /** Unload a model; its `seq_id` lets a server answer a retried unload instead of failing it. */
  async unloadModel(modelId: string): Promise<void> {
    const seqId = (this.seq.get(modelId) ?? 0) + 1;
    this.seq.delete(modelId);
    await this.call("POST", "/unload_model", { model_id: modelId, seq_id: seqId });
  }

  /** Poll a future until it resolves; a failed request (`{error, category}`) is thrown as `engine_error`. */
  async retrieve(requestId: string): Promise<unknown> {
    const deadline = Date.now() + this.futureTimeoutMs;
    for (;;) {
      const reply = await this.transport("POST", "/api/v1/retrieve_future", {
        request_id: requestId,
        allow_metadata_only: false,
      });
      const body = reply.body;
      const pending = reply.status === 408 || (isObject(body) && body.type === "try_again");
      if (!pending) {
        if (reply.status >= 400 || (isObject(body) && typeof body.error === "string" && "category" in body)) {
          const message = isObject(body) ? String(body.error ?? body.detail ?? "") : String(body);
          throw new GlmvError("engine_error", `request ${requestId} failed: ${message}`);
        }
        return body;
      }
      if (Date.now() > deadline) throw new GlmvError("engine_error", `future ${requestId} still pending`);
      await new Promise((r) => setTimeout(r, this.pollIntervalMs));
    }
  }

  private async future(path: string, modelId: string, body: Record<string, unknown>): Promise<unknown> {
    const seqId = (this.seq.get(modelId) ?? 0) + 1;
    this.seq.set(modelId, seqId);
    const reply = await this.call("POST", path, { model_id: modelId, seq_id: seqId, ...body });
    return this.retrieve(field(reply, "request_id"));
  }

  private async call(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    const reply = await this.transport(method, `/api/v1${path}`, body);
    if (reply.status >= 400) {
      throw new GlmvError(
        "engine_error",
        `${path} → HTTP ${reply.status}: ${JSON.stringify(reply.body).slice(0, 300)}`,
      );
    }
    return reply.body;
  }
}

function field(reply: unknown, name: string): string {
  const value = isObject(reply) ? reply[name] : undefined;
  if (typeof value !== "string") {
    throw new GlmvError("engine_error", `reply lacks '${name}': ${JSON.stringify(reply).slice(0, 200)}`);
  }
  return value;
}

/** Positions of a model input, or undefined when an image chunk does not say how many tokens it becomes. */
function inputLength(input: ModelInput): number | undefined {
  let n = 0;
  for (const c of input.chunks) {
    const len = c.type === "encoded_text" ? c.tokens.length : c.expected_tokens;
    if (len === undefined) return undefined;
    n += len;
  }
  return n;
}

/**
 * A reply that was asked for prompt logprobs must carry them: an array with one entry per prompt position, the
 * first null or a number, every other a finite number. Anything else is the server's fault (`engine_error`): a
 * trainer without prompt logprobs (SkyRL's Tinker server has none) cannot score sequences.
 */
function checkPromptLogprobs(reply: SampleResponse, prompt: ModelInput): void {
  const lps: unknown = isObject(reply) ? reply.prompt_logprobs : undefined;
  if (!Array.isArray(lps))
    throw new GlmvError(
      "engine_error",
      `asked for prompt_logprobs, the trainer returned ${lps === undefined ? "none" : JSON.stringify(lps)} ` +
        "(a trainer without prompt logprobs cannot score sequences: run with --offline-difficulty level)",
      { where: "asample.prompt_logprobs" },
    );
  const expected = inputLength(prompt);
  if (expected !== undefined && lps.length !== expected)
    throw new GlmvError(
      "engine_error",
      `prompt_logprobs has ${lps.length} entries for a prompt of ${expected} tokens`,
      { where: "asample.prompt_logprobs" },
    );
  const bad = lps.findIndex((x, i) => !(Number.isFinite(x) || (i === 0 && x === null)));
  if (bad >= 0)
    throw new GlmvError(
      "engine_error",
      `prompt_logprobs[${bad}] is ${JSON.stringify(lps[bad])}, not a finite logprob`,
      { where: "asample.prompt_logprobs" },
    );
}

/** HTTP with retries; 408 and 4xx replies come back to the client, which knows what they mean here. */
export function httpTransport(url: string, retry: RetryPolicy, apiKey?: string): TinkerTransport {
  const root = url.replace(/\/+$/, "");
  const headers = apiKey ? { authorization: `Bearer ${apiKey}`, "x-api-key": apiKey } : undefined;
  return (method, path, body) =>
    requestJson({
      method,
      url: `${root}${path}`,
      body,
      retry,
      passStatuses: [400, 404, 408, 409, 422],
      ...(headers ? { headers } : {}),
    });
}
