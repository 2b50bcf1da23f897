/**
 * `npm run bench:data`: the image–pair pipeline's throughput and the dedup index's look-up time (issue 21).
 * 1. Generates JPEGs of 256–512 px (smooth scenes with noise; 5% solid colours, 5% exact and 5% near copies).
 * 2. Runs them as a pipeline does, in one worker thread, then in two (each thread is one core: libvips runs
 *    single-threaded in it): phase 1 decode + image-bounds + low-information + phash, each worker on its share;
 *    phase 2 exact-dedup + phash-dedup, whose index over every item is built once (by one worker, from the hashes
 *    phase 1 left) before each worker decides its share. The time is both phases' wall time.
 * 3. Builds a 1M-item phash-dedup index the way the stage does (input digest, rows from `fields.phash`, band
 *    indexes) and times the stage's own look-up in it (`PhashIndex.earlier`: own row, then earlier neighbours);
 *    half the looked-up items are near copies of an earlier one.
 * Prints exactly one JSON line: {imagesPerSecPerCore, imagesPerSecTwoCores, dedupLookupMs, dedupBuildSec, …}.
 * Options via env: BENCH_IMAGES (600), BENCH_INDEX_SIZE (1000000), BENCH_LOOKUPS (2000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import sharp from "sharp";
import { contentHash } from "../src/curate/image/content-hash.ts";
import { imageHashFields, PhashIndex } from "../src/curate/image/hash-index.ts";
import type { CurateItem } from "../src/curate/stage.ts";
import { createRng, type Rng } from "../src/util/rng.ts";
import type { DataWorkerInput, DataWorkerResult } from "./data-worker.ts";

const IMAGES = Number(process.env.BENCH_IMAGES ?? 600);
const INDEX_SIZE = Number(process.env.BENCH_INDEX_SIZE ?? 1_000_000);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 2000);
const BOOT = new URL("../src/reward/worker-boot.mjs", import.meta.url);
const ENTRY = new URL("./data-worker.ts", import.meta.url).href;

/** A smooth two-colour scene with a few discs and sensor-like noise, as a JPEG. */
async function sceneJpeg(rng: Rng): Promise<Uint8Array> {
  const width = rng.int(256, 512);
  const height = rng.int(256, 512);
  const raw = Buffer.alloc(width * height * 3);
  const a = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
  const b = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
  const discs = Array.from({ length: rng.int(2, 6) }, () => ({
    x: rng.int(0, width),
    y: rng.int(0, height),
    r2: rng.int(15, 90) ** 2,
    c: [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)],
  }));
  let noise = rng.int(1, 0x7fffffff);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      const disc = discs.find((d) => (x - d.x) ** 2 + (y - d.y) ** 2 < d.r2);
      for (let c = 0; c < 3; c++) {
        const base = disc ? disc.c[c]! : a[c]! * (1 - t) + b[c]! * t;
        noise = (noise * 48271) % 0x7fffffff; // Lehmer: per-pixel noise without a call per sample
        raw[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, base + (noise / 0x7fffffff - 0.5) * 24));
      }
    }
  return new Uint8Array(
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 85 })
      .toBuffer(),
  );
}

async function makeImages(count: number): Promise<Uint8Array[]> {
  const rng = createRng(21);
  const images: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const kind = rng.float();
    if (kind < 0.05 && images.length > 0) images.push(Uint8Array.from(rng.pick(images)));
    else if (kind < 0.1 && images.length > 0) {
      const src = rng.pick(images);
      images.push(new Uint8Array(await sharp(src).resize({ width: 240 }).jpeg({ quality: 60 }).toBuffer()));
    } else if (kind < 0.15) {
      const background = { r: rng.int(0, 255), g: rng.int(0, 255), b: rng.int(0, 255) };
      const solid = sharp({
        create: { width: rng.int(256, 512), height: rng.int(256, 512), channels: 3, background },
      });
      images.push(new Uint8Array(await solid.jpeg().toBuffer()));
    } else images.push(await sceneJpeg(rng));
  }
  return images;
}

