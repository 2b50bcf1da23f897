/**
 * A pool of reward workers with a hard per-item deadline (design.md "The reward system"). Items go out in chunks;
 * a worker posts each result as it finishes, and the pool times the item in progress from the previous result.
 * Past the deadline the worker is terminated (no computer-algebra call can outlive it), the item is recorded as
 * reward 0 with `timedOut: true`, a fresh worker is started, and the rest of the chunk is queued again. A worker
 * that dies (uncaught error, out of memory) is handled the same way with a `crash` result. A batch always completes.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { GlmvError } from "../util/errors.ts";
import type { ScoredResult, ScoreInput } from "./system.ts";
import type { ResponseStyle } from "./types.ts";
import type { ChunkMessage, WorkerData, WorkerMessage } from "./worker.ts";

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
  ready: boolean;
  chunk: Task[] | null;
  seq: number;
  /** Index in `chunk` of the item in progress, and when it started. */
  next: number;
  startedAt: number;
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
  private readonly data: WorkerData;
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
      extraVerifiersModule: extra === undefined ? undefined : toModuleUrl(extra),
    };
    if (!(this.deadlineMs > 0))
      throw new GlmvError("bad_argument", "deadlineMs must be > 0", { where: "deadlineMs" });
    if (!Number.isFinite(this.size))
      throw new GlmvError("bad_argument", "workers must be a number", { where: "workers" });
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  /** Score items; resolves with one result per item, in order. Timeouts and crashes are results, not errors. */
  score(items: readonly ScoreInput[], callbacks: ScoreCallbacks = {}): Promise<ScoredResult[]> {
    if (this.closed) return Promise.reject(new GlmvError("bad_argument", "the reward pool is closed"));
    if (this.fatal) return Promise.reject(this.fatal);
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
      worker: this.startWorker(() => slot),
      ready: false,
      chunk: null,
      seq: 0,
      next: 0,
      startedAt: 0,
      timer: null,
      startup: null,
    };
    this.armStartup(slot);
    return slot;
  }

  /** Start a worker whose events go to the slot `owner()` returns (read late: the slot is built around it). */
  private startWorker(owner: () => Slot): Worker {
    const worker = new Worker(BOOT, {
      workerData: this.data,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
    });
    worker.on("message", (msg: WorkerMessage) => this.onMessage(owner(), msg));
    worker.on("error", (err) => this.onCrash(owner(), err));
    worker.on("exit", (code) => this.onCrash(owner(), new Error(`worker exited with code ${code}`)));
    return worker;
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
    if (chunk === null || msg.seq !== slot.seq || msg.k !== slot.next) return;
    // Advance before delivering, so a throwing `onResult` cannot leave the slot pointing at a finished item.
    slot.next = msg.k + 1;
    slot.startedAt = performance.now();
    const finished = slot.next === chunk.length;
    if (finished) slot.chunk = null;
    chunk[msg.k]!.deliver(msg.result, { ms: msg.ms });
    if (finished) this.pump();
  }

  /** Replace a slot's worker: the item in progress gets `failure`, the rest of its chunk goes back to the queue. */
  private replace(slot: Slot, failure: ScoredResult | null): void {
    const worker = this.retire(slot);
    void worker.terminate();
    const chunk = slot.chunk;
    slot.chunk = null;
    if (chunk !== null) {
      const current = chunk[slot.next];
      if (current && failure) current.deliver(failure, { ms: performance.now() - slot.startedAt });
      this.queue = [...chunk.slice(slot.next + 1), ...this.queue];
    }
    if (this.closed) return;
    slot.ready = false;
    slot.worker = this.startWorker(() => slot);
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
  }

  private onDeadline(slot: Slot): void {
    slot.timer = null;
    if (slot.chunk === null) return;
    const elapsed = performance.now() - slot.startedAt;
    if (elapsed < this.deadlineMs) {
      // The worker moved on since the timer was set: wait for the rest of the current item's time.
      slot.timer = setTimeout(() => this.onDeadline(slot), this.deadlineMs - elapsed);
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
      slot.next = 0;
      slot.startedAt = performance.now();
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
