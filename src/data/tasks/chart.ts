/**
 * Bar charts: 2–4 labelled bars (level + 1) on a 0–9 scale. Questions: "which bar is tallest?" (a letter)
 * or "value of bar b?" (a digit). Level 3 colours each bar differently. Domain `chart`.
 */

import type { Rng } from "../../util/rng.ts";
import { checkRequest, checkSize, INK, TARGET_COLOURS, textScale, WHITE } from "./layout.ts";
import { createRaster, drawText, fillRect, GLYPH_HEIGHT, GLYPH_WIDTH, type RgbImage } from "./raster.ts";
import type { GenerateRequest, TaskContent, TaskGenerator } from "./types.ts";

export const BAR_LABELS = ["a", "b", "c", "d"] as const;
const VALUES = ["1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;

/** Where a chart of side `size` with `bars` bars draws: shared by the renderer and by checks of its output. */
export type ChartLayout = {
  /** y of the axis line; bars end just above it. */
  baseline: number;
  /** Pixels per unit of value (a bar of value v is v × unit tall). */
  unit: number;
  /** Left x and width of each bar. */
  bars: { x: number; w: number }[];
  labelY: number;
  scale: number;
};

/**
 * The chart geometry for an image side and bar count.
 * @example chartLayout(56, 3).unit // 4
 */
export function chartLayout(size: number, bars: number): ChartLayout {
  const scale = textScale(size);
  const labelY = size - GLYPH_HEIGHT * scale - 1;
  const baseline = labelY - 2;
  const top = Math.max(2, Math.floor(size / 14));
  const unit = Math.floor((baseline - top) / 9);
  const slot = Math.floor((size - 2) / bars);
  const w = Math.max(GLYPH_WIDTH * scale, Math.floor(slot * 0.6));
  return {
    baseline,
    unit,
    bars: Array.from({ length: bars }, (_, i) => ({ x: 1 + i * slot + Math.floor((slot - w) / 2), w })),
    labelY,
    scale,
  };
}

/** The classes of a level: the tallest-bar letters of its bars, then the values 1–9 of a named bar. */
function classesFor(level: number): string[] {
  return [...BAR_LABELS.slice(0, level + 1).map((l) => `tallest:${l}`), ...VALUES.map((v) => `value:${v}`)];
}

/** Distinct values for every bar, with bar `top` strictly tallest. */
function valuesWithTallest(rng: Rng, bars: number, top: number): number[] {
  const picked = rng.shuffle(VALUES.map(Number)).slice(0, bars);
  const max = Math.max(...picked);
  const at = picked.indexOf(max);
  [picked[at], picked[top]] = [picked[top]!, picked[at]!];
  return picked;
}

function drawChart(
  img: RgbImage,
  layout: ChartLayout,
  values: number[],
  colours: readonly (readonly [number, number, number])[],
): void {
  fillRect(img, 0, layout.baseline, img.width, 1, INK);
  values.forEach((v, i) => {
    const bar = layout.bars[i]!;
    fillRect(img, bar.x, layout.baseline - v * layout.unit, bar.w, v * layout.unit, colours[i]!);
    const labelX = bar.x + Math.floor((bar.w - GLYPH_WIDTH * layout.scale) / 2);
    drawText(img, BAR_LABELS[i]!, labelX, layout.labelY, INK, layout.scale);
  });
}

/**
 * Render one chart item; `answerClass` is `tallest:<letter>` or `value:<digit>`.
 * @example generateChart(createRng(5), { level: 1, answerClass: "value:7", size: 56 }).answer // "7"
 */
export function generateChart(rng: Rng, { level, answerClass, size }: GenerateRequest): TaskContent {
  checkSize(size, "chart");
  checkRequest(level, answerClass, classesFor(level), "chart");
  const bars = level + 1;
  const [kind, target] = answerClass.split(":") as [string, string];
  let values: number[];
  let question: string;
  let cot: string;
  if (kind === "tallest") {
    values = valuesWithTallest(rng, bars, BAR_LABELS.indexOf(target as (typeof BAR_LABELS)[number]));
    question = "which bar is tallest?";
    cot = `${values.map((v, i) => `${BAR_LABELS[i]}=${v}`).join(" ")}, so ${target}.`;
  } else {
    const asked = rng.int(0, bars - 1);
    values = Array.from({ length: bars }, () => rng.int(1, 9));
    values[asked] = Number(target);
    question = `value of bar ${BAR_LABELS[asked]}?`;
    cot = `bar ${BAR_LABELS[asked]} is at ${target}.`;
  }
  const oneColour = rng.pick(TARGET_COLOURS);
  const colours = values.map(() => (level >= 3 ? rng.pick(TARGET_COLOURS) : oneColour));
  const img = createRaster(size, size, WHITE);
  drawChart(img, chartLayout(size, bars), values, colours);
  return { image: img, question, answer: target, responseAnswer: target, cot };
}

/** The chart family (domain `chart`, level = bars − 1). */
export const CHART: TaskGenerator = {
  family: "chart",
  domain: "chart",
  levels: [1, 2, 3],
  answerClasses: classesFor,
  generate: generateChart,
};
