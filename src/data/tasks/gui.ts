/**
 * GUI: a simple screen with 2–4 labelled buttons (level + 1) in a 2 × 2 layout; "click ok" is answered with a
 * point `[x,y]` in 0–999 and scored against the gold button box `[x1,y1,x2,y2]` (point-in-box).
 * Level 3 uses one button colour for all buttons, so only the label tells them apart. Domain `gui`.
 */

import type { Rng } from "../../util/rng.ts";
import { boxCentre, formatBox, formatPoint, pixelRectToBox } from "./coords.ts";
import {
  BACKGROUNDS,
  checkRequest,
  checkSize,
  DISTRACTOR_COLOURS,
  gridEdges,
  INK,
  textScale,
} from "./layout.ts";
import { createRaster, drawText, fillRect, measureText, type RgbImage, strokeRect } from "./raster.ts";
import type { GenerateRequest, TaskContent, TaskGenerator } from "./types.ts";

/** Button labels: 2–3 characters (2 fit a quarter of a 28 px screen, 3 from 56 px up). */
export const BUTTON_LABELS = ["ok", "no", "yes", "add", "del", "up", "go", "end"] as const;
const SLOT_NAMES = ["top left", "top right", "bottom left", "bottom right"] as const;
/** Class = the slot (0–3, row-major) the target button sits in. */
const CLASSES = ["0", "1", "2", "3"] as const;

/** A button drawn on the screen: its pixel rectangle and label. */
export type Button = { x: number; y: number; w: number; h: number; label: string };

/** Draw a filled, outlined button with its label centred. */
function drawButton(img: RgbImage, b: Button, fill: readonly [number, number, number], scale: number): void {
  fillRect(img, b.x, b.y, b.w, b.h, fill);
  strokeRect(img, b.x, b.y, b.w, b.h, INK);
  const t = measureText(b.label, scale);
  drawText(
    img,
    b.label,
    b.x + Math.floor((b.w - t.width) / 2),
    b.y + Math.floor((b.h - t.height) / 2),
    INK,
    scale,
  );
}

/** Lay out a button in slot `slot` of the 2 × 2 screen, full slot width, random height offset. */
function buttonInSlot(rng: Rng, slot: number, size: number, label: string): Button {
  const e = gridEdges(size, 2);
  const sx = e[slot % 2]!;
  const sy = e[Math.floor(slot / 2)]!;
  const slotW = e[(slot % 2) + 1]! - sx;
  const slotH = e[Math.floor(slot / 2) + 1]! - sy;
  const h = measureText(label, textScale(size)).height + 4;
  return { x: sx + 1, y: sy + rng.int(1, slotH - h - 1), w: slotW - 2, h, label };
}

/**
 * Render one GUI item whose target button sits in slot `answerClass`.
 * @example generateGui(createRng(4), { level: 1, answerClass: "2", size: 56 }).question // e.g. "click yes."
 */
export function generateGui(rng: Rng, { level, answerClass, size }: GenerateRequest): TaskContent {
  checkSize(size, "gui");
  checkRequest(level, answerClass, CLASSES, "gui");
  const targetSlot = Number(answerClass);
  const others = rng.shuffle([0, 1, 2, 3].filter((s) => s !== targetSlot)).slice(0, level);
  // Labels must leave a pixel of padding inside the border: at 28 px only the 2-letter ones fit.
  const buttonWidth = gridEdges(size, 2)[1]! - 2;
  const fits = BUTTON_LABELS.filter((l) => measureText(l, textScale(size)).width + 4 <= buttonWidth);
  const labels = rng.shuffle(fits).slice(0, level + 1);
  const img = createRaster(size, size, level >= 3 ? rng.pick(BACKGROUNDS) : BACKGROUNDS[0]!);
  const scale = textScale(size);
  const sameFill = rng.pick(DISTRACTOR_COLOURS);
  const buttons = [targetSlot, ...others].map((slot, i) => buttonInSlot(rng, slot, size, labels[i]!));
  for (const b of buttons) drawButton(img, b, level >= 3 ? sameFill : rng.pick(DISTRACTOR_COLOURS), scale);
  const target = buttons[0]!;
  const gold = pixelRectToBox(target.x, target.y, target.w, target.h, size, size);
  const point = formatPoint(boxCentre(gold));
  return {
    image: img,
    question: `click ${target.label}.`,
    answer: formatBox(gold),
    responseAnswer: point,
    cot: `${target.label} is ${SLOT_NAMES[targetSlot]}.`,
  };
}

/** The GUI family (domain `gui`, 4 slot classes). */
export const GUI: TaskGenerator = {
  family: "gui",
  domain: "gui",
  levels: [1, 2, 3],
  answerClasses: () => CLASSES,
  generate: generateGui,
};
