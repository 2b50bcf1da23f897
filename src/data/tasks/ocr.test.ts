import { describe, expect, it } from "vitest";
import { createRng } from "../../util/rng.ts";
import { readText } from "./glyph-reader.ts";
import { TEXT_INKS } from "./layout.ts";
import { generateOcr, OCR, OCR_ALPHABET } from "./ocr.ts";
import type { RgbImage } from "./types.ts";

/** Read the image's text in whichever ink it uses. */
function readAnyInk(img: RgbImage): string | null {
  for (const ink of TEXT_INKS) {
    const text = readText(img, ink);
    if (text !== null) return text;
  }
  return null;
}

describe("ocr family", () => {
  it("renders exactly the answer text, level characters long, starting with the class", () => {
    for (const size of [28, 56, 112]) {
      for (const level of OCR.levels) {
        for (const cls of OCR.answerClasses(level)) {
          const item = generateOcr(createRng(size + level * 7 + cls.charCodeAt(0)), {
            level,
            answerClass: cls,
            size,
          });
          expect(item.answer).toHaveLength(level);
          expect(item.answer[0]).toBe(cls);
          for (const ch of item.answer) expect(OCR_ALPHABET).toContain(ch);
          expect(readAnyInk(item.image)).toBe(item.answer);
        }
      }
    }
  });

  it("adds noise only at level 3", () => {
    const whiteOrInk = (img: RgbImage) => {
      const colours = new Set<string>();
      for (let i = 0; i < img.data.length; i += 3)
        colours.add(`${img.data[i]},${img.data[i + 1]},${img.data[i + 2]}`);
      return colours.size;
    };
    expect(whiteOrInk(generateOcr(createRng(1), { level: 1, answerClass: "a", size: 56 }).image)).toBe(2);
    expect(whiteOrInk(generateOcr(createRng(1), { level: 3, answerClass: "a", size: 56 }).image)).toBe(3);
  });
});
