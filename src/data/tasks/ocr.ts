/**
 * OCR: read 1–3 rendered characters (level = length) in the built-in font. Level 3 adds a tinted background
 * and speckle noise in distractor colours. Answer: the text (domain `ocr`, scored 1 − edit distance).
 */

import type { Rng } from "../../util/rng.ts";
import { BACKGROUNDS, checkRequest, checkSize, DISTRACTOR_COLOURS, TEXT_INKS, textScale } from "./layout.ts";
import { createRaster, drawText, measureText, setPixel } from "./raster.ts";
import type { GenerateRequest, TaskContent, TaskGenerator } from "./types.ts";

/** Characters OCR items use: digits and letters, without i, l, o (too close to 1 and 0 at 3 × 5). */
export const OCR_ALPHABET = "0123456789abcdefghjkmnpqrstuvwxyz";
const CLASSES = [...OCR_ALPHABET];

/**
 * Render one OCR item of `level` characters whose first character is `answerClass` (balance is kept over
 * the first character; the rest are uniform).
 * @example generateOcr(createRng(3), { level: 2, answerClass: "7", size: 56 }).answer // "7…"
 */
export function generateOcr(rng: Rng, { level, answerClass, size }: GenerateRequest): TaskContent {
  checkSize(size, "ocr");
  checkRequest(level, answerClass, CLASSES, "ocr");
  let text = answerClass;
  while (text.length < level) text += rng.pick(CLASSES);
  const scale = textScale(size);
  const { width, height } = measureText(text, scale);
  const img = createRaster(size, size, level >= 3 ? rng.pick(BACKGROUNDS) : BACKGROUNDS[0]!);
  const ink = rng.pick(TEXT_INKS);
  if (level >= 3) {
    // Speckles first, text on top: the glyphs stay whole and the noise never uses the ink colour.
    const noise = rng.pick(DISTRACTOR_COLOURS);
    for (let i = 0; i < Math.floor(size / 2); i++)
      setPixel(img, rng.int(0, size - 1), rng.int(0, size - 1), noise);
  }
  drawText(img, text, rng.int(1, size - width - 1), rng.int(1, size - height - 1), ink, scale);
  return {
    image: img,
    question: "what text is shown?",
    answer: text,
    responseAnswer: text,
    cot: `it reads ${text}.`,
  };
}

/** The OCR family (domain `ocr`, level = number of characters). */
export const OCR: TaskGenerator = {
  family: "ocr",
  domain: "ocr",
  levels: [1, 2, 3],
  answerClasses: () => CLASSES,
  generate: generateOcr,
};
