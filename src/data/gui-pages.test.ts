import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng } from "../util/rng.ts";
import {
  buildGuiPage,
  buildGuiPageItems,
  CHROMIUM_PATH,
  type GuiBrowser,
  launchGuiBrowser,
  renderGuiPage,
} from "./gui-pages.ts";
import { parseBox, parsePoint, pointInBox } from "./tasks/coords.ts";
import { readText } from "./tasks/glyph-reader.ts";
import { INK } from "./tasks/layout.ts";
import { contentHash } from "./tasks/suite.ts";

describe("buildGuiPage (pure)", () => {
  it("is deterministic by seed and names its target among its buttons", () => {
    const a = buildGuiPage(createRng(3), 3, 56);
    expect(buildGuiPage(createRng(3), 3, 56)).toEqual(a);
    expect(a.labels).toHaveLength(4);
    expect(a.labels).toContain(a.target);
    expect(a.html).not.toMatch(/font-family|<text/);
    expect(() => buildGuiPage(createRng(3), 4, 56)).toThrow(/level/);
  });
});

const hasChromium = existsSync(CHROMIUM_PATH);
if (!hasChromium) console.warn(`gui-pages: skipping browser tests, ${CHROMIUM_PATH} is absent`);

describe.skipIf(!hasChromium)("gui pages in a real Chromium", () => {
  let browser: GuiBrowser;
  beforeAll(async () => {
    browser = await launchGuiBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("screenshots the page at its size and reads every button label inside its DOM box", async () => {
    for (const [seed, size] of [
      [1, 56],
      [2, 112],
    ] as const) {
      const page = buildGuiPage(createRng(seed), 3, size);
      const { image, rects } = await renderGuiPage(browser, page);
      expect([image.width, image.height, image.data.length]).toEqual([size, size, size * size * 3]);
      expect(Object.keys(rects).sort()).toEqual([...page.labels].sort());
      for (const label of page.labels) {
        const r = rects[label]!;
        expect(r.x).toBeGreaterThanOrEqual(0);
        expect(r.y + r.h).toBeLessThanOrEqual(size);
        const inside = {
          x: Math.round(r.x) + 1,
          y: Math.round(r.y) + 1,
          w: Math.round(r.w) - 2,
          h: Math.round(r.h) - 2,
        };
        expect(readText(image, INK, inside)).toBe(label);
      }
    }
  });

  it("builds split-safe items whose gold box frames the target and whose point lies inside it", async () => {
    const train = await buildGuiPageItems(browser, { seed: 5, count: 6, split: "train" });
    const heldout = await buildGuiPageItems(browser, { seed: 5, count: 3, split: "heldout" });
    const trainHashes = new Set(train.map((i) => contentHash("gui", i)));
    for (const item of heldout) expect(trainHashes.has(contentHash("gui", item))).toBe(false);
    for (const item of [...train, ...heldout]) {
      const gold = parseBox(item.answer)!;
      expect(gold).not.toBeNull();
      expect(pointInBox(parsePoint(item.responseAnswer)!, gold)).toBe(true);
      const label = /^click ([a-z]+)\.$/.exec(item.question)![1]!;
      const x0 = Math.ceil((gold[0] * 56) / 1000);
      const y0 = Math.ceil((gold[1] * 56) / 1000);
      const x1 = Math.floor(((gold[2] + 1) * 56) / 1000) - 1;
      const y1 = Math.floor(((gold[3] + 1) * 56) / 1000) - 1;
      expect(readText(item.image, INK, { x: x0 + 1, y: y0 + 1, w: x1 - x0 - 1, h: y1 - y0 - 1 })).toBe(label);
    }
    const again = await buildGuiPageItems(browser, { seed: 5, count: 2, split: "train" });
    expect(again.map((i) => i.answer)).toEqual(train.slice(0, 2).map((i) => i.answer));
    expect(again[0]!.image.data).toEqual(train[0]!.image.data);
  });
});
