/**
 * `--model tinker:URL[#MODEL_PATH]` for `glmv eval run`: a `ModelClient` over the sampler of a Tinker-API trainer
 * (`glmv serve trainer`, SkyRL). It lives in the CLI layer because it joins eval's model contract with the rl
 * engine's Tinker client and prompt chunking, which eval may not import.
 *
 * A sampling session is opened once on the weights at MODEL_PATH (a `save_weights_for_sampler` path of a training
 * run), or on the trainer's first base model without one. Each request renders the GLM chat template, tokenizes it
 * with the checkpoint's tokenizer (glmv's tiny one by default, as `glmv serve trainer` uses), samples, and decodes
 * the tokens with the special tokens kept. Force-answering as in the OpenAI client: a thinking sample cut before
 * `</think>` is continued from prompt + its tokens + `</think><answer>` (`</think>` in the 4.5V style).
 * The Tinker client retries 429/5xx itself, so its failures reach the runner as final.
 */
import { readFile } from "node:fs/promises";
import type { GenerationRequest, GenerationResult, ModelClient } from "../eval/model-client.ts";
import type { ModelSpec } from "../eval/models/spec.ts";
import type { EvalImage } from "../eval/types.ts";
import type { ChatPrompt } from "../model/encode.ts";
import { decodeImage, type RawImage } from "../model/processor.ts";
import { type GlmvTokenizer, loadTinyTokenizer, loadTokenizerDir } from "../model/tokenizer.ts";
import { httpTransport, TinkerClient, type TinkerTransport } from "../rl/engines/tinker/tinker-client.ts";
import { chunkPrompt } from "../rl/engines/tinker/tinker-prompt.ts";
import type { ModelInputChunk, SampledSequence } from "../rl/engines/tinker/tinker-protocol.ts";
import { GlmvError } from "../util/errors.ts";
import { DEFAULT_RETRY } from "../util/http-json.ts";

export type TinkerModelOptions = {
  style?: "4.1v" | "4.5v";
  apiKey?: string;
  forceAnswerTokens?: number;
  /** A tokenizer folder (tokenizer.json); default glmv's tiny tokenizer. */
  tokenizerDir?: string;
  /** How requests reach the trainer (tests pass an in-process app); default HTTP with retries. */
  transport?: TinkerTransport;
};

async function rawImage(image: EvalImage): Promise<RawImage> {
  const bytes = "path" in image ? await readFile(image.path) : image.bytes;
  return decodeImage(bytes);
}

/** Open a sampling session on MODEL_PATH's weights (or the trainer's base model) and return the sampler id. */
async function openSampler(client: TinkerClient, modelPath?: string): Promise<string> {
  const sessionId = await client.createSession(["glmv-eval"]);
  const target = modelPath
    ? { modelPath }
    : { baseModel: (await client.capabilities()).supported_models[0]?.model_name ?? null };
  try {
    return await client.createSamplingSession(sessionId, target);
  } catch (e) {
    if (!(e instanceof GlmvError)) throw e;
    throw new GlmvError(e.code === "not_found" ? "bad_argument" : e.code, e.message, { where: "--model" });
  }
}

/**
 * @example const model = await createTinkerModel({ kind: "tinker", url: "http://localhost:8000" }, { style: "4.1v" });
 */
export async function createTinkerModel(
  spec: Extract<ModelSpec, { kind: "tinker" }>,
  opts: TinkerModelOptions = {},
): Promise<ModelClient & { settings: Record<string, unknown> }> {
  const transport = opts.transport ?? httpTransport(spec.url, DEFAULT_RETRY, opts.apiKey);
  const client = new TinkerClient({ transport });
  const tokenizer: GlmvTokenizer = opts.tokenizerDir
    ? await loadTokenizerDir(opts.tokenizerDir)
    : await loadTinyTokenizer();
  const samplerId = await openSampler(client, spec.model);
  const style = opts.style ?? "4.1v";
  const forceAnswerTokens = opts.forceAnswerTokens ?? 1024;
  const sp = tokenizer.special;
  const stop = [sp.endOfText, sp.user, sp.observation];

  const sample = async (chunks: ModelInputChunk[], req: GenerationRequest, maxTokens: number) => {
    const params = { max_tokens: maxTokens, temperature: req.temperature, top_p: 1, stop, seed: req.seed };
    const reply = await client.sample({
      prompt: { chunks },
      numSamples: 1,
      params,
      samplingSessionId: samplerId,
    });
    const seq: SampledSequence | undefined = reply.sequences[0];
    if (!seq) throw new GlmvError("engine_error", "the trainer returned no sequence", { where: spec.url });
    return seq;
  };

  return {
    id: `tinker:${spec.url}${spec.model ? `#${spec.model}` : ""}`,
    settings: { style, forceAnswerTokens, tokenizer: opts.tokenizerDir ?? "tiny" },
    async generate(req): Promise<GenerationResult> {
      const images = await Promise.all([...req.images, ...(req.video?.frames ?? [])].map(rawImage));
      const prompt: ChatPrompt = {
        id: "eval",
        images,
        messages: [
          {
            role: "user",
            content: [...images.map(() => ({ type: "image" as const })), { type: "text", text: req.prompt }],
          },
        ],
      };
      const how = { tokenizer, style, ...(style === "4.5v" ? { enableThinking: req.thinking } : {}) };
      const { chunks } = await chunkPrompt(prompt, how);
      const head = await sample(chunks, req, req.maxTokens);
      const cutWhileThinking =
        req.thinking &&
        head.stop_reason === "length" &&
        !head.tokens.includes(sp.thinkEnd) &&
        forceAnswerTokens > 0;
      if (!cutWhileThinking)
        return {
          text: tokenizer.decode(head.tokens),
          finishReason: head.stop_reason,
          forcedAnswer: false,
          completionTokens: head.tokens.length,
        };
      const inject = style === "4.1v" ? [sp.thinkEnd, sp.answerStart] : [sp.thinkEnd];
      const prefix = [...head.tokens, ...inject];
      const tail = await sample(
        [...chunks, { type: "encoded_text", tokens: prefix }],
        req,
        forceAnswerTokens,
      );
      return {
        text: tokenizer.decode([...prefix, ...tail.tokens]),
        finishReason: tail.stop_reason,
        forcedAnswer: true,
        completionTokens: head.tokens.length + tail.tokens.length,
      };
    },
  };
}
