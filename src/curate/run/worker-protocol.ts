/** Messages between the runner and its item workers (one item at a time per worker). */
import type { CurateItem, StageOutcome } from "../stage.ts";

export type StageWorkerData = {
  /** The worker module (file URL), loaded through the reward worker's boot script (tsx from sources). */
  entry: string;
  /** Extra modules (file URLs) with `stages` / `sources`. */
  modules: string[];
  /** Each stage's name and options as written; the worker parses them with the stage's schema. */
  stages: { use: string; raw: Record<string, unknown> }[];
  baseDir: string;
  stateDir: string;
  /** The run folder and stage names, for `scanInput` (which reads the previous level's shards). */
  out: string;
  stageNames: string[];
  shardCount: number;
};

export type ToWorker =
  | { type: "item"; seq: number; stage: number; shard: number; item: CurateItem }
  | { type: "abort"; seq: number }
  | { type: "close" };

export type FromWorker =
  | { type: "ready" }
  /** The item's stage is open in this worker: its time limit starts now (opening may build a whole-input index). */
  | { type: "started"; seq: number }
  | { type: "done"; seq: number; outcome: StageOutcome }
  /** The stage threw on this item. */
  | { type: "failed"; seq: number; message: string }
  /** A stage could not open: the run cannot go on. */
  | { type: "fatal"; message: string }
  | { type: "closed" };
