/**
 * Grounding: find the dot on a 4 × 4 grid and answer its cell as a 0–999 box (quantised to cells so the
 * answers are 16 learnable strings). The dot nearly fills its cell, so the cell box and the dot's own box
 * overlap with IoU ≈ 0.7. Level 2 adds square distractors; level 3 more of them on a tinted background.
 * Domain `grounding`.
 */

import type { Rng } from "../../util/rng.ts";
import { formatBox, pixelRectToBox } from "./coords.ts";
import {
  BACKGROUNDS,
  checkRequest,
  checkSize,
  DISTRACTOR_COLOURS,
  gridEdges,
  ORDINALS,
  TARGET_COLOURS,
} from "./layout.ts";
import { createRaster, fillDisc, fillRect } from "./raster.ts";
import type { GenerateRequest, TaskContent, TaskGenerator } from "./types.ts";

const GRID = 4;
/** Class `r<row>c<col>` (0-based) for each of the 16 cells. */
const CLASSES = Array.from({ length: GRID * GRID }, (_, i) => `r${Math.floor(i / GRID)}c${i % GRID}`);

/** The 0–999 box of grid cell (row, col) on an image of side `size`. */
export function cellBox(row: number, col: number, size: number): readonly [number, number, number, number] {
  const e = gridEdges(size, GRID);
  return pixelRectToBox(e[col]!, e[row]!, e[col + 1]! - e[col]!, e[row + 1]! - e[row]!, size, size);
}

/**
 * Render one grounding item with the dot in the cell named by `answerClass` (`r<row>c<col>`).
 * @example generateGrounding(createRng(2), { level: 1, answerClass: "r0c1", size: 56 }).answer // "[250,0,499,249]"
 */
export function generateGrounding(rng: Rng, { level, answerClass, size }: GenerateRequest): TaskContent {
  checkSize(size, "grounding");
  checkRequest(level, answerClass, CLASSES, "grounding");
  const target = CLASSES.indexOf(answerClass);
  const row = Math.floor(target / GRID);
  const col = target % GRID;
  const e = gridEdges(size, GRID);
  const cell = size / GRID;
  const img = createRaster(size, size, level >= 3 ? rng.pick(BACKGROUNDS) : BACKGROUNDS[0]!);
  // A few radii and a pixel of jitter give each cell enough distinct renders to fill both splits.
  const radius = cell * rng.pick([0.39, 0.42, 0.45, 0.48]);
  const slack = Math.max(0, Math.floor(cell / 2 - radius - 0.5));
  const cx = (e[col]! + e[col + 1]!) / 2 + rng.int(-slack, slack);
  const cy = (e[row]! + e[row + 1]!) / 2 + rng.int(-slack, slack);
  fillDisc(img, cx, cy, radius, rng.pick(TARGET_COLOURS));
  const distractors = level === 1 ? 0 : level === 2 ? rng.int(1, 3) : rng.int(3, 6);
  const others = rng.shuffle(CLASSES.map((_, i) => i).filter((i) => i !== target)).slice(0, distractors);
  const side = Math.max(2, Math.round(radius * 1.5));
  for (const c of others) {
    const x0 = e[c % GRID]! + Math.floor((cell - side) / 2);
    const y0 = e[Math.floor(c / GRID)]! + Math.floor((cell - side) / 2);
    fillRect(img, x0, y0, side, side, rng.pick(DISTRACTOR_COLOURS));
  }
  const answer = formatBox(cellBox(row, col, size));
  return {
    image: img,
    question: "where is the dot?",
    answer,
    responseAnswer: answer,
    cot: `dot at row ${ORDINALS[row]}, col ${ORDINALS[col]}.`,
  };
}

/** The grounding family (domain `grounding`, 16 cell classes). */
export const GROUNDING: TaskGenerator = {
  family: "grounding",
  domain: "grounding",
  levels: [1, 2, 3],
  answerClasses: () => CLASSES,
  generate: generateGrounding,
};
