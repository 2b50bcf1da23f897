import { describe, expect, it } from "vitest";
import type { CurateItem } from "../../src/curate/stage.ts";
import { countWords, readBlocks, removeImages } from "../../src/curate/stages/interleaved/document.ts";
import { imageTextRatio } from "../../src/curate/stages/interleaved/image-text-ratio.ts";

const ctx = { shard: 0, signal: new AbortController().signal };
const openCtx = { baseDir: ".", stateDir: ".", scanInput: async function* () {} };
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");

function doc(id: string, textWords: number[], images: number): CurateItem {
  const blocks: unknown[] = textWords.map((n) => ({ type: "text", text: words(n) }));
  const media = Array.from({ length: images }, (_, i) => ({ name: `${i}.png`, bytes: new Uint8Array([i]) }));
  for (const m of media) blocks.push({ type: "image", media: m.name });
  return { id, media, fields: { blocks, source: "web" } };
}

async function run(options: unknown, item: CurateItem) {
  const stage = await imageTextRatio.open(imageTextRatio.options.parse(options), openCtx);
  return stage.process(item, ctx);
}

describe("interleaved document", () => {
  it("reads blocks, refuses an image block naming missing media, and passes pairs as absent", () => {
    expect(readBlocks(doc("a", [3], 1)).kind).toBe("ok");
    const broken = doc("b", [3], 1);
    broken.media = [];
    expect(readBlocks(broken)).toEqual({
      kind: "bad",
      detail: 'image block names media "0.png" the item lacks',
    });
    expect(readBlocks({ id: "p", media: [], fields: { caption: "x" } }).kind).toBe("absent");
    expect(readBlocks({ id: "q", media: [], fields: { blocks: [{ type: "video" }] } }).kind).toBe("bad");
  });

  it("removes image blocks and their media and counts the removals by reason across stages", () => {
    const item = doc("a", [3], 3);
    const read = readBlocks(item);
    if (read.kind !== "ok") throw new Error("not ok");
    const once = removeImages(item, read.blocks, new Map([["0.png", "qr_code"]]));
    const again = readBlocks(once);
    if (again.kind !== "ok") throw new Error("not ok");
    const twice = removeImages(
      once,
      again.blocks,
      new Map([
        ["2.png", "irrelevant_image"],
        ["1.png", "qr_code"],
      ]),
    );
    expect(twice.media).toEqual([]);
    expect(twice.fields.blocks).toEqual([{ type: "text", text: "w0 w1 w2" }]);
    expect(twice.fields.removedImages).toEqual({ qr_code: 2, irrelevant_image: 1 });
    expect(twice.fields.source).toBe("web");
  });

  it("counts CJK characters as words", () => {
    expect(countWords("the cat 猫が好き ok")).toBe(7);
  });
});

describe("image-text-ratio", () => {
  it("keeps an article with a few images and records its ratio", async () => {
    const out = await run({}, doc("a", [100, 100], 2));
    expect(out.kind).toBe("keep");
    if (out.kind === "keep") expect(out.items[0]?.fields.imagesPer100Words).toBe(1);
  });

  it("drops a gallery (many images, few words) and a document left with no image", async () => {
    const gallery = await run({}, doc("g", [10], 5));
    expect(gallery).toMatchObject({ kind: "drop", reason: "bad_image_text_ratio" });
    if (gallery.kind === "drop") expect(gallery.detail).toContain("5 images, 10 words");
    expect(await run({}, doc("t", [200], 0))).toMatchObject({ kind: "drop", reason: "bad_image_text_ratio" });
  });

  it("applies minImagesPer100Words and maxImages, passes pairs and drops malformed blocks", async () => {
    expect((await run({ minImagesPer100Words: 2 }, doc("a", [200], 2))).kind).toBe("drop");
    expect((await run({ maxImages: 1 }, doc("a", [200], 2))).kind).toBe("drop");
    const pair: CurateItem = { id: "p", media: [], fields: { caption: "a cat" } };
    expect(await run({}, pair)).toEqual({ kind: "keep", items: [pair] });
    expect(await run({}, { id: "b", media: [], fields: { blocks: "nope" } })).toMatchObject({
      reason: "bad_blocks",
    });
  });

  it("refuses unknown options and inverted bounds", () => {
    expect(() => imageTextRatio.options.parse({ maxRatio: 3 })).toThrow();
    expect(() => imageTextRatio.options.parse({ minImages: 3, maxImages: 1 })).toThrow();
  });
});
