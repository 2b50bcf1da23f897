/**
 * A client for OpenAI-style `POST /v1/embeddings` with text and image inputs, for the CLIP-similarity stages.
 * Servers take images in one of two shapes, chosen by `imageInput`:
 * - `input`: data-URL strings in `input` (Infinity's image models, with `modality: "image"`; OpenAI-style servers
 *   that accept image URLs), batched `batchSize` to a request;
 * - `messages`: vLLM's embedding mode for multimodal models, a chat-style `messages` list with an `image_url` part
 *   (and a text instruction such as "Represent the given image."), one image per request since vLLM embeds the
 *   whole conversation as one vector.
 * Texts always go as strings in `input`.
 */
import { z } from "zod";
import { GlmvError } from "../../util/errors.ts";
import { Limiter, requestJson } from "../../util/http-json.ts";
import { imageDataUrl } from "./data-url.ts";
import { authHeaders, HookEndpoint, retryPolicyOf } from "./http.ts";

export const EmbeddingsHook = HookEndpoint.extend({
  /** How images are sent (see the module comment). */
  imageInput: z.enum(["input", "messages"]).default("input"),
  /** The text part sent beside the image in `messages` mode (instruction-tuned embedders want one). */
  imagePrompt: z.string().default("Represent the given image."),
  /** Inputs per request in `input` mode. */
  batchSize: z.number().int().min(1).default(32),
}).strict();
export type EmbeddingsHook = z.infer<typeof EmbeddingsHook>;

export type EmbeddingsClient = {
  embedTexts(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  embedImages(images: Uint8Array[], signal?: AbortSignal): Promise<Float32Array[]>;
};

const EmbeddingsReply = z.object({
  data: z.array(z.object({ index: z.number().int().optional(), embedding: z.array(z.number()) })),
});

/**
 * A client for one embeddings endpoint.
 * @example
 * const clip = createEmbeddingsClient(EmbeddingsHook.parse({ url: "http://localhost:7997", model: "clip" }));
 * const [img] = await clip.embedImages([jpeg]); const [txt] = await clip.embedTexts(["a red car"]);
 * cosineSimilarity(img, txt)
 */
export function createEmbeddingsClient(hook: EmbeddingsHook): EmbeddingsClient {
  const url = `${hook.url.replace(/\/+$/, "")}/embeddings`;
  const limiter = new Limiter(hook.concurrency);
  const retry = retryPolicyOf(hook);
  const headers = authHeaders(hook);

  async function send(body: Record<string, unknown>, expected: number, signal?: AbortSignal) {
    const { body: raw } = await requestJson({
      method: "POST",
      url,
      body: { model: hook.model, encoding_format: "float", ...body },
      retry,
      headers,
      limiter,
      signal,
    });
    const parsed = EmbeddingsReply.safeParse(raw);
    if (!parsed.success)
      throw new GlmvError("engine_error", `embeddings reply has no data[].embedding`, { where: url });
    const rows = parsed.data.data;
    if (rows.length !== expected)
      throw new GlmvError("engine_error", `asked for ${expected} embeddings, got ${rows.length}`, {
        where: url,
      });
    // The API says data[i].index names the input; sort by it rather than trusting the order.
    const ordered = rows.every((r) => r.index !== undefined)
      ? [...rows].sort((a, b) => a.index! - b.index!)
      : rows;
    return ordered.map((r) => Float32Array.from(r.embedding));
  }

  async function inBatches<T>(values: T[], run: (batch: T[]) => Promise<Float32Array[]>) {
    const batches: T[][] = [];
    for (let i = 0; i < values.length; i += hook.batchSize) batches.push(values.slice(i, i + hook.batchSize));
    return (await Promise.all(batches.map(run))).flat();
  }

  return {
    embedTexts: (texts, signal) => inBatches(texts, (batch) => send({ input: batch }, batch.length, signal)),
    async embedImages(images, signal) {
      if (hook.imageInput === "input")
        return inBatches(images, (batch) =>
          send({ input: batch.map(imageDataUrl), modality: "image" }, batch.length, signal),
        );
      const one = async (bytes: Uint8Array) => {
        const content = [
          { type: "image_url", image_url: { url: imageDataUrl(bytes) } },
          { type: "text", text: hook.imagePrompt },
        ];
        return (await send({ messages: [{ role: "user", content }] }, 1, signal))[0]!;
      };
      return Promise.all(images.map(one));
    },
  };
}

/**
 * Cosine similarity of two vectors of the same length (0 when either is all zeros).
 * @example
 * cosineSimilarity(Float32Array.of(1, 0), Float32Array.of(1, 1)) // ≈ 0.707
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new GlmvError("engine_error", `embedding lengths differ: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
