/**
 * Counting: 1–9 dots, one per cell of a 4 × 4 grid (a cell is one 14 px patch at 56 px), so objects are dense
 * relative to patches. Level 1: large dots of the first target colour. Level 2: plus grey/tinted square
 * distractors. Level 3: smaller dots of mixed colours, more squares, tinted background. Answer: the count (domain
 * `counting`). Levels 1–2 keep one dot colour on purpose: with a colour drawn per image the tiny model stayed at
 * chance for 150 SFT steps, with one colour it learnt to count in 100–150 (design.md: choose steep SFT curves).
 */

import type { Rng } from "../../util/rng.ts";
import {
  BACKGROUNDS,
  checkRequest,
  checkSize,
  DISTRACTOR_COLOURS,
  gridEdges,
  TARGET_COLOURS,
} from "./layout.ts";
import { createRaster, fillDisc, fillRect } from "./raster.ts";
import type { GenerateRequest, TaskContent, TaskGenerator } from "./types.ts";

const CLASSES = ["1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;
const GRID = 4;

/** Place `count` objects in distinct random cells; returns cell indices (row-major). */
function pickCells(rng: Rng, count: number, exclude: ReadonlySet<number> = new Set()): number[] {
  const free = Array.from({ length: GRID * GRID }, (_, i) => i).filter((i) => !exclude.has(i));
  return rng.shuffle(free).slice(0, count);
}

/**
 * Render one counting item with exactly `answerClass` dots.
 * @example generateCounting(createRng(1), { level: 1, answerClass: "5", size: 56 }).answer // "5"
 */
export function generateCounting(rng: Rng, { level, answerClass, size }: GenerateRequest): TaskContent {
  checkSize(size, "counting");
  checkRequest(level, answerClass, CLASSES, "counting");
  const count = Number(answerClass);
  const edges = gridEdges(size, GRID);
  const cell = size / GRID;
  const background = level >= 3 ? rng.pick(BACKGROUNDS) : BACKGROUNDS[0]!;
  const img = createRaster(size, size, background);
  // Radius ≤ 0.42 cell and a ≥ 1 px margin keep every object inside its own cell, so dots never touch.
  const radius = cell * (level >= 3 ? 0.3 : 0.42);
  const slack = Math.max(0, Math.floor(cell / 2 - radius - 1));
  const dotCells = pickCells(rng, count);
  const oneColour = TARGET_COLOURS[0]!;
  for (const c of dotCells) {
    const cx = (edges[c % GRID]! + edges[(c % GRID) + 1]!) / 2 + rng.int(-slack, slack);
    const cy = (edges[Math.floor(c / GRID)]! + edges[Math.floor(c / GRID) + 1]!) / 2 + rng.int(-slack, slack);
    fillDisc(img, cx, cy, radius, level >= 3 ? rng.pick(TARGET_COLOURS) : oneColour);
  }
  const squares = level === 1 ? 0 : level === 2 ? rng.int(1, 3) : rng.int(2, 5);
  const side = Math.max(2, Math.round(radius * 1.6));
  for (const c of pickCells(rng, squares, new Set(dotCells))) {
    const x0 = edges[c % GRID]! + Math.floor((cell - side) / 2);
    const y0 = edges[Math.floor(c / GRID)]! + Math.floor((cell - side) / 2);
    fillRect(img, x0, y0, side, side, rng.pick(DISTRACTOR_COLOURS));
  }
  return {
    image: img,
    question: "how many dots?",
    answer: answerClass,
    responseAnswer: answerClass,
    cot: `${count} ${count === 1 ? "dot" : "dots"}.`,
  };
}

/** The counting family (domain `counting`, levels 1–3, answers 1–9). */
export const COUNTING: TaskGenerator = {
  family: "counting",
  domain: "counting",
  levels: [1, 2, 3],
  answerClasses: () => CLASSES,
  generate: generateCounting,
};
