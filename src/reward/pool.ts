/**
 * A pool of reward workers with a hard per-item deadline (design.md "The reward system"). Items go out in chunks;
 * a worker records in shared memory which item it is scoring and since when, and posts results in small batches.
 * Past the deadline the worker is terminated (no computer-algebra call can outlive it), the item is recorded as
 * reward 0 with `timedOut: true`, a fresh worker is started, and the rest of the chunk is queued again. A worker
 * that dies (uncaught error, out of memory) is handled the same way with a `crash` result. A batch always completes.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { ResponseStyle } from "../model/domains.ts";
import { GlmvError } from "../util/errors.ts";
import { scoreInputsError } from "./item-schema.ts";
import type { ScoredResult, ScoreInput } from "./system.ts";
import {
  type ChunkMessage,
  type ItemResult,
  K,
  PROGRESS_BYTES,
  progressView,
  SEQ,
  type WorkerData,
  type WorkerMessage,
} from "./worker-protocol.ts";

export type RewardPoolOptions = {
  /** Worker threads; default `os.availableParallelism()`. */
  workers?: number | undefined;
  /** Hard deadline per item in ms; default 2000. */
  deadlineMs?: number | undefined;
  /** Most items sent to a worker at once; default 64 (smaller when the queue is short, to spread the work). */
  chunkSize?: number | undefined;
  /** The run's response style (an item's own wins); default "4.1v". */
  style?: ResponseStyle | undefined;
  /** Cap on boxed content length, passed to the format gate. */
  maxBoxChars?: number | undefined;
  /**
   * The run's thinking switch (`ScoreOptions.thinking`), default true: false gates a response without a think block
   * as if the prompt's pre-filled `<think></think>` were there (GLM-4.5V/4.6V non-thinking mode).
   */
  thinking?: boolean | undefined;
  /** URL or path of a module exporting `verifiers` that replace built-in ones (tests inject a hanging verifier). */
  extraVerifiersModule?: string | URL | undefined;
  /** Heap cap of a worker in MB, so a runaway allocation kills one worker, not the process; default 1024. */
  maxWorkerHeapMb?: number | undefined;
  /** How long a worker may take to load and warm up; default 60 s. */
  startupTimeoutMs?: number | undefined;
};

/** Per-item timing reported to `onResult`: scoring time inside the worker (the deadline for a timeout). */
export type ItemTiming = { ms: number };
export type ScoreCallbacks = { onResult?: (index: number, result: ScoredResult, timing: ItemTiming) => void };

type Task = { item: ScoreInput; deliver: (result: ScoredResult, timing: ItemTiming) => void };
type Slot = {
  worker: Worker;
  /** The worker's shared progress block (a fresh one per worker: a terminated worker may still write its old one). */
  progress: ReturnType<typeof progressView>;
  ready: boolean;
  chunk: Task[] | null;
  seq: number;
  /** How many items of `chunk` have been delivered (results arrive in order). */
  delivered: number;
  /** `Date.now()` when the chunk was sent: the clock of its first item until the worker starts it. */
  sentAt: number;
  timer: NodeJS.Timeout | null;
  startup: NodeJS.Timeout | null;
};

const BOOT = new URL("./worker-boot.mjs", import.meta.url);
const ENTRY = new URL("./worker.ts", import.meta.url).href;

function failed(stage: "timeout" | "crash", reason: string): ScoredResult {
  return {
    reward: 0,
    correct: false,
    format: "ok",
    extracted: null,
    timedOut: stage === "timeout",
    reason,
    stage,
  };
}

/**
 * @example
 * const pool = new RewardPool({ deadlineMs: 2000 });
 * try { const results = await pool.score(items); } finally { await pool.close(); }
 */
export class RewardPool {
  readonly deadlineMs: number;
  readonly size: number;
  private readonly chunkSize: number;
  private readonly data: Omit<WorkerData, "progress">;
  private readonly heapMb: number;
  private readonly startupTimeoutMs: number;
  private readonly slots: Slot[] = [];
  private queue: Task[] = [];
  private seq = 0;
  private closed = false;
  /** Set when workers cannot start at all; every pending and later `score` call rejects with it. */
  private fatal: GlmvError | null = null;
  private readonly failWaiters = new Set<(e: GlmvError) => void>();

