/**
 * The Tinker training API's wire types (trainer-api.md §1, the JSON format SkyRL's Tinker-compatible server and
 * `glmv serve trainer` accept), one home for the client (`tinker-client.ts`) and the server (`serve/trainer-server.ts`).
 * Request parts are zod schemas (the server parses them; the types are `z.infer` of them); replies are types only.
 */
import { z } from "zod";

/** A flat tensor with an optional dtype and shape. */
export const TensorData = z.object({
  data: z.array(z.number()),
  dtype: z.enum(["int64", "float32"]).optional(),
  shape: z.array(z.number()).optional(),
});
export type TensorData = z.infer<typeof TensorData>;

export const EncodedTextChunk = z.object({
  type: z.literal("encoded_text"),
  tokens: z.array(z.number().int()),
});
export type EncodedTextChunk = z.infer<typeof EncodedTextChunk>;

/** An image; the server expands it to its placeholder tokens. `expected_tokens` gives the model input's length. */
export const ImageChunk = z.object({
  type: z.literal("image"),
  data: z.string(),
  format: z.enum(["png", "jpeg"]),
  expected_tokens: z.number().int().optional(),
});
export type ImageChunk = z.infer<typeof ImageChunk>;

export const ModelInputChunk = z.union([EncodedTextChunk, ImageChunk]);
export type ModelInputChunk = z.infer<typeof ModelInputChunk>;

export const ModelInput = z.object({ chunks: z.array(ModelInputChunk) });
export type ModelInput = z.infer<typeof ModelInput>;

/** One training example. Position i of `model_input` predicts `target_tokens[i]` (next-token alignment). */
export const Datum = z.object({ model_input: ModelInput, loss_fn_inputs: z.record(z.string(), TensorData) });
export type Datum = z.infer<typeof Datum>;

export const LossFn = z.enum(["cross_entropy", "importance_sampling", "ppo"]);
export type LossFn = z.infer<typeof LossFn>;

export const AdamParams = z.object({
  learning_rate: z.number(),
  beta1: z.number().optional(),
  beta2: z.number().optional(),
  eps: z.number().optional(),
  weight_decay: z.number().optional(),
  grad_clip_norm: z.number().optional(),
});
export type AdamParams = z.infer<typeof AdamParams>;

/** Sampling parameters; SkyRL's clients send `stop: null` and `seed: null` for "none", which count as absent. */
export const SamplingParams = z.preprocess(
  (v) =>
    typeof v === "object" && v !== null
      ? {
          ...v,
          stop: (v as { stop?: unknown }).stop ?? undefined,
          seed: (v as { seed?: unknown }).seed ?? undefined,
        }
      : v,
  z.object({
    max_tokens: z.number().int().min(0),
    temperature: z.number().min(0).optional(),
    top_p: z.number().optional(),
    top_k: z.number().int().optional(),
    stop: z.array(z.number().int()).optional(),
    seed: z.number().int().optional(),
  }),
);
export type SamplingParams = z.infer<typeof SamplingParams>;

export type SampledSequence = { tokens: number[]; logprobs: number[] | null; stop_reason: "stop" | "length" };
/**
 * `prompt_logprobs` (when asked for): one entry per model-input position, entry i the logprob of token i given the
 * tokens before it; the first is null (nothing predicts it).
 */
export type SampleResponse = {
  sequences: SampledSequence[];
  type?: "sample";
  prompt_logprobs?: (number | null)[] | null;
};
export type ForwardBackwardOutput = {
  loss_fn_output_type: string;
  loss_fn_outputs: { logprobs: TensorData; elementwise_loss?: TensorData }[];
  metrics: Record<string, number>;
};
export type OptimStepResponse = { metrics?: Record<string, number> };
