/**
 * What the harness asks of a model: one item's question and images in, one response out. The OpenAI-compatible
 * client, the in-process glmv checkpoint and a Tinker-API sampler all implement it (`src/eval/models/`).
 */
import type { EvalImage, EvalVideo } from "./types.ts";

/** One generation request, in the harness's terms (each client maps it to its wire format). */
export interface GenerationRequest {
  prompt: string;
  images: EvalImage[];
  video?: EvalVideo;
  /** Thinking mode (`<think>…</think>` before the answer); off sends GLM's non-thinking switch. */
  thinking: boolean;
  maxTokens: number;
  temperature: number;
  seed: number;
  signal?: AbortSignal;
}

/** A model's answer. `forcedAnswer`: the thinking budget ran out and `</think><answer>` was injected (paper §6). */
export interface GenerationResult {
  text: string;
  finishReason: "stop" | "length";
  forcedAnswer: boolean;
  completionTokens?: number;
}

export interface ModelClient {
  /** A stable name for the cache key and the results (e.g. `openai:http://host:8000/v1#glm-4.1v`). */
  readonly id: string;
  generate(request: GenerationRequest): Promise<GenerationResult>;
  close?(): Promise<void>;
}
