/**
 * `concept-balanced resampling` (paper §3.1; MetaCLIP's balancing): a head concept ("dog") appears in far more
 * pairs than a tail one ("okapi"). Before the first item, the stage reads every input item (`scanInput`) and counts
 * in how many captions each concept appears. An item's weight is the mean inverse frequency of its concepts; the
 * weights are scaled so the expected output size is `targetSize`, with no item repeated more than `maxCopies` times.
 * An item with expected copies e is kept ⌊e⌋ or ⌈e⌉ times, decided by a hash of its id (so reruns agree); copies
 * after the first get ids `<id>#2`, `<id>#3`, …; an item kept zero times is dropped as `resampled_out`.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { z } from "zod";
import { GlmvError } from "../../../util/errors.ts";
import { type CurateItem, drop, keep, type StageDef } from "../../stage.ts";
import { textField, unitHash, withFields } from "./common.ts";
import { conceptsOf, parseVocabulary } from "./concepts.ts";

export const ConceptBalanceOptions = z.strictObject({
  /** The field holding the caption. */
  field: z.string().default("caption"),
  /** Items out, in expectation; by default as many as came in (balance without growing or shrinking). */
  targetSize: z.number().int().min(1).optional(),
  /** The most copies of one item (the weight cap: a very rare concept cannot flood the output). */
  maxCopies: z.number().min(1).default(4),
  /** A file of concept terms, one a line (relative to the pipeline's folder); by default every content word. */
  vocabulary: z.string().optional(),
  /** Mixed into the id hash: another seed draws another (equally balanced) sample. */
  seed: z.number().int().default(0),
});
export type ConceptBalanceOptions = z.infer<typeof ConceptBalanceOptions>;

/** An item's inverse-frequency weight: the mean of 1/df over its concepts (items with none count as one concept). */
export function rawWeight(concepts: string[], df: Map<string, number>, noConceptCount: number): number {
  if (concepts.length === 0) return 1 / Math.max(1, noConceptCount);
  return concepts.reduce((s, c) => s + 1 / (df.get(c) ?? 1), 0) / concepts.length;
}

/**
 * The scale s with Σ min(maxCopies, s·wᵢ) = target (bisection; the sum grows with s). If even every item at
 * `maxCopies` falls short, the largest scale that caps everything.
 */
export function scaleToTarget(weights: number[], target: number, maxCopies: number): number {
  const total = (s: number) => weights.reduce((sum, w) => sum + Math.min(maxCopies, s * w), 0);
  const minWeight = Math.min(...weights.filter((w) => w > 0));
  let hi = maxCopies / minWeight;
  if (total(hi) <= target) return hi;
  let lo = 0;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (total(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** ⌊e⌋ copies, plus one more when the item's hash falls under e's fraction. */
export const copiesOf = (expected: number, u: number): number =>
  Math.floor(expected) + (u < expected - Math.floor(expected) ? 1 : 0);

export const conceptBalance: StageDef<ConceptBalanceOptions> = {
  name: "concept-balance",
  summary:
    "resample pairs toward uniform concept coverage (inverse caption-concept frequency, capped, to a target size)",
  options: ConceptBalanceOptions,
  async open(o, ctx) {
    let vocabulary: string[] | undefined;
    if (o.vocabulary) {
      const path = resolve(ctx.baseDir, o.vocabulary);
      const text = await readFile(path, "utf8").catch((e: Error) => {
        throw new GlmvError("bad_config", `cannot read the vocabulary: ${e.message}`, { where: path });
      });
      vocabulary = parseVocabulary(text);
    }
    const df = new Map<string, number>();
    let noConcept = 0;
    const conceptLists: string[][] = [];
    for await (const item of ctx.scanInput()) {
      const concepts = conceptsOf(textField(item, o.field), vocabulary);
      conceptLists.push(concepts);
      if (concepts.length === 0) noConcept++;
      for (const c of concepts) df.set(c, (df.get(c) ?? 0) + 1);
    }
    const weights = conceptLists.map((c) => rawWeight(c, df, noConcept));
    const scale = weights.length ? scaleToTarget(weights, o.targetSize ?? weights.length, o.maxCopies) : 1;
    return {
      async process(item: CurateItem) {
        const concepts = conceptsOf(textField(item, o.field), vocabulary);
        const expected = Math.min(o.maxCopies, scale * rawWeight(concepts, df, noConcept));
        const copies = copiesOf(expected, unitHash(`${o.seed}:${item.id}`));
        if (copies === 0)
          return drop(
            "resampled_out",
            `expected ${expected.toFixed(3)} copies (concepts: ${concepts.slice(0, 6).join(", ")})`,
          );
        const base = withFields(item, { concepts, sampleWeight: expected });
        return keep(
          base,
          ...Array.from({ length: copies - 1 }, (_, k) => ({ ...base, id: `${item.id}#${k + 2}` })),
        );
      },
    };
  },
};
