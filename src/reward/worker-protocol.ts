/**
 * What the reward pool and its workers exchange: the messages, and a small shared-memory progress block through
 * which the pool times the item in progress without a message per item.
 */
import type { ScoredResult, ScoreInput, ScoreOptions } from "./system.ts";

/** What the pool passes to each worker. */
export type WorkerData = {
  entry: string;
  style: ScoreOptions["style"];
  maxBoxChars: number | undefined;
  /** The run's thinking switch (`ScoreOptions.thinking`); undefined is on. */
  thinking: boolean | undefined;
  /** URL of a module exporting `verifiers: Partial<Record<Domain, Verifier>>` that replace the built-in ones. */
  extraVerifiersModule: string | undefined;
  /** Shared progress: `progressView` reads it. Written before each item so the pool can time it without a message. */
  progress: SharedArrayBuffer;
};
/** Pool → worker: score these items in order. */
export type ChunkMessage = { seq: number; items: ScoreInput[] };
/** One scored item of a chunk and its scoring time inside the worker. */
export type ItemResult = { k: number; result: ScoredResult; ms: number };
/** Worker → pool: ready after warm-up, or results of chunk `seq`, in order, flushed every few items or ms. */
export type WorkerMessage = { type: "ready" } | { type: "results"; seq: number; results: ItemResult[] };

/** Bytes of the shared progress block: [seq, k] as int32, then the item's start time (epoch ms) as float64. */
export const PROGRESS_BYTES = 16;
/**
 * Views on a progress block. `k` is the index of the item in progress in chunk `seq` (the chunk length once the
 * chunk is done) and `startedAt` its `Date.now()` start: the pool reads them to enforce the deadline and to know
 * which item a crash interrupted, so results can be batched without losing per-item timing.
 */
export function progressView(buf: SharedArrayBuffer): { ints: Int32Array; startedAt: Float64Array } {
  return { ints: new Int32Array(buf, 0, 2), startedAt: new Float64Array(buf, 8, 1) };
}
export const SEQ = 0;
export const K = 1;
