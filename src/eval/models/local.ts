/**
 * A glmv checkpoint as the harness's model, in this process (`--model local:DIR`): the same generation path as
 * `glmv generate` and `glmv serve model` (`src/model/chat-model.ts`), so a local run and a served one answer alike.
 *
 * Force-answering mirrors what the OpenAI client does against vLLM (paper §6): a thought still open after
 * `maxTokens` new tokens is closed by the model's own injected `</think>` (4.1V: `</think><answer>`) and may go on
 * for `answerTokens` more; the result is flagged `forcedAnswer`. Any other response stops at `maxTokens`.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ChatImage, ChatRequest } from "../../model/chat-generate.ts";
import { type ChatModel, type ChatModelOptions, openChatModel } from "../../model/chat-model.ts";
import type { ChatStyle, ContentItem } from "../../model/chat-template.ts";
import { initTensorEngine } from "../../tensor/engine.ts";
import { GlmvError } from "../../util/errors.ts";
import type { GenerationRequest, GenerationResult, ModelClient } from "../model-client.ts";
import type { EvalImage } from "../types.ts";

/** GLM-4.1V's preprocessor `max_pixels` (over the 2 frames an image becomes): 6,144 image tokens, the §6 cap. */
export const LOCAL_MAX_PIXELS = 9_633_792;

export type LocalModelOptions = {
  /** Chat template and force-answer style; default from the checkpoint (GLM-4.5V MoE → 4.5v, else 4.1v). */
  style?: ChatStyle;
  /** The processor's pixel cap (t̄·h̄·w̄, t̄ = 2); default `LOCAL_MAX_PIXELS`. */
  maxPixels?: number;
  /** New tokens after a forced `</think>`; 0 turns force-answering off. Default 1024 (as the OpenAI client). */
  answerTokens?: number;
  /** Most greedy requests answered in one batch (default 8). */
  maxBatch?: number;
};

/** The harness's `ModelClient` over a loaded checkpoint. */
export class LocalModelClient implements ModelClient {
  readonly id: string;
  readonly model: ChatModel;
  readonly #answerTokens: number;
  readonly #maxPixels: number;

  constructor(id: string, model: ChatModel, opts: { answerTokens: number; maxPixels: number }) {
    this.id = id;
    this.model = model;
    this.#answerTokens = opts.answerTokens;
    this.#maxPixels = opts.maxPixels;
  }

  /** Client settings that change the answers: part of the response cache key. */
  get settings(): Record<string, unknown> {
    return { style: this.model.style, maxPixels: this.#maxPixels, forceAnswerTokens: this.#answerTokens };
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const out = await this.model.generate(await chatRequestOf(request, this.#answerTokens));
    return {
      text: out.text,
      finishReason: out.finishReason,
      forcedAnswer: out.forcedAnswer,
      completionTokens: out.completionTokens,
    };
  }

  close(): Promise<void> {
    return this.model.close();
  }
}

/**
 * Load `dir` as a model client (initialises the tensor engine).
 * @example const model = await createLocalModel("runs/x/ckpt-100"); await model.generate(request);
 */
export async function createLocalModel(dir: string, opts: LocalModelOptions = {}): Promise<LocalModelClient> {
  await initTensorEngine();
  const maxPixels = opts.maxPixels ?? LOCAL_MAX_PIXELS;
  const chatOptions: ChatModelOptions = { maxPixels, style: opts.style, maxBatch: opts.maxBatch };
  const model = await openChatModel(dir, chatOptions);
  return new LocalModelClient(`local:${resolve(dir)}`, model, {
    answerTokens: opts.answerTokens ?? 1024,
    maxPixels,
  });
}

/**
 * The chat request of a harness request: images (then the video) before the prompt, GLM-4.5V's `/nothink` when
 * thinking is off, and the thinking budget at `maxTokens`.
 */
export async function chatRequestOf(request: GenerationRequest, answerTokens: number): Promise<ChatRequest> {
  const content: ContentItem[] = request.images.map(() => ({ type: "image" }));
  if (request.video) content.push({ type: "video" });
  // the 4.5V template appends /nothink itself when thinking is off
  content.push({ type: "text", text: request.prompt });
  const [images, frames] = await Promise.all([
    Promise.all(request.images.map(imageBytes)),
    Promise.all((request.video?.frames ?? []).map(imageBytes)),
  ]);
  return {
    messages: [{ role: "user", content }],
    images,
    ...(request.video
      ? {
          videos: [
            { frames, ...(request.video.seconds !== undefined ? { seconds: request.video.seconds } : {}) },
          ],
        }
      : {}),
    thinking: request.thinking,
    maxTokens: request.maxTokens,
    temperature: request.temperature,
    seed: request.seed,
    ...(request.thinking && answerTokens > 0 ? { thinkBudget: request.maxTokens, answerTokens } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  };
}

async function imageBytes(image: EvalImage): Promise<ChatImage> {
  if (!("path" in image)) return image.bytes;
  try {
    return new Uint8Array(await readFile(image.path));
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    throw new GlmvError("image_invalid", `cannot read image file: ${code}`, { where: image.path, cause: e });
  }
}
