/**
 * An item worker: opens each stage the first time it is given one of its items (once per worker, as `open` is
 * once per process), runs one item at a time under an AbortSignal the runner can fire, and closes its stages when
 * told. A stage that throws on an item is reported as `failed` (the runner drops the item), not as a crash.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadRegistry } from "../pipeline.ts";
import type { AnyStageDef, StageInstance, StageOutcome } from "../stage.ts";
import { shardStore } from "./store.ts";
import type { FromWorker, StageWorkerData, ToWorker } from "./worker-protocol.ts";

const data = workerData as StageWorkerData;
const port = parentPort!;
const post = (msg: FromWorker) => port.postMessage(msg);
const registry = await loadRegistry(data.modules, { stages: data.stages.map((s) => s.use) });
const store = shardStore(data.out, data.stageNames);
const opened = new Map<number, Promise<StageInstance>>();
const running = new Map<number, AbortController>();

function openStage(k: number): Promise<StageInstance> {
  let instance = opened.get(k);
  if (!instance) {
    const { use, raw } = data.stages[k]!;
    const def = registry.stages.find((s) => s.name === use) as AnyStageDef;
    instance = def.open(def.options.parse(raw), {
      baseDir: data.baseDir,
      stateDir: data.stateDir,
      scanInput: () => store.scan(k, data.shardCount),
    });
    opened.set(k, instance);
  }
  return instance;
}

/** A stage's outcome, checked: a malformed one is the stage's error, not the runner's. */
function checked(outcome: StageOutcome): StageOutcome {
  if (outcome?.kind === "drop" && typeof outcome.reason === "string") return outcome;
  if (
    outcome?.kind === "keep" &&
    Array.isArray(outcome.items) &&
    outcome.items.every((i) => typeof i?.id === "string")
  )
    return outcome;
  throw new Error(
    `the stage returned ${JSON.stringify(outcome)?.slice(0, 200)}, not keep(...) or drop(reason)`,
  );
}

async function runItem(msg: Extract<ToWorker, { type: "item" }>): Promise<void> {
  let instance: StageInstance;
  try {
    instance = await openStage(msg.stage);
  } catch (e) {
    post({
      type: "fatal",
      message: `stage ${data.stages[msg.stage]!.use} failed to open: ${(e as Error).message}`,
    });
    return;
  }
  post({ type: "started", seq: msg.seq });
  const abort = new AbortController();
  running.set(msg.seq, abort);
  try {
    const outcome = checked(await instance.process(msg.item, { shard: msg.shard, signal: abort.signal }));
    post({ type: "done", seq: msg.seq, outcome });
  } catch (e) {
    post({ type: "failed", seq: msg.seq, message: e instanceof Error ? e.message : String(e) });
  } finally {
    running.delete(msg.seq);
  }
}

async function closeAll(): Promise<void> {
  for (const instance of opened.values()) {
    try {
      await (await instance).close?.();
    } catch {
      // a stage that failed to open has nothing to close
    }
  }
  post({ type: "closed" });
}

port.on("message", (msg: ToWorker) => {
  if (msg.type === "item") void runItem(msg);
  else if (msg.type === "abort") running.get(msg.seq)?.abort(new Error("item time limit"));
  else void closeAll();
});
post({ type: "ready" });
