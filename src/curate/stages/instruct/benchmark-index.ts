/**
 * The benchmark side of the contamination check: each benchmark is read by its own evaluation task's loader (the
 * `task` / `data` pair `glmv eval run --tasks/--data` takes), and its prompts' word n-grams and its images' pHashes
 * go into an index cached per benchmark in the state folder (keyed by the release files' sizes and times and the
 * settings), so a run builds it once and every shard and rerun reads it.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { loadTask } from "../../../eval/registry.ts";
import type { EvalImage, EvalItem, EvalTask } from "../../../eval/types.ts";
import { GlmvError } from "../../../util/errors.ts";
import { writeFileAtomic } from "../../../util/fs.ts";
import { grayOf, imageThumbnail } from "../../image/decode.ts";
import { hashToHex, hexToHash, phashOfThumbnail, popcount32 } from "../../image/phash.ts";
import { buildOnce } from "../../state/build-once.ts";
import { gramKey, normalizedWords, wordGrams } from "./ngrams.ts";

/** One benchmark: an evaluation task's name and its release file or folder (an absolute path). */
export type BenchmarkSource = { task: string; data: string };

export type IndexSettings = {
  /** Words per gram (13). */
  ngram: number;
  /** A prompt shorter than `ngram` but with at least this many words is matched whole. */
  minWords: number;
  /** Hash the benchmark's images. */
  images: boolean;
};

/** What is cached per benchmark. Grams are flat triples: key, item index, number of distinct items holding it. */
type SourceIndex = {
  version: typeof INDEX_VERSION;
  task: string;
  data: string;
  ids: string[];
  grams: number[];
  /** Word counts of the prompts matched whole. */
  shortLengths: number[];
  /** pHashes as hex, and the item each belongs to. */
  imageHashes: string[];
  imageItems: number[];
  /** Images that could not be read or are near-uniform (a blank page matches every blank page). */
  skippedImages: number;
};

const INDEX_VERSION = 1;
/** Below this grayscale standard deviation an image carries too little to hash meaningfully. */
const MIN_GRAY_STDEV = 6;
const IMAGE_CONCURRENCY = 8;

/** The pHash of an image, or null when it does not decode or is near-uniform. */
export async function informativePhash(bytes: Uint8Array): Promise<bigint | null> {
  try {
    const thumb = await imageThumbnail(bytes);
    const gray = grayOf(thumb);
    let sum = 0;
    let sq = 0;
    for (const g of gray) {
      sum += g;
      sq += g * g;
    }
    const mean = sum / gray.length;
    if (Math.sqrt(Math.max(0, sq / gray.length - mean * mean)) < MIN_GRAY_STDEV) return null;
    return phashOfThumbnail(thumb);
  } catch {
    return null;
  }
}

/** The n-gram keys of one prompt: its grams, or the whole prompt when it is short but not trivial. */
function promptKeys(words: string[], s: IndexSettings): { keys: number[]; shortLength?: number } {
  if (words.length >= s.ngram) return { keys: wordGrams(words, s.ngram).map((g) => g.key) };
  if (words.length >= s.minWords)
    return { keys: [gramKey(words, 0, words.length)], shortLength: words.length };
  return { keys: [] };
}

async function imageBytes(image: EvalImage): Promise<Uint8Array | null> {
  if ("bytes" in image) return image.bytes;
  return readFile(image.path).then(
    (b) => new Uint8Array(b),
    () => null,
  );
}

async function hashImages(
  items: EvalItem[],
): Promise<Pick<SourceIndex, "imageHashes" | "imageItems" | "skippedImages">> {
  const jobs = items.flatMap((it, item) =>
    [...it.images, ...(it.video?.frames ?? [])].map((image) => ({ image, item })),
  );
  const hashes: (bigint | null)[] = new Array(jobs.length);
  for (let i = 0; i < jobs.length; i += IMAGE_CONCURRENCY) {
    const batch = jobs.slice(i, i + IMAGE_CONCURRENCY);
    const done = await Promise.all(
      batch.map(async ({ image }) => {
        const bytes = await imageBytes(image);
        return bytes ? informativePhash(bytes) : null;
      }),
    );
    done.forEach((h, j) => {
      hashes[i + j] = h;
    });
  }
  const out = { imageHashes: [] as string[], imageItems: [] as number[], skippedImages: 0 };
  hashes.forEach((h, i) => {
    if (h === null) out.skippedImages++;
    else {
      out.imageHashes.push(hashToHex(h));
      out.imageItems.push(jobs[i]!.item);
    }
  });
  return out;
}

async function buildSourceIndex(
  task: EvalTask,
  source: BenchmarkSource,
  s: IndexSettings,
): Promise<SourceIndex> {
  const items = await task.load(source.data);
  const grams = new Map<number, { item: number; count: number }>();
  const shortLengths = new Set<number>();
  items.forEach((it, index) => {
    const { keys, shortLength } = promptKeys(normalizedWords(it.prompt), s);
    if (shortLength !== undefined) shortLengths.add(shortLength);
    for (const key of new Set(keys)) {
      const seen = grams.get(key);
      if (seen) seen.count++;
      else grams.set(key, { item: index, count: 1 });
    }
  });
  const images = s.images ? await hashImages(items) : { imageHashes: [], imageItems: [], skippedImages: 0 };
  return {
    version: INDEX_VERSION,
    task: source.task,
    data: source.data,
    ids: items.map((it) => it.id),
    grams: [...grams].flatMap(([key, { item, count }]) => [key, item, count]),
    shortLengths: [...shortLengths].sort((a, b) => a - b),
    ...images,
  };
}

