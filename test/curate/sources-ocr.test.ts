import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findSource } from "../../src/curate/sources/index.ts";
import { ocrDocumentsSource } from "../../src/curate/sources/ocr-documents.ts";
import type { CurateItem } from "../../src/curate/stage.ts";
import { pixelRectToBox } from "../../src/data/tasks/coords.ts";

type Word = { text: string; box: number[]; px: [number, number, number, number] };

async function collect(options: unknown, shard = 0, baseDir = "/"): Promise<CurateItem[]> {
  const o = ocrDocumentsSource.options.parse(options);
  const out: CurateItem[] = [];
  for await (const item of ocrDocumentsSource.generate(o, shard, { baseDir })) out.push(item);
  return out;
}

/**
 * Every dark pixel (text ink) lies within `tol` pixels of some word box, and every word box holds dark pixels:
 * the boxes measured from the DOM are where the glyphs were drawn.
 */
async function checkInkInsideWordBoxes(item: CurateItem, tol: number): Promise<void> {
  const { data, info } = await sharp(item.media[0]!.bytes)
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const words = item.fields.words as Word[];
  const near = (x: number, y: number, [x1, y1, x2, y2]: Word["px"], t: number) =>
    x >= x1 - t && x < x2 + t && y >= y1 - t && y < y2 + t;
  const inkPerWord = words.map(() => 0);
  let stray = 0;
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++) {
      if (data[y * info.width + x]! >= 100) continue;
      let found = false;
      words.forEach((w, k) => {
        if (near(x, y, w.px, 0)) inkPerWord[k]!++;
        if (!found && near(x, y, w.px, tol)) found = true;
      });
      if (!found) stray++;
    }
  expect(stray, `${item.id}: dark pixels outside every word box`).toBe(0);
  const empty = words.filter((_, k) => inkPerWord[k] === 0).map((w) => w.text);
  expect(empty, `${item.id}: word boxes without ink`).toEqual([]);
}

function checkWordsMatchText(item: CurateItem, width: number, height: number): void {
  const words = item.fields.words as Word[];
  const text = item.fields.text as string;
  expect(words.length).toBeGreaterThan(3);
  // Words in reading order spell the text, whitespace aside (CJK is written without spaces).
  expect(words.map((w) => w.text).join("")).toBe(text.replace(/\s+/g, ""));
  for (const w of words) {
    const [x1, y1, x2, y2] = w.px;
    expect(x1).toBeGreaterThanOrEqual(0);
    expect(y1).toBeGreaterThanOrEqual(0);
    expect(x2).toBeLessThanOrEqual(width);
    expect(y2).toBeLessThanOrEqual(height);
    expect(w.box).toEqual([...pixelRectToBox(x1, y1, x2 - x1, y2 - y1, width, height)]);
  }
}

describe("ocr-documents source", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glmv-ocr-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is registered", () => {
    expect(findSource("ocr-documents")).toBe(ocrDocumentsSource);
  });

  it("renders Latin documents whose per-word DOM boxes hold the drawn glyphs and spell the text", async () => {
    const items = await collect({ count: 2, shardSize: 2, seed: 7, width: 360, height: 280, cjkShare: 0 });
    expect(items.map((i) => i.id)).toEqual(["ocr-documents-0-0", "ocr-documents-0-1"]);
    for (const item of items) {
      const meta = await sharp(item.media[0]!.bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(["png", 360, 280]);
      expect(item.fields.scripts).toEqual(["latin"]);
      expect((item.fields.text as string).split("\n").length).toBeGreaterThanOrEqual(2);
      checkWordsMatchText(item, 360, 280);
      await checkInkInsideWordBoxes(item, 2);
    }
  });

  it("renders CJK text in the Noto CJK fonts with a box per word whose glyphs it holds", async () => {
    const [item] = await collect({ count: 1, shardSize: 1, seed: 2, width: 320, height: 240, cjkShare: 1 });
    expect(item!.fields.scripts).toEqual(["cjk"]);
    expect(item!.fields.fonts).toEqual([expect.any(String), expect.stringMatching(/Noto S[ae]\w+ CJK SC/)]);
    expect(item!.fields.text).toMatch(/[\u4e00-\u9fff]{4}/);
    checkWordsMatchText(item!, 320, 240);
    await checkInkInsideWordBoxes(item!, 2);
  });

  it("is the same on a rerun of the shard", async () => {
    const options = { count: 3, shardSize: 2, seed: 9, width: 256, height: 200 };
    const [a] = await collect(options, 1);
    const [b] = await collect(options, 1);
    expect(a!.id).toBe("ocr-documents-1-2");
    expect(b!.fields).toEqual(a!.fields);
    expect(Buffer.from(b!.media[0]!.bytes).equals(Buffer.from(a!.media[0]!.bytes))).toBe(true);
  });

  it("takes a word list and a folder of background images from the pipeline's folder", async () => {
    await writeFile(join(dir, "words.txt"), "ledger\nvoucher tariff\n");
    const bg = await sharp({
      create: { width: 64, height: 64, channels: 3, background: { r: 250, g: 236, b: 200 } },
    })
      .png()
      .toBuffer();
    await mkdir(join(dir, "bg"), { recursive: true });
    await writeFile(join(dir, "bg", "paper.png"), bg);
    const [item] = await collect(
      {
        count: 1,
        shardSize: 1,
        seed: 1,
        width: 300,
        height: 220,
        cjkShare: 0,
        words: "words.txt",
        backgrounds: "bg",
      },
      0,
      dir,
    );
    expect(item!.fields.background).toBe("file:paper.png");
    const vocabulary = new Set(["ledger", "voucher", "tariff"]);
    for (const w of item!.fields.words as Word[]) {
      const bare = w.text.replace(/[.,;:?!]$/, "").toLowerCase();
      expect(vocabulary.has(bare) || /^[\dA-Z][\d.-]*$/i.test(bare), w.text).toBe(true);
    }
    // The background image shows through the veil: a warm paper tone, not white.
    const { data } = await sharp(item!.media[0]!.bytes)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data[2]!).toBeLessThan(data[0]! - 10);
  });

  it("refuses a missing background folder by its option name", async () => {
    await expect(collect({ count: 1, backgrounds: "no-such-folder" }, 0, dir)).rejects.toThrow(/backgrounds/);
  });
});
