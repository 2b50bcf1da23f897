/**
 * `video-dedup` (paper §3.1, "deduplicate by multimodal embeddings"): near-duplicate clip removal across all shards.
 * A clip's signature is its sampled frames (`video-frames` before it) embedded through the embeddings hook, or their
 * pHashes where no endpoint is wanted. When the stage opens, every input clip's signature is indexed in input order
 * (built once per run into the state folder); a clip whose mean per-frame similarity with an EARLIER clip reaches
 * the threshold is `near_duplicate_clip`, so the first copy in input order is kept on every run and rerun.
 */
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { GlmvError } from "../../../util/errors.ts";
import { createEmbeddingsClient, EmbeddingsHook } from "../../hooks/embeddings.ts";
import { phash64 } from "../../image/phash.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { notIndexed } from "../../state/input-index.ts";
import { ClipIndex, type ClipRow } from "./clip-index.ts";
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
    const threshold = options.threshold ?? DEFAULT_THRESHOLD[options.method];

    async function rowOf(frames: Uint8Array[]): Promise<ClipRow> {
      // An endpoint that is down fails the build, so the run (the runner reports it); a bad frame is data.
      if (client)
        return { signature: { kind: "embeddings", vectors: (await client.embedImages(frames)).map(unit) } };
      try {
        return { signature: { kind: "phash", hashes: await Promise.all(frames.map((f) => phash64(f))) } };
      } catch (e) {
        return { error: `a frame does not decode: ${(e as Error).message}` };
      }
    }

    const index = await ClipIndex.open(
      {
        path,
        kind: options.method,
        // The vectors depend on the model and on how images are sent; the frames on the cap.
        recipe: JSON.stringify([hook?.model, hook?.imageInput, hook?.imagePrompt, options.maxFrames]),
        framesOf: (item) => clipFrames(item.media, options.maxFrames),
        rowOf,
      },
      () => ctx.scanInput(),
    );

    return {
      async process(item) {
        if (clipFrames(item.media, options.maxFrames).length === 0)
          return drop("no_frames", "no frame-NNNN.jpg media: run video-frames first");
        const decision = index.earlier(item.id, threshold);
        if (!decision) throw notIndexed("video-dedup", item.id, path);
        if (decision.kind === "error") return drop("video_unreadable", decision.message);
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