  constructor(opts: RewardPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(opts.workers ?? availableParallelism()));
    this.deadlineMs = opts.deadlineMs ?? 2000;
    this.chunkSize = Math.max(1, opts.chunkSize ?? 64);
    this.heapMb = opts.maxWorkerHeapMb ?? 1024;
    this.startupTimeoutMs = opts.startupTimeoutMs ?? 60_000;
    const extra = opts.extraVerifiersModule;
    this.data = {
      entry: ENTRY,
      style: opts.style,
      maxBoxChars: opts.maxBoxChars,
      thinking: opts.thinking,
      extraVerifiersModule: extra === undefined ? undefined : toModuleUrl(extra),
    };
    if (!(this.deadlineMs > 0))
      throw new GlmvError("bad_argument", "deadlineMs must be > 0", { where: "deadlineMs" });
    if (!Number.isFinite(this.size))
      throw new GlmvError("bad_argument", "workers must be a number", { where: "workers" });
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  /**
   * Score items; resolves with one result per item, in order. Timeouts and crashes are results, not errors. Rejects
   * with a `bad_input` `GlmvError` (`where: "items.3.response"`) before any item is scored when one is invalid.
   */
  score(items: readonly ScoreInput[], callbacks: ScoreCallbacks = {}): Promise<ScoredResult[]> {
    if (this.closed) return Promise.reject(new GlmvError("bad_argument", "the reward pool is closed"));
    if (this.fatal) return Promise.reject(this.fatal);
    const invalid = scoreInputsError(items);
    if (invalid !== null) return Promise.reject(invalid);
    const results = new Array<ScoredResult>(items.length);
    if (items.length === 0) return Promise.resolve(results);
    return new Promise((resolve, reject) => {
      let left = items.length;
      const onFatal = (e: GlmvError) => reject(e);
      this.failWaiters.add(onFatal);
      items.forEach((item, index) => {
        this.queue.push({
          item,
          deliver: (result, timing) => {
            results[index] = result;
            callbacks.onResult?.(index, result, timing);
            if (--left === 0) {
              this.failWaiters.delete(onFatal);
              resolve(results);
            }
          },
        });
      });
      this.pump();
    });
  }

  /** Terminate every worker; `score` calls still pending reject. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = new GlmvError("bad_argument", "the reward pool was closed with items pending");
    for (const fail of this.failWaiters) fail(pending);
    this.failWaiters.clear();
    this.queue = [];
    const workers = this.slots.map((s) => this.retire(s));
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(): Slot {
    const slot: Slot = {
      ...this.startWorker(() => slot),
      ready: false,
      chunk: null,
      seq: 0,
      delivered: 0,
      sentAt: 0,
      timer: null,
      startup: null,
    };
    this.armStartup(slot);
    return slot;
  }

  /** Start a worker whose events go to the slot `owner()` returns (read late: the slot is built around it). */
  private startWorker(owner: () => Slot): Pick<Slot, "worker" | "progress"> {
    const buffer = new SharedArrayBuffer(PROGRESS_BYTES);
    const worker = new Worker(BOOT, {
      workerData: { ...this.data, progress: buffer } satisfies WorkerData,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
    });
    worker.on("message", (msg: WorkerMessage) => this.onMessage(owner(), msg));
    worker.on("error", (err) => this.onCrash(owner(), err));
    worker.on("exit", (code) => this.onCrash(owner(), new Error(`worker exited with code ${code}`)));
    return { worker, progress: progressView(buffer) };
  }

  private armStartup(slot: Slot): void {
    slot.startup = setTimeout(
      () => this.onCrash(slot, new Error("worker startup timed out")),
      this.startupTimeoutMs,
    );
  }

