/**
 * The trainer server's weight routes (trainer-api.md §1): `save_weights` / `load_weights` under the checkpoint
 * root (trainer-paths.ts), and `save_weights_for_sampler`, which publishes the current weights as a sampling
 * session (named by a path, or ephemeral: only the newest few of those are kept).
 */
import { z } from "zod";
import type { TrainerRoutes, TrainerState } from "./trainer-state.ts";

const WeightsBody = z.object({
  model_id: z.string(),
  path: z.string().min(1),
  optimizer: z.boolean().default(true),
});
const SaveForSamplerBody = z.object({
  model_id: z.string(),
  path: z.string().nullish(),
  sampling_session_seq_id: z.number().int().nullish(),
});

/** @example const routes = { ...weightRoutes(state) }; routes["POST /save_weights"]!({ model_id, path: "ckpt" }); */
export function weightRoutes(state: TrainerState): TrainerRoutes {
  const { checkpoints, samplers } = state;
  return {
    "POST /save_weights": (raw) => {
      const b = WeightsBody.parse(raw);
      checkpoints.resolve(b.path, "path");
      return state.onModel(b.model_id, async (m) => {
        // resolved again when the queue reaches it: the folder may have changed while the request waited
        await m.save(checkpoints.resolve(b.path, "path"));
        return { type: "save_weights", path: b.path };
      });
    },
    "POST /load_weights": (raw) => {
      const b = WeightsBody.parse(raw);
      checkpoints.resolve(b.path, "path");
      return state.onModel(b.model_id, async (m) => {
        await m.load(checkpoints.resolve(b.path, "path"), b.optimizer);
        return { type: "load_weights", path: b.path };
      });
    },
    "POST /save_weights_for_sampler": (raw) => {
      const b = SaveForSamplerBody.parse(raw);
      if (b.path) checkpoints.resolve(b.path, "path");
      return state.onModel(b.model_id, async (m) => {
        const target = b.path ? checkpoints.resolve(b.path, "path") : undefined;
        if (target) await m.save(target);
        const id = state.publish(await m.snapshot());
        // named samplers are kept by their server path, so every spelling of one path finds them
        if (target) samplers.set(target, samplers.get(id)!);
        else state.retireOld(b.model_id, id);
        return {
          type: "save_weights_for_sampler",
          sampling_session_id: id,
          ...(b.path ? { path: b.path } : {}),
        };
      });
    },
  };
}
