/**
 * Retries of the trainer server's model-mutating calls: each carries a per-model `seq_id`, and a repeated one (a
 * client retrying after a lost reply) is answered with the first call's `{request_id}`, never applied twice.
 */
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";

/** Replies to a model's recent `seq_id`s, so a retried request is answered, not applied again. */
export type SeenReplies = Map<number, { route: string; reply: { request_id: string } }>;

/** Remembered `seq_id`s per model; a retry comes right after its original, so a short window is plenty. */
const SEQ_WINDOW = 4096;
/** What an unloaded model keeps of them. */
export const UNLOADED_WINDOW = 8;

/** The model-mutating routes whose `seq_id` is deduplicated. */
export const SEQUENCED = new Set([
  "/forward_backward",
  "/optim_step",
  "/save_weights",
  "/load_weights",
  "/save_weights_for_sampler",
  "/unload_model",
]);

/**
 * A model-mutating request that repeats a `seq_id` of its model (a client retry after a lost reply) gets the
 * first request's `{request_id}` back, so its work runs once; reusing a `seq_id` for another route is an error.
 * @example sequenced(state.seen, "/optim_step", body, routes["POST /optim_step"]!)
 */
export function sequenced(
  seen: ReadonlyMap<string, SeenReplies>,
  name: string,
  raw: unknown,
  handler: (body: unknown) => unknown,
): unknown {
  const b = z.object({ model_id: z.string(), seq_id: z.number().int().nullish() }).safeParse(raw);
  const replies = b.success && typeof b.data.seq_id === "number" ? seen.get(b.data.model_id) : undefined;
  if (!replies || !b.success || typeof b.data.seq_id !== "number") return handler(raw);
  const seqId = b.data.seq_id;
  const first = replies.get(seqId);
  if (first) {
    if (first.route !== name)
      throw new GlmvError("bad_input", `seq_id ${seqId} was already used by ${first.route}`, {
        where: "seq_id",
      });
    return first.reply;
  }
  const reply = handler(raw) as { request_id: string };
  replies.set(seqId, { route: name, reply });
  if (replies.size > SEQ_WINDOW) replies.delete(replies.keys().next().value!);
  return reply;
}
