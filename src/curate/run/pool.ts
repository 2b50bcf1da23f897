/**
 * A pool of item workers with a per-item time limit, counted from when the item's stage is open in its worker (an
 * `open` may build a whole-input index first, which is not the item's time). Past the limit the item's signal is aborted and the item is
 * dropped as `timeout`; a worker that does not answer within a short grace is terminated and a fresh one started,
 * so one pathological image cannot stall a shard. A worker that dies drops its item as `stage_error`. A stage that
 * cannot open (or a worker that cannot start) fails the run: every pending item rejects with that error.
 */
import { Worker } from "node:worker_threads";
import { GlmvError } from "../../util/errors.ts";
import { type CurateItem, drop, type StageOutcome } from "../stage.ts";
import type { FromWorker, StageWorkerData, ToWorker } from "./worker-protocol.ts";

const BOOT = new URL("../../reward/worker-boot.mjs", import.meta.url);
const ENTRY = new URL("./worker.ts", import.meta.url).href;

type Task = {
  seq: number;
  stage: number;
  shard: number;
  item: CurateItem;
  resolve: (o: StageOutcome) => void;
  reject: (e: Error) => void;
};
type Slot = {
  worker: Worker;
  ready: boolean;
  task: Task | null;
  timer?: NodeJS.Timeout;
  grace?: NodeJS.Timeout;
  gone: boolean;
};

export type StagePoolOptions = {
  size: number;
  itemTimeoutMs: number;
  /** How long an aborted item may take to return before its worker is terminated; default min(1 s, the limit). */
  graceMs?: number;
  data: Omit<StageWorkerData, "entry">;
};

/**
 * @example
 * const pool = new StagePool({ size: 4, itemTimeoutMs: 30_000, data });
 * try { const outcome = await pool.process(0, shard, item); } finally { await pool.close(); }
 */
export class StagePool {
  private readonly slots: Slot[] = [];
  private queue: Task[] = [];
  private seq = 0;
  private fatal: GlmvError | null = null;
  private readonly graceMs: number;

  constructor(private readonly opts: StagePoolOptions) {
    this.graceMs = opts.graceMs ?? Math.min(1000, opts.itemTimeoutMs);
    for (let i = 0; i < Math.max(1, opts.size); i++) this.slots.push(this.spawn());
  }

  /** Run one item through stage `stage` (0-based); timeouts and crashes come back as drops. */
  process(stage: number, shard: number, item: CurateItem): Promise<StageOutcome> {
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise((resolve, reject) => {
      this.queue.push({ seq: ++this.seq, stage, shard, item, resolve, reject });
      this.pump();
    });
  }

  /** Close every stage in every worker (flushing indexes), then stop the workers. */
  async close(): Promise<void> {
    this.fail(new GlmvError("worker_crashed", "the item pool was closed with items pending"));
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.gone = true;
        clearTimeout(slot.timer);
        clearTimeout(slot.grace);
        if (slot.ready && !slot.task) {
          const closed = new Promise<void>((resolve) => {
            slot.worker.on("message", (m: FromWorker) => m.type === "closed" && resolve());
            slot.worker.once("exit", () => resolve());
            setTimeout(resolve, 10_000).unref();
          });
          slot.worker.postMessage({ type: "close" } satisfies ToWorker);
          await closed;
        }
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const data: StageWorkerData = { ...this.opts.data, entry: ENTRY };
    const worker = new Worker(BOOT, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
    const slot: Slot = { worker, ready: false, task: null, gone: false };
    worker.on("message", (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on("error", (err) => this.onExit(slot, err.message));
    worker.on("exit", (code) => this.onExit(slot, `worker exited with code ${code}`));
    return slot;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.task || slot.gone) continue;
      const task = this.queue.shift();
      if (!task) return;
      slot.task = task;
      const msg: ToWorker = {
        type: "item",
        seq: task.seq,
        stage: task.stage,
        shard: task.shard,
        item: task.item,
      };
      slot.worker.postMessage(msg);
    }
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (slot.gone) return;
    if (msg.type === "ready") slot.ready = true;
    else if (msg.type === "started") {
      const task = slot.task;
      if (task?.seq === msg.seq)
        slot.timer = setTimeout(() => this.onTimeout(slot, task), this.opts.itemTimeoutMs);
      return;
    } else if (msg.type === "fatal") this.fail(new GlmvError("bad_config", msg.message));
    else if (msg.type === "done" || msg.type === "failed") {
      const task = slot.task;
      if (task?.seq === msg.seq) {
        clearTimeout(slot.timer);
        task.resolve(msg.type === "done" ? msg.outcome : drop("stage_error", msg.message));
      }
      // a timed-out item that came back in its grace: the worker is fine, keep it
      clearTimeout(slot.grace);
      slot.task = null;
    }
    this.pump();
  }

  private onTimeout(slot: Slot, task: Task): void {
    task.resolve(drop("timeout", `over the item time limit of ${this.opts.itemTimeoutMs} ms`));
    task.resolve = () => {};
    slot.worker.postMessage({ type: "abort", seq: task.seq } satisfies ToWorker);
    slot.grace = setTimeout(() => this.replace(slot), this.graceMs);
  }

  /** Terminate a stuck or dead worker and start a fresh one in its place. */
  private replace(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    clearTimeout(slot.timer);
    clearTimeout(slot.grace);
    void slot.worker.terminate();
    const index = this.slots.indexOf(slot);
    if (index >= 0 && !this.fatal) this.slots[index] = this.spawn();
    this.pump();
  }

  private onExit(slot: Slot, reason: string): void {
    if (slot.gone) return;
    if (!slot.ready) {
      this.fail(new GlmvError("worker_crashed", `an item worker could not start: ${reason}`));
      return;
    }
    clearTimeout(slot.timer);
    slot.task?.resolve(drop("stage_error", `the worker crashed: ${reason}`));
    slot.task = null;
    this.replace(slot);
  }

  private fail(error: GlmvError): void {
    if (!this.fatal) this.fatal = error;
    const pending = [...this.queue, ...this.slots.flatMap((s) => (s.task ? [s.task] : []))];
    this.queue = [];
    for (const t of pending) t.reject(this.fatal);
  }
}
