/**
 * A reward worker thread: loads the verifiers, warms them up, then scores the chunks the pool sends. Before each
 * item it writes the item's index and start time to shared memory (the pool's deadline clock); results go back
 * in small batches. Started by `pool.ts` through `worker-boot.mjs`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { DOMAINS, type Domain } from "../model/domains.ts";
import { VERIFIERS } from "./registry.ts";
import { type ScoreOptions, scoreValidItem } from "./system.ts";
import type { Verifier } from "./types.ts";
import {
  type ChunkMessage,
  type ItemResult,
  K,
  progressView,
  SEQ,
  type WorkerData,
  type WorkerMessage,
} from "./worker-protocol.ts";

// Results are posted in small batches: one message per item would keep the pool's thread busier than a worker.
const FLUSH_ITEMS = 32;
const FLUSH_MS = 10;

const data = workerData as WorkerData;
const port = parentPort;
if (port === null) throw new Error("reward worker.ts must run in a worker thread");

let verifiers: Record<Domain, Verifier> = VERIFIERS;
if (data.extraVerifiersModule !== undefined) {
  const extra = (await import(data.extraVerifiersModule)) as {
    verifiers?: Partial<Record<Domain, Verifier>>;
  };
  verifiers = { ...VERIFIERS, ...extra.verifiers };
}
const options: ScoreOptions = {
  style: data.style,
  maxBoxChars: data.maxBoxChars,
  thinking: data.thinking,
  verifiers,
};

/**
 * Run every verifier once on a numeric and a symbolic answer before reporting ready: lazy initialisation (the
 * computer-algebra engine builds its tables on first use) must not be charged to the first item's deadline.
 */
function warmUp(): void {
  for (const domain of DOMAINS) {
    for (const [pred, gold] of [
      ["1", "1"],
      ["\\frac{x}{2}+1", "1+x/2"],
    ] as const) {
      const box = `<|begin_of_box|>${pred}<|end_of_box|>`;
      for (const response of [`<think>w</think><answer>${box}</answer>`, `<think>w</think>${box}`]) {
        scoreValidItem({ id: "warm-up", domain, response, answer: gold }, options);
      }
    }
  }
}

warmUp();
const { ints, startedAt } = progressView(data.progress);
port.on("message", (msg: ChunkMessage) => {
  let batch: ItemResult[] = [];
  let lastFlush = Date.now();
  const flush = () => {
    port.postMessage({ type: "results", seq: msg.seq, results: batch } satisfies WorkerMessage);
    batch = [];
  };
  for (let k = 0; k < msg.items.length; k++) {
    // Start time first, then k, then (for the first item) seq: the pool reads in the reverse order.
    startedAt[0] = Date.now();
    Atomics.store(ints, K, k);
    if (k === 0) Atomics.store(ints, SEQ, msg.seq);
    const t0 = performance.now();
    // RewardPool.score validated every item before posting it here
    const result = scoreValidItem(msg.items[k]!, options);
    batch.push({ k, result, ms: performance.now() - t0 });
    const now = Date.now();
    if (batch.length >= FLUSH_ITEMS || now - lastFlush >= FLUSH_MS) {
      flush();
      lastFlush = now;
    }
  }
  Atomics.store(ints, K, msg.items.length);
  if (batch.length > 0) flush();
});
port.postMessage({ type: "ready" } satisfies WorkerMessage);