/** Sizes and times of the release file, or of a folder's files: what makes a cached index stale. */
async function fingerprint(path: string): Promise<string> {
  const st = await stat(path).catch((cause: unknown) => {
    throw new GlmvError("not_found", "no such benchmark file or folder", { where: path, cause });
  });
  if (!st.isDirectory()) return `${st.size}:${st.mtimeMs}`;
  const names = (await readdir(path)).sort();
  const parts = await Promise.all(
    names.map(async (n) => {
      const c = await stat(join(path, n));
      return c.isDirectory() ? `${n}/` : `${n}:${c.size}:${c.mtimeMs}`;
    }),
  );
  return parts.join("|");
}

/** The cached index at `file` when it is there and of this version, else null. */
async function readSourceIndex(file: string): Promise<SourceIndex | null> {
  const cached = await readFile(file, "utf8").then(
    (t) => JSON.parse(t) as SourceIndex,
    () => null,
  );
  return cached?.version === INDEX_VERSION ? cached : null;
}

/** The benchmark's index from the cache in `cacheDir`, built and cached first when missing or stale. */
export async function loadSourceIndex(
  source: BenchmarkSource,
  s: IndexSettings,
  cacheDir: string,
): Promise<SourceIndex> {
  const task = await loadTask(source.task);
  const key = createHash("sha1")
    .update(JSON.stringify({ v: INDEX_VERSION, ...source, fp: await fingerprint(source.data), ...s }))
    .digest("hex")
    .slice(0, 16);
  const file = join(cacheDir, `${source.task}-${key}.json`);
  // Built once across worker threads and processes: every worker opens the stage, and images take a while.
  return buildOnce({
    path: file,
    load: () => readSourceIndex(file),
    build: async () => {
      const built = await buildSourceIndex(task, source, s);
      await writeFileAtomic(file, JSON.stringify(built));
      return built;
    },
  });
}

/** A benchmark item a training item matched. */
export type BenchmarkRef = { task: string; id: string };
export type TextMatch = BenchmarkRef & { start: number; length: number };
export type ImageMatch = BenchmarkRef & { distance: number };

/** Every benchmark's grams and image hashes in memory, for look-ups by training items. */
export class BenchmarkIndex {
  private readonly grams = new Map<number, { source: number; item: number; count: number }>();
  private readonly lengths: number[];
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly imageRefs: { source: number; item: number }[] = [];

  constructor(
    private readonly sources: SourceIndex[],
    private readonly settings: IndexSettings & { templateItems: number },
  ) {
    const lengths = new Set<number>([settings.ngram]);
    sources.forEach((src, source) => {
      for (let i = 0; i < src.grams.length; i += 3) {
        const [key, item, count] = [src.grams[i]!, src.grams[i + 1]!, src.grams[i + 2]!];
        const seen = this.grams.get(key);
        // Counted over all benchmarks: boilerplate shared by several prompts is no evidence of a copied question.
        if (seen) seen.count += count;
        else this.grams.set(key, { source, item, count });
      }
      for (const l of src.shortLengths) lengths.add(l);
      src.imageItems.forEach((item) => {
        this.imageRefs.push({ source, item });
      });
    });
    this.lengths = [...lengths];
    const hashes = sources.flatMap((s) => s.imageHashes.map(hexToHash));
    this.hi = Uint32Array.from(hashes, (h) => Number(h >> 32n));
    this.lo = Uint32Array.from(hashes, (h) => Number(h & 0xffffffffn));
  }

  /** How many benchmark items and images the index holds, per task (for a log line). */
  get size(): { items: number; images: number; skippedImages: number } {
    return {
      items: this.sources.reduce((n, s) => n + s.ids.length, 0),
      images: this.hi.length,
      skippedImages: this.sources.reduce((n, s) => n + s.skippedImages, 0),
    };
  }

  private ref(source: number, item: number): BenchmarkRef {
    const s = this.sources[source]!;
    return { task: s.task, id: s.ids[item] ?? String(item) };
  }

  /** The first gram of `words` that a benchmark prompt holds (boilerplate grams aside), or null. */
  matchWords(words: readonly string[]): TextMatch | null {
    for (const n of this.lengths) {
      for (const { key, start } of wordGrams(words, n)) {
        const hit = this.grams.get(key);
        if (hit && hit.count < this.settings.templateItems)
          return { ...this.ref(hit.source, hit.item), start, length: n };
      }
    }
    return null;
  }

  /** The nearest benchmark image within `maxDistance` bits of `hash`, or null. */
  matchImage(hash: bigint, maxDistance: number): ImageMatch | null {
    const hi = Number(hash >> 32n);
    const lo = Number(hash & 0xffffffffn);
    let best = -1;
    let bestDistance = maxDistance + 1;
    for (let i = 0; i < this.hi.length; i++) {
      const d = popcount32(this.hi[i]! ^ hi) + popcount32(this.lo[i]! ^ lo);
      if (d < bestDistance) [best, bestDistance] = [i, d];
    }
    if (best < 0) return null;
    const { source, item } = this.imageRefs[best]!;
    return { ...this.ref(source, item), distance: bestDistance };
  }
}
