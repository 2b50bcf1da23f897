/**
 * The trainer server's training routes (trainer-api.md §1): `forward_backward` (a loss and its gradients,
 * accumulated) and `optim_step` (one Adam step), each queued on its model as a future.
 */
import { z } from "zod";
import { AdamParams, Datum, LossFn } from "../rl/engines/tinker/tinker-protocol.ts";
import type { TrainerRoutes, TrainerState } from "./trainer-state.ts";

const ForwardBackwardBody = z.object({
  model_id: z.string(),
  forward_backward_input: z.object({
    data: z.array(Datum),
    loss_fn: LossFn,
    loss_fn_config: z.record(z.string(), z.number()).nullish(),
  }),
});
const OptimStepBody = z.object({
  model_id: z.string(),
  adam_params: AdamParams,
});

/** @example const routes = { ...trainingRoutes(state) }; routes["POST /optim_step"]!(body); */
export function trainingRoutes(state: TrainerState): TrainerRoutes {
  return {
    "POST /forward_backward": (raw) => {
      const b = ForwardBackwardBody.parse(raw);
      const input = b.forward_backward_input;
      return state.onModel(b.model_id, (m) =>
        m.forwardBackward(input.data, input.loss_fn, input.loss_fn_config ?? {}),
      );
    },
    "POST /optim_step": (raw) => {
      const b = OptimStepBody.parse(raw);
      return state.onModel(b.model_id, (m) => m.optimStep(b.adam_params));
    },
  };
}
