/** Layout helpers and palettes shared by the task renderers; every layout scales with the image side. */
import { GlmvError } from "../../util/errors.ts";
import type { Rgb } from "./raster.ts";
import { MIN_IMAGE_SIZE } from "./types.ts";

/**
 * Pixel edges of `n` equal cells across `size` pixels (n + 1 values, first 0, last `size`).
 * @example gridEdges(56, 4) // [0, 14, 28, 42, 56]
 */
export function gridEdges(size: number, n: number): number[] {
  return Array.from({ length: n + 1 }, (_, i) => Math.floor((i * size) / n));
}

/** Font scale for an image side: 1 at 28 px, 2 at 56 px, so text covers a similar share of the image. */
export function textScale(size: number): number {
  return Math.max(1, Math.floor(size / MIN_IMAGE_SIZE));
}

/** Reject sizes the layouts cannot fit. */
export function checkSize(size: number, where: string): void {
  if (!Number.isInteger(size) || size < MIN_IMAGE_SIZE || size > 1024) {
    throw new GlmvError(
      "bad_argument",
      `image size must be an integer in ${MIN_IMAGE_SIZE}–1024, got ${size}`,
      {
        where,
      },
    );
  }
}

/** Difficulty levels every family offers. */
export const LEVELS = [1, 2, 3] as const;

/** Reject a level or answer class the generator does not know. */
export function checkRequest(
  level: number,
  answerClass: string,
  classes: readonly string[],
  where: string,
): void {
  if (!(LEVELS as readonly number[]).includes(level)) {
    throw new GlmvError("bad_argument", `level must be one of ${LEVELS.join(", ")}, got ${level}`, { where });
  }
  if (!classes.includes(answerClass)) {
    throw new GlmvError(
      "bad_argument",
      `unknown answer class ${JSON.stringify(answerClass)} at level ${level}`,
      {
        where,
      },
    );
  }
}

export const WHITE: Rgb = [255, 255, 255];
export const INK: Rgb = [20, 20, 20];

/** Light backgrounds used at the harder levels (never equal to any object colour). */
export const BACKGROUNDS: readonly Rgb[] = [
  [255, 255, 255],
  [240, 236, 226],
  [228, 238, 246],
  [236, 246, 230],
];

/** Saturated colours for target objects (dots, bars). */
export const TARGET_COLOURS: readonly Rgb[] = [
  [220, 40, 40],
  [30, 90, 220],
  [20, 150, 60],
  [230, 130, 0],
  [140, 50, 190],
];

/** Colours for distractor objects (squares, noise): disjoint from the target colours. */
export const DISTRACTOR_COLOURS: readonly Rgb[] = [
  [120, 120, 120],
  [90, 200, 200],
  [200, 180, 60],
  [230, 120, 180],
];

/** Dark inks for rendered text (disjoint from the other palettes). */
export const TEXT_INKS: readonly Rgb[] = [
  [20, 20, 20],
  [10, 30, 110],
  [90, 10, 10],
];

/** Row and column words for templated reasoning about grid cells. */
export const ORDINALS = ["1", "2", "3", "4"] as const;
