/**
 * The trainer server's sampling routes (trainer-api.md §1): `create_sampling_session` (published weights by server
 * path, or the base model's) and `asample` (samples, and the prompt's logprobs when asked, as a future).
 */
import { z } from "zod";
import { ModelInput, SamplingParams } from "../rl/engines/tinker/tinker-protocol.ts";
import { GlmvError } from "../util/errors.ts";
import type { TrainerRoutes, TrainerState } from "./trainer-state.ts";

const SamplingSessionBody = z.object({
  session_id: z.string(),
  base_model: z.string().nullish(),
  model_path: z.string().nullish(),
});
const AsampleBody = z.object({
  prompt: ModelInput,
  num_samples: z.number().int().positive().default(1),
  sampling_params: SamplingParams,
  sampling_session_id: z.string().nullish(),
  model_path: z.string().nullish(),
  prompt_logprobs: z.boolean().nullish(),
  /** Top-k alternatives per prompt position are not computed; 0 (or absent) is the only value accepted. */
  topk_prompt_logprobs: z.number().int().min(0).nullish(),
});

/** @example const routes = { ...samplingRoutes(state) }; routes["POST /asample"]!(body); */
export function samplingRoutes(state: TrainerState): TrainerRoutes {
  const { backend, checkpoints, samplers } = state;
  return {
    "POST /create_sampling_session": async (raw) => {
      const b = SamplingSessionBody.parse(raw);
      if (b.model_path) {
        const published = samplers.get(checkpoints.resolve(b.model_path, "model_path"));
        if (!published) throw new GlmvError("not_found", `no sampler weights at ${b.model_path}`);
        return { type: "create_sampling_session", sampling_session_id: state.publish(published.sampler) };
      }
      const model = await backend.createModel({ loraRank: 0, seed: 0 });
      const id = state.publish(await model.snapshot());
      model.dispose(); // the snapshot keeps what it needs
      return { type: "create_sampling_session", sampling_session_id: id };
    },
    "POST /asample": (raw) => {
      const b = AsampleBody.parse(raw);
      if (b.topk_prompt_logprobs)
        throw new GlmvError("bad_input", "topk_prompt_logprobs is not supported; ask for prompt_logprobs", {
          where: "topk_prompt_logprobs",
        });
      const key = b.sampling_session_id ?? b.model_path ?? "";
      const published = b.sampling_session_id
        ? samplers.get(b.sampling_session_id)
        : b.model_path
          ? samplers.get(checkpoints.resolve(b.model_path, "model_path"))
          : undefined;
      if (!published) throw new GlmvError("not_found", `unknown sampling session or path '${key}'`);
      published.inFlight++;
      return state.enqueueFuture(async () => {
        try {
          return await published.sampler.sample(b.prompt.chunks, b.num_samples, b.sampling_params, {
            promptLogprobs: b.prompt_logprobs === true,
          });
        } finally {
          published.inFlight--;
          state.release(published);
        }
      });
    },
  };
}
