/**
 * Build a deterministic suite of synthetic items (issue 5). Balance: within each family and level the answer
 * classes are dealt in shuffled rounds, so every class is equally frequent (design.md: a class that is never
 * sampled collapses under RL). Splits: each split draws from its own seed stream, and an item belongs to a
 * split only if its content hash says so, so a held-out item can never equal a training item, whatever seeds
 * or sizes the two suites were built with.
 */
import { createHash } from "node:crypto";
import { GlmvError } from "../../util/errors.ts";
import { createRng, deriveSeed } from "../../util/rng.ts";
import { CHART } from "./chart.ts";
import { COUNTING } from "./counting.ts";
import { GROUNDING } from "./grounding.ts";
import { GUI } from "./gui.ts";
import { MATH } from "./math.ts";
import { OCR } from "./ocr.ts";
import {
  DEFAULT_IMAGE_SIZE,
  type Split,
  TASK_FAMILIES,
  type TaskContent,
  type TaskFamily,
  type TaskGenerator,
  type TaskItem,
} from "./types.ts";

/** Every family's generator, by name. */
export const GENERATORS = {
  counting: COUNTING,
  ocr: OCR,
  chart: CHART,
  math: MATH,
  grounding: GROUNDING,
  gui: GUI,
} as const satisfies Record<TaskFamily, TaskGenerator>;

/** Share of the content-hash space reserved for held-out items (1 in 4). */
const HELDOUT_BUCKETS = 64;
/** Attempts per item before giving up: with a 1-in-4 share a held-out item needs ~4 on average. */
const MAX_ATTEMPTS = 200;

export type SuiteOptions = {
  seed: number;
  /** Families to include, in order (default: all six). */
  families?: readonly TaskFamily[] | undefined;
  /** Items per family; a multiple of levels × classes gives exact balance. */
  perFamily: number;
  split: Split;
  /** Square image side in pixels (default 56). */
  size?: number | undefined;
  /** Levels to draw from (default: each family's levels 1–3), dealt round-robin. */
  levels?: readonly number[] | undefined;
};

/**
 * SHA-256 over everything that makes an item what it is: family, question, gold answer and image bytes.
 * @example contentHash(item) // "3f2a…" (64 hex characters)
 */
export function contentHash(
  family: TaskFamily,
  content: Pick<TaskContent, "question" | "answer" | "image">,
): string {
  const h = createHash("sha256");
  h.update(`${family}\u0000${content.question}\u0000${content.answer}\u0000${content.image.width}x`);
  h.update(`${content.image.height}\u0000`);
  h.update(content.image.data);
  return h.digest("hex");
}

/** The split a content hash belongs to: the first byte below 64 means held-out. */
export function splitOfHash(hash: string): Split {
  return Number.parseInt(hash.slice(0, 2), 16) < HELDOUT_BUCKETS ? "heldout" : "train";
}

/** The answer class of the k-th item of one level: classes dealt in rounds, each round freshly shuffled. */
function classFor(classes: readonly string[], k: number, roundSeed: (round: number) => number): string {
  const round = Math.floor(k / classes.length);
  return createRng(roundSeed(round)).shuffle(classes)[k % classes.length]!;
}

/**
 * Build `perFamily` items for each family of one split. Same options → identical items, byte for byte.
 * @example buildSuite({ seed: 1, perFamily: 90, split: "heldout" }).length // 540
 */
export function buildSuite(options: SuiteOptions): TaskItem[] {
  const { seed, perFamily, split } = options;
  const size = options.size ?? DEFAULT_IMAGE_SIZE;
  if (!Number.isInteger(perFamily) || perFamily < 0) {
    throw new GlmvError("bad_argument", `perFamily must be a non-negative integer, got ${perFamily}`, {
      where: "buildSuite",
    });
  }
  const items: TaskItem[] = [];
  for (const family of options.families ?? TASK_FAMILIES) {
    const gen: TaskGenerator = GENERATORS[family];
    if (!gen) throw new GlmvError("bad_argument", `unknown task family ${family}`, { where: "buildSuite" });
    const levels = options.levels ?? gen.levels;
    const seen = new Set<string>();
    for (let j = 0; j < perFamily; j++) {
      const level = levels[j % levels.length]!;
      const k = Math.floor(j / levels.length);
      const answerClass = classFor(gen.answerClasses(level), k, (round) =>
        deriveSeed(seed, split, family, level, "round", round),
      );
      for (let attempt = 0; ; attempt++) {
        if (attempt === MAX_ATTEMPTS) {
          throw new GlmvError("engine_error", `no fresh ${split} item for ${family} ${answerClass}`, {
            where: "buildSuite",
          });
        }
        const itemSeed = deriveSeed(seed, split, family, j, attempt);
        const content = gen.generate(createRng(itemSeed), { level, answerClass, size });
        const hash = contentHash(family, content);
        // Content decides the split, so train and held-out can never share an item. Repeats within a split
        // are skipped while fresh content is easy to find; a tiny class space may repeat after that.
        if (splitOfHash(hash) !== split) continue;
        if (seen.has(hash) && attempt < MAX_ATTEMPTS / 2) continue;
        seen.add(hash);
        items.push({
          id: `${split}-${family}-${seed}-${j}`,
          family,
          domain: gen.domain,
          level,
          split,
          seed: itemSeed,
          ...content,
        });
        break;
      }
    }
  }
  return items;
}
