/**
 * The trainer server's session and model routes (trainer-api.md §1): health, capabilities, sessions, and creating,
 * describing and unloading models.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import { UNLOADED_WINDOW } from "./trainer-seq-ids.ts";
import type { ModelSlot, TrainerRoutes, TrainerState } from "./trainer-state.ts";

const CreateModelBody = z.object({
  session_id: z.string(),
  base_model: z.string(),
  lora_config: z
    .object({ rank: z.number().int().min(0).default(0), seed: z.number().int().optional() })
    .default({ rank: 0 }),
});
const ModelBody = z.object({ model_id: z.string() });

const noop = () => undefined;

/** @example const routes = { ...modelRoutes(state) }; await routes["POST /create_session"]!({}); */
export function modelRoutes(state: TrainerState): TrainerRoutes {
  const { backend, sessions, models, seen } = state;
  return {
    "GET /healthz": () => ({ status: "ok" }),
    "GET /get_server_capabilities": () => ({
      supported_models: [{ model_name: backend.baseModel, max_context_length: backend.maxContextLength }],
    }),
    "POST /create_session": () => {
      const id = `session-${randomUUID()}`;
      sessions.add(id);
      return { type: "create_session", session_id: id };
    },
    "POST /session_heartbeat": () => ({ type: "session_heartbeat" }),
    "POST /create_model": (raw) => {
      const b = CreateModelBody.parse(raw);
      if (!sessions.has(b.session_id)) throw new GlmvError("not_found", `unknown session ${b.session_id}`);
      if (b.base_model !== backend.baseModel)
        throw new GlmvError("bad_input", `base_model ${b.base_model} is not served (${backend.baseModel})`);
      const modelId = `model-${randomUUID()}`;
      const model = backend.createModel({ loraRank: b.lora_config.rank, seed: b.lora_config.seed ?? 0 });
      // The queue waits for creation but never rejects, so a failed creation fails each later future, not the queue.
      const slot: ModelSlot = {
        model,
        queue: model.then(noop, noop),
        baseModel: b.base_model,
      };
      seen.set(modelId, new Map());
      models.set(modelId, slot);
      return {
        model_id: modelId,
        ...state.enqueueFuture(async () => ({ type: "create_model", model_id: modelId }), slot),
      };
    },
    "POST /get_info": (raw) => {
      const { model_id } = ModelBody.parse(raw);
      return { type: "get_info", model_id, model_data: { base_model: state.slotOf(model_id).baseModel } };
    },
    "POST /unload_model": (raw) => {
      const { model_id } = ModelBody.parse(raw);
      const reply = state.onModel(model_id, async (m) => {
        m.dispose();
        models.delete(model_id);
        // an unloaded model keeps only its last replies: enough to answer a retried unload
        const replies = seen.get(model_id);
        if (replies) seen.set(model_id, new Map([...replies].slice(-UNLOADED_WINDOW)));
        return { type: "unload_model", model_id };
      });
      return reply;
    },
  };
}
