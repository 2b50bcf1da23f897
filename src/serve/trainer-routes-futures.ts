/**
 * The trainer server's `retrieve_future` (trainer-api.md §1): the result of a queued call, its failure
 * `{error, category}`, or `{type: "try_again"}` when it is still pending after a short wait.
 */
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import type { TrainerRoutes, TrainerState } from "./trainer-state.ts";

const FutureBody = z.object({ request_id: z.string() });

/** @example const routes = { ...futureRoutes(state, 200) }; await routes["POST /retrieve_future"]!({ request_id }); */
export function futureRoutes(state: TrainerState, pollWaitMs: number): TrainerRoutes {
  return {
    "POST /retrieve_future": async (raw) => {
      const { request_id } = FutureBody.parse(raw);
      const future = state.futures.get(request_id);
      if (!future) throw new GlmvError("not_found", `unknown request_id ${request_id}`);
      if (!future.done) await Promise.race([future.settled, new Promise((r) => setTimeout(r, pollWaitMs))]);
      if (!future.done) return { type: "try_again", request_id, queue_state: "active" };
      return future.error ?? future.result;
    },
  };
}