function runWorker(input: DataWorkerInput): Promise<DataWorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOT, { workerData: { ...input, entry: ENTRY } });
    worker.once("message", (m: DataWorkerResult) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

/** One phase over `items` split across `threads` workers: the kept items back in input order, and the wall time. */
async function runPhase(
  phase: DataWorkerInput["phase"],
  items: CurateItem[],
  threads: number,
  stateDir: string,
) {
  const parts = Array.from({ length: threads }, (_, t) => items.filter((_, i) => i % threads === t));
  const results = await Promise.all(
    parts.map((part) =>
      runWorker({ phase, stateDir, items: part, all: phase === "dedup" ? items : [], warm: true }),
    ),
  );
  const keptIds = new Set(results.flatMap((r) => r.kept.map((k) => k.id)));
  const byId = new Map(results.flatMap((r) => r.kept.map((k) => [k.id, k] as const)));
  const dropped: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
  // Each worker times its own loop; the slowest one bounds the phase.
  const ms = Math.max(...results.map((r) => r.ms));
  return { kept: items.filter((i) => keptIds.has(i.id)).map((i) => byId.get(i.id)!), dropped, ms };
}

/** Images per second through both phases on `threads` workers, with a fresh state folder. */
async function throughput(images: Uint8Array[], threads: number, root: string) {
  const stateDir = mkdtempSync(join(root, `state-${threads}-`));
  const items: CurateItem[] = images.map((bytes, i) => ({
    id: `img-${i}`,
    media: [{ name: "0.jpg", bytes }],
    fields: {},
  }));
  const hashed = await runPhase("hash", items, threads, stateDir);
  const deduped = await runPhase("dedup", hashed.kept, threads, stateDir);
  const wallMs = hashed.ms + deduped.ms;
  return { perSec: (images.length / wallMs) * 1000, dropped: { ...hashed.dropped, ...deduped.dropped } };
}

/** `count` synthetic items carrying their pHash (as the phash stage leaves it); every 1000th is a near copy. */
function syntheticInput(count: number, copyOf: (i: number) => number | null) {
  return async function* (): AsyncGenerator<CurateItem> {
    const rng = createRng(7);
    const hashes: bigint[] = [];
    for (let i = 0; i < count; i++) {
      const source = copyOf(i);
      const hash =
        source === null
          ? (BigInt(rng.int(0, 0xffffffff)) << 32n) | BigInt(rng.int(0, 0xffffffff))
          : hashes[source]! ^ (1n << 5n) ^ (1n << 30n) ^ (1n << 60n);
      if (i % 1000 === 0) hashes[i] = hash;
      const bytes = new TextEncoder().encode(`h${i}`);
      yield imageItem(`h${i}`, bytes, hash);
    }
  };
}

const imageItem = (id: string, bytes: Uint8Array, hash: bigint): CurateItem => ({
  id,
  media: [{ name: "0.png", bytes }],
  fields: imageHashFields(contentHash(bytes), hash),
});

async function lookupBench(root: string) {
  // Item 1000k+999 is a copy (3 bits off) of item 1000k: a hit; the others are random (misses, the common case).
  const copyOf = (i: number) => (i % 1000 === 999 ? i - 999 : null);
  const t0 = performance.now();
  const index = await PhashIndex.open(join(root, "lookup.sqlite"), 5, syntheticInput(INDEX_SIZE, copyOf));
  const buildSec = (performance.now() - t0) / 1000;
  const rng = createRng(11);
  const copies = Math.floor(INDEX_SIZE / 1000);
  const ids = Array.from({ length: LOOKUPS }, (_, i) =>
    i % 2 && copies > 0 ? `h${rng.int(0, copies - 1) * 1000 + 999}` : `h${rng.int(0, INDEX_SIZE - 1)}`,
  );
  for (const id of ids.slice(0, 200)) index.earlier(id);
  let hits = 0;
  const t1 = performance.now();
  for (const id of ids) if (index.earlier(id)?.kind === "duplicate") hits++;
  const lookupMs = (performance.now() - t1) / ids.length;
  index.close();
  return { buildSec, lookupMs, hits };
}

const root = mkdtempSync(join(tmpdir(), "glmv-bench-data-"));
try {
  const images = await makeImages(IMAGES);
  const one = await throughput(images, 1, root);
  const two = await throughput(images, 2, root);
  const lookup = await lookupBench(root);
  console.log(
    JSON.stringify({
      imagesPerSecPerCore: Math.round(one.perSec),
      imagesPerSecTwoCores: Math.round(two.perSec),
      dedupLookupMs: Number(lookup.lookupMs.toFixed(4)),
      dedupBuildSec: Number(lookup.buildSec.toFixed(1)),
      dedupIndexSize: INDEX_SIZE,
      dedupLookupHits: lookup.hits,
      images: IMAGES,
      dropped: one.dropped,
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
