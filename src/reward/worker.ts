/**
 * A reward worker thread: loads the verifiers, warms them up, then scores the chunks the pool sends, posting
 * each result as soon as it is ready (the pool times every item from the previous post). Started by `pool.ts`
 * through `worker-boot.mjs`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { VERIFIERS } from "./registry.ts";
import { type ScoredResult, type ScoreInput, type ScoreOptions, scoreItem } from "./system.ts";
import { DOMAINS, type Domain, type Verifier } from "./types.ts";

/** What the pool passes to each worker. */
export type WorkerData = {
  entry: string;
  style: ScoreOptions["style"];
  maxBoxChars: number | undefined;
  /** URL of a module exporting `verifiers: Partial<Record<Domain, Verifier>>` that replace the built-in ones. */
  extraVerifiersModule: string | undefined;
};
/** Pool → worker: score these items in order. */
export type ChunkMessage = { seq: number; items: ScoreInput[] };
/** Worker → pool: ready after warm-up, or the result of item `k` of chunk `seq` and its scoring time. */
export type WorkerMessage =
  | { type: "ready" }
  | { type: "result"; seq: number; k: number; result: ScoredResult; ms: number };

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
const options: ScoreOptions = { style: data.style, maxBoxChars: data.maxBoxChars, verifiers };

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
        scoreItem({ id: "warm-up", domain, response, answer: gold }, options);
      }
    }
  }
}

warmUp();
port.on("message", (msg: ChunkMessage) => {
  for (let k = 0; k < msg.items.length; k++) {
    const t0 = performance.now();
    const result = scoreItem(msg.items[k]!, options);
    const ms = performance.now() - t0;
    port.postMessage({ type: "result", seq: msg.seq, k, result, ms } satisfies WorkerMessage);
  }
});
port.postMessage({ type: "ready" } satisfies WorkerMessage);
