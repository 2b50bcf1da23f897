/**
 * What the trainer server holds between requests (trainer-server.ts): sessions, models with their work queues,
 * published samplers, futures and the per-model `seq_id` replies; and the moves the route modules
 * (trainer-routes-*.ts) make on it: queue work as a future, look a model up, publish and retire samplers.
 */
import { randomUUID } from "node:crypto";
import { GlmvError, isGlmvError } from "../util/errors.ts";
import { HTTP_STATUS } from "./errors.ts";
import type { TrainerBackend, TrainerModel, TrainerSampler } from "./trainer-backend.ts";
import type { CheckpointRoot } from "./trainer-paths.ts";
import type { SeenReplies } from "./trainer-seq-ids.ts";

/** A route table: `"METHOD /name"` → handler of the parsed JSON body (its reply, or a promise of it). */
export type TrainerRoutes = Record<string, (body: unknown) => unknown>;

/** Ephemeral samplers kept per model: the current weights and the previous ones (a client may still be sampling). */
const KEEP_EPHEMERAL = 2;

export type Published = { sampler: TrainerSampler; inFlight: number; retired: boolean };
export type Future = {
  done: boolean;
  result?: unknown;
  error?: { error: string; category: "user" | "server" };
  settled: Promise<void>;
};
export type ModelSlot = {
  model: Promise<TrainerModel>;
  queue: Promise<unknown>;
  baseModel: string;
};

export type TrainerState = {
  backend: TrainerBackend;
  checkpoints: CheckpointRoot;
  sessions: Set<string>;
  models: Map<string, ModelSlot>;
  /** Published samplers by sampling session id, and named ones also by their server path. */
  samplers: Map<string, Published>;
  futures: Map<string, Future>;
  /** Per model id (kept, trimmed, after unload), its replies by `seq_id`. */
  seen: Map<string, SeenReplies>;
  /** Run `work` as a future: in the model's queue when a slot is given (one at a time, in arrival order). */
  enqueueFuture(work: () => Promise<unknown>, slot?: ModelSlot): { request_id: string };
  /** The model's slot, or a `not_found` error. */
  slotOf(modelId: string): ModelSlot;
  /** Queue `work` on a model once it exists. */
  onModel(modelId: string, work: (m: TrainerModel) => Promise<unknown>): { request_id: string };
  /** Register a sampler under a new sampling session id. */
  publish(sampler: TrainerSampler): string;
  /** Dispose a retired sampler once no sampling uses it. */
  release(p: Published): void;
  /** Record `newest` as the model's latest ephemeral sampler and retire all but the newest few. */
  retireOld(modelId: string, newest: string): void;
};

/**
 * An empty server state over a backend and a checkpoint root.
 * @example const state = createTrainerState(backend, checkpointRoot("trainer-checkpoints"));
 */
export function createTrainerState(backend: TrainerBackend, checkpoints: CheckpointRoot): TrainerState {
  const models = new Map<string, ModelSlot>();
  const samplers = new Map<string, Published>();
  /** Per model, its ephemeral sampler ids, oldest first: all but the newest few are retired to free their weights. */
  const ephemeral = new Map<string, string[]>();
  const futures = new Map<string, Future>();

  const enqueueFuture = (work: () => Promise<unknown>, slot?: ModelSlot): { request_id: string } => {
    const id = randomUUID();
    const future: Future = { done: false, settled: Promise.resolve() };
    const run = async () => {
      try {
        future.result = await work();
      } catch (e) {
        future.error = {
          error: (e as Error).message,
          category: isGlmvError(e) && HTTP_STATUS[e.code] < 500 ? "user" : "server",
        };
      } finally {
        future.done = true;
      }
    };
    if (slot) {
      slot.queue = slot.queue.then(run);
      future.settled = slot.queue as Promise<void>;
    } else future.settled = run();
    futures.set(id, future);
    return { request_id: id };
  };
  const slotOf = (modelId: string): ModelSlot => {
    const slot = models.get(modelId);
    if (!slot) throw new GlmvError("not_found", `unknown model_id ${modelId}`);
    return slot;
  };
  const onModel = (modelId: string, work: (m: TrainerModel) => Promise<unknown>) => {
    const slot = slotOf(modelId);
    return enqueueFuture(async () => work(await slot.model), slot);
  };
  const publish = (sampler: TrainerSampler): string => {
    const id = `sampler-${randomUUID()}`;
    samplers.set(id, { sampler, inFlight: 0, retired: false });
    return id;
  };
  const release = (p: Published) => {
    if (p.retired && p.inFlight === 0) p.sampler.dispose();
  };
  const retireOld = (modelId: string, newest: string) => {
    const ids = [...(ephemeral.get(modelId) ?? []), newest];
    while (ids.length > KEEP_EPHEMERAL) {
      const old = samplers.get(ids.shift()!);
      if (!old) continue;
      for (const [key, p] of samplers) if (p === old) samplers.delete(key);
      old.retired = true;
      release(old);
    }
    ephemeral.set(modelId, ids);
  };

  return {
    backend,
    checkpoints,
    sessions: new Set<string>(),
    models,
    samplers,
    futures,
    seen: new Map<string, SeenReplies>(),
    enqueueFuture,
    slotOf,
    onModel,
    publish,
    release,
    retireOld,
  };
}
