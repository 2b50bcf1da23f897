/**
 * One worker of `bench:data`: runs images through decode + image-bounds + low-information + exact-dedup +
 * phash-dedup, one item at a time with libvips on one thread (so one worker is one core), and reports its wall time.
 */
import { parentPort, workerData } from "node:worker_threads";
import sharp from "sharp";
import type { CurateItem, StageInstance } from "../src/curate/stage.ts";
import { exactDedup } from "../src/curate/stages/pairs/exact-dedup.ts";
import { imageBounds } from "../src/curate/stages/pairs/image-bounds.ts";
import { lowInformation } from "../src/curate/stages/pairs/low-information.ts";
import { phashDedup } from "../src/curate/stages/pairs/phash-dedup.ts";

export type DataWorkerInput = { stateDir: string; warmDir: string; images: Uint8Array[]; prefix: string };
export type DataWorkerResult = { ms: number; kept: number; dropped: Record<string, number> };

sharp.concurrency(1);
const { stateDir, warmDir, images, prefix } = workerData as DataWorkerInput;

async function openAll(dir: string): Promise<StageInstance[]> {
  const ctx = { baseDir: dir, stateDir: dir, scanInput: async function* () {} };
  return [
    await imageBounds.open(imageBounds.options.parse({}), ctx),
    await lowInformation.open(lowInformation.options.parse({}), ctx),
    await exactDedup.open(exactDedup.options.parse({}), ctx),
    await phashDedup.open(phashDedup.options.parse({}), ctx),
  ];
}

async function runAll(stages: StageInstance[], items: CurateItem[]): Promise<DataWorkerResult> {
  const signal = new AbortController().signal;
  const dropped: Record<string, number> = {};
  let kept = 0;
  const t0 = performance.now();
  for (const first of items) {
    let item = first;
    let alive = true;
    for (const stage of stages) {
      const out = await stage.process(item, { shard: 0, signal });
      if (out.kind === "drop") {
        dropped[out.reason] = (dropped[out.reason] ?? 0) + 1;
        alive = false;
        break;
      }
      item = out.items[0]!;
    }
    if (alive) kept++;
  }
  return { ms: performance.now() - t0, kept, dropped };
}

const asItems = (tag: string, list: Uint8Array[]): CurateItem[] =>
  list.map((bytes, i) => ({ id: `${tag}-${i}`, media: [{ name: "0.jpg", bytes }], fields: {} }));

// Warm up (JIT, libvips, SQLite statements) on copies, in a separate index, untimed.
const warm = await openAll(warmDir);
await runAll(
  warm,
  asItems(
    "warm",
    images.slice(0, 20).map((b) => Uint8Array.from(b)),
  ),
);
for (const s of warm) await s.close?.();

const stages = await openAll(stateDir);
const result = await runAll(stages, asItems(prefix, images));
for (const s of stages) await s.close?.();
parentPort!.postMessage(result);
