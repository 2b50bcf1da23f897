/**
 * `npm run bench:data`: the image–pair pipeline's throughput and the dedup index's look-up time (issue 21).
 * 1. Generates JPEGs of 256–512 px (smooth scenes with noise; 5% solid colours, 5% exact and 5% near copies).
 * 2. Runs decode + image-bounds + low-information + exact-dedup + phash-dedup over them in one worker thread, then
 *    in two worker threads sharing one index file (each thread is one core: libvips runs single-threaded in it).
 * 3. Builds a 1M-hash phash index in one transaction and times near-duplicate look-ups in it (half are hits).
 * Prints exactly one JSON line: {imagesPerSecPerCore, imagesPerSecTwoCores, dedupLookupMs, dedupBuildSec, …}.
 * Options via env: BENCH_IMAGES (600), BENCH_INDEX_SIZE (1000000), BENCH_LOOKUPS (2000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import sharp from "sharp";
import { PhashIndex } from "../src/curate/image/hash-index.ts";
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

/** Images per second through `threads` workers splitting the images, all claiming in one fresh index. */
async function throughput(images: Uint8Array[], threads: number, root: string) {
  const stateDir = mkdtempSync(join(root, `state-${threads}-`));
  const parts = Array.from({ length: threads }, (_, t) => images.filter((_, i) => i % threads === t));
  const t0 = performance.now();
  const results = await Promise.all(
    parts.map((part, t) =>
      runWorker({ stateDir, warmDir: mkdtempSync(join(root, "warm-")), images: part, prefix: `t${t}` }),
    ),
  );
  // Each worker times its own loop (after warm-up); the slowest one bounds the wall time of the batch.
  const wallMs = Math.max(...results.map((r) => r.ms));
  const dropped: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
  return { perSec: (images.length / wallMs) * 1000, dropped, totalMs: performance.now() - t0 };
}

function lookupBench(root: string) {
  const rng = createRng(7);
  const random64 = () => (BigInt(rng.int(0, 0xffffffff)) << 32n) | BigInt(rng.int(0, 0xffffffff));
  const index = new PhashIndex(join(root, "lookup.sqlite"), 5);
  const stored: bigint[] = [];
  const t0 = performance.now();
  index.addMany(
    (function* () {
      for (let i = 0; i < INDEX_SIZE; i++) {
        const h = random64();
        if (i % 500 === 0) stored.push(h);
        yield [`h${i}`, h] as [string, bigint];
      }
    })(),
  );
  const buildSec = (performance.now() - t0) / 1000;
  // Half the probes are 3 bits from a stored hash (hits), half random (misses, the common case).
  const probes = Array.from({ length: LOOKUPS }, (_, i) =>
    i % 2 ? rng.pick(stored) ^ (1n << 5n) ^ (1n << 30n) ^ (1n << 60n) : random64(),
  );
  for (const q of probes.slice(0, 200)) index.nearest(q);
  let hits = 0;
  const t1 = performance.now();
  for (const q of probes) if (index.nearest(q)) hits++;
  const lookupMs = (performance.now() - t1) / probes.length;
  index.close();
  return { buildSec, lookupMs, hits };
}

const root = mkdtempSync(join(tmpdir(), "glmv-bench-data-"));
try {
  const images = await makeImages(IMAGES);
  const one = await throughput(images, 1, root);
  const two = await throughput(images, 2, root);
  const lookup = lookupBench(root);
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
