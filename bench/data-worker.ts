/**
 * One worker of `bench:data`, in one of the run's two phases, one item at a time with libvips on one thread (so
 * one worker is one core), reporting its wall time:
 * - `hash`: decode + image-bounds + low-information + phash over its share of the images (the parallel part);
 * - `dedup`: exact-dedup + phash-dedup opened over every hashed item (the index built once, by whichever worker
 *   gets the lock, from the hashes the first phase left), then its share of the items through them.
 */
import { parentPort, workerData } from "node:worker_threads";
import sharp from "sharp";
import type { CurateItem, StageInstance } from "../src/curate/stage.ts";
import { exactDedup } from "../src/curate/stages/pairs/exact-dedup.ts";
import { imageBounds } from "../src/curate/stages/pairs/image-bounds.ts";
import { lowInformation } from "../src/curate/stages/pairs/low-information.ts";
import { phashStage } from "../src/curate/stages/pairs/phash.ts";
import { phashDedup } from "../src/curate/stages/pairs/phash-dedup.ts";

export type DataWorkerInput = {
  phase: "hash" | "dedup";
  stateDir: string;
  /** This worker's items. */
  items: CurateItem[];
  /** Every item of the phase's input, in input order (what `scanInput` yields to the dedup stages). */
  all: CurateItem[];
  warm: boolean;
};
export type DataWorkerResult = { ms: number; kept: CurateItem[]; dropped: Record<string, number> };

sharp.concurrency(1);
const { phase, stateDir, items, all, warm } = workerData as DataWorkerInput;

async function openAll(): Promise<StageInstance[]> {
  const ctx = {
    baseDir: stateDir,
    stateDir,
    scanInput: async function* () {
      yield* all;
    },
  };
  if (phase === "hash")
    return [
      await imageBounds.open(imageBounds.options.parse({}), ctx),
      await lowInformation.open(lowInformation.options.parse({}), ctx),
      await phashStage.open(phashStage.options.parse({}), ctx),
    ];
  return [
    await exactDedup.open(exactDedup.options.parse({}), ctx),
    await phashDedup.open(phashDedup.options.parse({}), ctx),
  ];
}

async function runAll(stages: StageInstance[], list: CurateItem[]) {
  const signal = new AbortController().signal;
  const dropped: Record<string, number> = {};
  const kept: CurateItem[] = [];
  for (const first of list) {
    let item: CurateItem | undefined = first;
    for (const stage of stages) {
      const out = await stage.process(item, { shard: 0, signal });
      if (out.kind === "drop") {
        dropped[out.reason] = (dropped[out.reason] ?? 0) + 1;
        item = undefined;
        break;
      }
      item = out.items[0]!;
    }
    if (item) kept.push(item);
  }
  return { kept, dropped };
}

// Warm-up (JIT, libvips) on copies, untimed: the hash phase only (the dedup phase's open is part of its cost).
if (warm && phase === "hash") {
  const copies = items
    .slice(0, 20)
    .map((i) => ({ ...i, media: i.media.map((m) => ({ ...m, bytes: Uint8Array.from(m.bytes) })) }));
  await runAll(await openAll(), copies);
}
const t0 = performance.now();
const stages = await openAll();
const result = await runAll(stages, items);
for (const s of stages) await s.close?.();
parentPort!.postMessage({ ms: performance.now() - t0, ...result } satisfies DataWorkerResult);
