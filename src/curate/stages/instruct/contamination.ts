/**
 * `contamination` (paper §3.1, instruction data "contamination checks"): drop training items that hold benchmark
 * material, read by the evaluation harness's own task loaders. A question sharing a 13-word gram with a benchmark
 * prompt is `contaminated_text`; an image within a few pHash bits of a benchmark image (a re-encoded, resized copy)
 * is `contaminated_image`. The detail names the benchmark item. Grams found in several benchmark prompts are the
 * prompts' boilerplate ("Answer with the option letter …"), not a copied question, and do not count.
 */
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { sniffImageMime } from "../../hooks/data-url.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { BenchmarkIndex, informativePhash, loadSourceIndex } from "./benchmark-index.ts";
import { questionTexts } from "./messages.ts";
import { normalizedWords } from "./ngrams.ts";

export const ContaminationOptions = z.strictObject({
  /** Benchmarks as `glmv eval run` takes them: a task name and its release file or folder. */
  benchmarks: z.array(z.strictObject({ task: z.string().min(1), data: z.string().min(1) })).min(1),
  /** Words per gram (13, as the GPT-3 and Llama contamination studies). */
  ngram: z.number().int().min(4).default(13),
  /** A benchmark prompt shorter than `ngram` but at least this long is matched as a whole. */
  minWords: z.number().int().min(1).default(8),
  /** A gram held by this many benchmark prompts or more is boilerplate and does not count. */
  templateItems: z.number().int().min(2).default(5),
  /** Text fields checked after the user turns of `messages`. */
  textFields: z.array(z.string().min(1)).default(["question", "prompt"]),
  /** Compare the item's images with the benchmarks' images. */
  images: z.boolean().default(true),
  /** Largest pHash Hamming distance (of 64 bits) that is the same image. */
  maxDistance: z.number().int().min(0).max(32).default(6),
  /** Where the benchmark indexes are cached; default `<stateDir>/contamination`. */
  cacheDir: z.string().min(1).optional(),
});
export type ContaminationOptions = z.infer<typeof ContaminationOptions>;

const at = (base: string, path: string) => (isAbsolute(path) ? path : resolve(base, path));

export const contamination: StageDef<ContaminationOptions> = {
  name: "contamination",
  summary:
    "drop items sharing a 13-gram question or a near-identical image with benchmark data (eval task loaders)",
  options: ContaminationOptions,
  async open(options, ctx) {
    const cacheDir = options.cacheDir
      ? at(ctx.baseDir, options.cacheDir)
      : join(ctx.stateDir, "contamination");
    const settings = { ngram: options.ngram, minWords: options.minWords, images: options.images };
    const sources = [];
    for (const b of options.benchmarks)
      sources.push(
        await loadSourceIndex({ task: b.task, data: at(ctx.baseDir, b.data) }, settings, cacheDir),
      );
    const index = new BenchmarkIndex(sources, { ...settings, templateItems: options.templateItems });

    return {
      async process(item, { signal }) {
        // Each text on its own: a gram spanning two fields is no copied sentence.
        for (const text of questionTexts(item.fields, options.textFields)) {
          const words = normalizedWords(text);
          const hit = index.matchWords(words);
          if (hit) {
            const gram = words.slice(hit.start, hit.start + hit.length).join(" ");
            return drop("contaminated_text", `${hit.task}:${hit.id} shares "${gram}"`);
          }
        }
        if (!options.images) return keep(item);
        for (const media of item.media) {
          signal.throwIfAborted();
          if (!sniffImageMime(media.bytes).startsWith("image/")) continue;
          const hash = await informativePhash(media.bytes);
          const hit = hash === null ? null : index.matchImage(hash, options.maxDistance);
          if (hit)
            return drop(
              "contaminated_image",
              `${hit.task}:${hit.id} (${media.name}, Hamming ${hit.distance})`,
            );
        }
        return keep(item);
      },
    };
  },
};
