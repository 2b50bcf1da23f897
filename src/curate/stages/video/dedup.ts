/**
 * `video-dedup` (paper §3.1, "deduplicate by multimodal embeddings"): near-duplicate clip removal across all shards.
 * A clip's signature is its sampled frames (`video-frames` before it) embedded through the embeddings hook, or their
 * pHashes where no endpoint is wanted; a clip whose mean per-frame similarity with a clip already in the persistent
 * index (SQLite in the state folder) reaches the threshold is `near_duplicate_clip`. A clip that finds its own id
 * there was kept before, so a rerun after a crash decides the same.
 */
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { GlmvError } from "../../../util/errors.ts";
import { createEmbeddingsClient, EmbeddingsHook } from "../../hooks/embeddings.ts";
import { phash64 } from "../../image/phash.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { ClipIndex, type ClipSignature } from "./clip-index.ts";
import { FRAME_PREFIX } from "./frames.ts";

/** Default thresholds: cosine of frame embeddings; 1 − Hamming/64 of frame pHashes (0.85: ≤ 9.6 bits per frame). */
const DEFAULT_THRESHOLD = { embeddings: 0.95, phash: 0.85 } as const;

export const VideoDedupOptions = z
  .strictObject({
    /** Frame signatures: embeddings through `hook`, or pHashes computed here (no endpoint). */
    method: z.enum(["embeddings", "phash"]).default("embeddings"),
    /** The embeddings endpoint (required for `method: embeddings`). */
    hook: EmbeddingsHook.optional(),
    /** Mean per-frame similarity at or above which a clip is a near duplicate; default by method (see above). */
    threshold: z.number().min(0).max(1).optional(),
    /** The index file; relative paths resolve against the pipeline's folder. Default `<stateDir>/video-dedup-<method>.sqlite`. */
    index: z.string().min(1).optional(),
    /** At most this many frames per clip are compared (evenly picked), bounding the index's size and the hook's load. */
    maxFrames: z.number().int().positive().default(16),
  })
  .refine((o) => o.method === "phash" || o.hook !== undefined, {
    message: "method embeddings needs a hook: { url, model }",
    path: ["hook"],
  });
export type VideoDedupOptions = z.infer<typeof VideoDedupOptions>;

/** The item's frames in time order (`frame-0000.jpg`, …), thinned evenly to at most `max`. */
export function clipFrames(media: { name: string; bytes: Uint8Array }[], max: number): Uint8Array[] {
  const frames = media
    .filter((m) => m.name.startsWith(FRAME_PREFIX))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  if (frames.length <= max) return frames.map((f) => f.bytes);
  return Array.from({ length: max }, (_, i) => frames[Math.floor(((i + 0.5) * frames.length) / max)]!.bytes);
}

const unit = (v: Float32Array): Float32Array => {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return norm === 0 ? v : v.map((x) => x / norm);
};

export const videoDedup: StageDef<VideoDedupOptions> = {
  name: "video-dedup",
  summary:
    "near-duplicate clip removal across shards by mean per-frame similarity (frame embeddings or pHashes)",
  options: VideoDedupOptions,
  async open(options, ctx) {
    const path =
      options.index === undefined
        ? join(ctx.stateDir, `video-dedup-${options.method}.sqlite`)
        : isAbsolute(options.index)
          ? options.index
          : resolve(ctx.baseDir, options.index);
    const hook = options.method === "embeddings" ? options.hook : undefined;
    if (options.method === "embeddings" && !hook)
      throw new GlmvError("bad_config", "method embeddings needs a hook: { url, model }", { where: "hook" });
    const client = hook ? createEmbeddingsClient(hook) : null;
    const index = new ClipIndex(path, options.method, hook ? hook.model : null);
    const threshold = options.threshold ?? DEFAULT_THRESHOLD[options.method];

    async function signatureOf(frames: Uint8Array[], signal: AbortSignal): Promise<ClipSignature> {
      if (client)
        return { kind: "embeddings", vectors: (await client.embedImages(frames, signal)).map(unit) };
      return { kind: "phash", hashes: await Promise.all(frames.map((f) => phash64(f))) };
    }

    return {
      async process(item, { signal }) {
        const frames = clipFrames(item.media, options.maxFrames);
        if (frames.length === 0) return drop("no_frames", "no frame-NNNN.jpg media: run video-frames first");
        let signature: ClipSignature;
        try {
          signature = await signatureOf(frames, signal);
        } catch (e) {
          // An endpoint that is down fails the run (the runner reports it); a frame that cannot be decoded is data.
          if (client || signal.aborted) throw e;
          return drop("video_unreadable", `a frame does not decode: ${(e as Error).message}`);
        }
        const decision = index.decide(item.id, signature, threshold);
        if (decision.kind === "duplicate")
          return drop(
            "near_duplicate_clip",
            `${decision.of} (mean frame similarity ${decision.similarity.toFixed(3)})`,
          );
        return keep(item);
      },
      close() {
        index.close();
      },
    };
  },
};