  /** Detach a slot's worker from the pool (listeners, timers) and return it for termination. */
  private retire(slot: Slot): Worker {
    slot.worker.removeAllListeners();
    // A late 'error' from a terminated worker must not become an unhandled exception.
    slot.worker.on("error", () => {});
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.startup) clearTimeout(slot.startup);
    slot.timer = slot.startup = null;
    return slot.worker;
  }

  private onMessage(slot: Slot, msg: WorkerMessage): void {
    if (msg.type === "ready") {
      slot.ready = true;
      if (slot.startup) clearTimeout(slot.startup);
      slot.startup = null;
      this.pump();
      return;
    }
    const chunk = slot.chunk;
    if (chunk === null || msg.seq !== slot.seq) return;
    // Advance before delivering, so a throwing `onResult` cannot leave the slot inconsistent.
    const ready: [Task, ItemResult][] = [];
    for (const r of msg.results) {
      if (r.k !== slot.delivered) continue;
      ready.push([chunk[r.k]!, r]);
      slot.delivered++;
    }
    const finished = slot.delivered === chunk.length;
    if (finished) slot.chunk = null;
    for (const [task, r] of ready) task.deliver(r.result, { ms: r.ms });
    if (finished) this.pump();
  }

  /** Which item of the current chunk the worker is scoring, and since when (ms since the epoch). */
  private inProgress(slot: Slot): { k: number; since: number } {
    const { ints, startedAt } = slot.progress;
    // Read seq, then k, then the time: the worker writes them in the reverse order.
    if (Atomics.load(ints, SEQ) !== slot.seq) return { k: slot.delivered, since: slot.sentAt };
    const k = Atomics.load(ints, K);
    return { k, since: startedAt[0]! };
  }

  /**
   * Replace a slot's worker. Item `k` (the one in progress) gets `failure`; the chunk's other undelivered items,
   * including finished ones whose batch had not been posted yet, go back to the front of the queue.
   */
  private replace(slot: Slot, failure: ScoredResult): void {
    const chunk = slot.chunk;
    const { k, since } = chunk === null ? { k: -1, since: 0 } : this.inProgress(slot);
    const worker = this.retire(slot);
    void worker.terminate();
    slot.chunk = null;
    if (chunk !== null) {
      const rest = chunk.slice(slot.delivered).filter((_, i) => i + slot.delivered !== k);
      this.queue = [...rest, ...this.queue];
      if (k >= slot.delivered && k < chunk.length) chunk[k]!.deliver(failure, { ms: Date.now() - since });
    }
    if (this.closed) return;
    slot.ready = false;
    Object.assign(
      slot,
      this.startWorker(() => slot),
    );
    this.armStartup(slot);
  }

  private onCrash(slot: Slot, err: Error): void {
    if (this.closed) return;
    if (!slot.ready) {
      // A worker that cannot even load (a syntax error, a missing module) would fail forever: stop here.
      this.retire(slot);
      void slot.worker.terminate();
      this.fatal = new GlmvError("worker_crashed", `reward worker failed to start: ${err.message}`, {
        cause: err,
      });
      for (const fail of this.failWaiters) fail(this.fatal);
      this.failWaiters.clear();
      this.queue = [];
      return;
    }
    this.replace(slot, failed("crash", `worker crashed: ${err.message}`));
    this.pump();
  }

  private onDeadline(slot: Slot): void {
    slot.timer = null;
    const chunk = slot.chunk;
    if (chunk === null) return;
    const { k, since } = this.inProgress(slot);
    const elapsed = Date.now() - since;
    if (k >= chunk.length || elapsed < this.deadlineMs) {
      // The worker moved on (or finished and its last batch is in flight): wait out the current item's time.
      const wait = k >= chunk.length ? this.deadlineMs : this.deadlineMs - elapsed;
      slot.timer = setTimeout(() => this.onDeadline(slot), Math.max(1, wait));
      return;
    }
    this.replace(slot, failed("timeout", `timed out after ${this.deadlineMs} ms`));
    this.pump();
  }

  /** Hand queued items to idle ready workers, in chunks sized to spread a short queue over all of them. */
  private pump(): void {
    if (this.fatal) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.chunk !== null) continue;
      const size = Math.min(this.chunkSize, Math.ceil(this.queue.length / this.slots.length));
      const chunk = this.queue.splice(0, size);
      slot.chunk = chunk;
      slot.seq = ++this.seq;
      slot.delivered = 0;
      slot.sentAt = Date.now();
      slot.worker.postMessage({ seq: slot.seq, items: chunk.map((t) => t.item) } satisfies ChunkMessage);
      if (slot.timer === null) slot.timer = setTimeout(() => this.onDeadline(slot), this.deadlineMs);
    }
  }
}

function toModuleUrl(spec: string | URL): string {
  if (spec instanceof URL) return spec.href;
  if (/^[a-z]+:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) return spec;
  return new URL(spec, `file://${process.cwd()}/`).href;
}
