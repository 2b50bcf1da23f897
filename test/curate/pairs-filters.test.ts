import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { captionFilter, countWords } from "../../src/curate/stages/pairs/caption-filter.ts";
import { imageBounds } from "../../src/curate/stages/pairs/image-bounds.ts";
import { lowInformation } from "../../src/curate/stages/pairs/low-information.ts";
import { patternImage, solidImage } from "../helpers/pairs-images.ts";
import { pairItem, runStage, verdict } from "../helpers/stage-context.ts";

describe("image-bounds", () => {
  it("drops too small, too large, bad aspect and undecodable images and keeps the rest with their size", async () => {
    const good = await patternImage(320, 240, 1);
    const truncated = good.slice(0, Math.floor(good.length / 2));
    const items = [
      pairItem("ok", good, "a pattern"),
      pairItem("small", await patternImage(48, 40, 2), "tiny"),
      pairItem("large", await solidImage(2000, 500, [9, 9, 9]), "big"),
      pairItem("banner", await patternImage(900, 120, 3), "banner"),
      pairItem("garbage", new Uint8Array([1, 2, 3, 4, 5]), "not an image"),
      pairItem("truncated", truncated, "half a jpeg"),
      pairItem("none", undefined, "no image at all"),
    ];
    const out = await runStage(imageBounds, { maxSide: 1500 }, items);
    expect(out.map(verdict)).toEqual([
      "keep",
      "too_small",
      "too_large",
      "bad_aspect",
      "undecodable",
      "undecodable",
      "no_image",
    ]);
    expect(out[0]).toMatchObject({ kind: "keep", items: [{ fields: { width: 320, height: 240 } }] });
  });

  it("reads the displayed size of an EXIF-rotated image", async () => {
    const tall = new Uint8Array(
      await sharp(await patternImage(400, 100, 4))
        .withMetadata({ orientation: 6 })
        .jpeg()
        .toBuffer(),
    );
    const [out] = await runStage(imageBounds, { maxAspect: 5 }, [pairItem("r", tall, "rotated")]);
    expect(out).toMatchObject({ kind: "keep", items: [{ fields: { width: 100, height: 400 } }] });
  });
});

describe("low-information", () => {
  it("drops solid colours and near-uniform images and keeps pictures and text on white", async () => {
    const nearUniform = new Uint8Array(
      await sharp({ create: { width: 200, height: 200, channels: 3, background: "#808080" } })
        .composite([{ input: Buffer.from(await solidImage(40, 40, [100, 100, 100])), left: 80, top: 80 }])
        .jpeg()
        .toBuffer(),
    );
    const textOnWhite = new Uint8Array(
      await sharp(
        Buffer.from(
          `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200"><rect width="100%" height="100%" fill="white"/>
          <text x="10" y="60" font-family="DejaVu Sans" font-size="36">Invoice 2024-07</text>
          <text x="10" y="130" font-family="DejaVu Sans" font-size="36">Total: 1,234.50 EUR</text></svg>`,
        ),
      )
        .png()
        .toBuffer(),
    );
    const items = [
      pairItem("solid-jpeg", await solidImage(300, 200, [40, 120, 200], "jpeg"), "sky"),
      pairItem("solid-png", await solidImage(300, 200, [255, 255, 255]), "white"),
      pairItem("near-uniform", nearUniform, "grey"),
      pairItem("picture", await patternImage(300, 200, 5), "pattern"),
      pairItem("text", textOnWhite, "an invoice", "png"),
    ];
    const out = await runStage(lowInformation, {}, items);
    expect(out.map(verdict)).toEqual(["solid_color", "solid_color", "low_information", "keep", "keep"]);
  });
});

describe("caption-filter", () => {
  it("counts CJK characters as words", () => {
    expect(countWords("a red 方块")).toBe(4);
    expect(countWords("  ")).toBe(0);
  });

  it("drops short, long and other-language captions and keeps English and Chinese", async () => {
    const items = [
      pairItem("en", undefined, "a red circle and a blue square on a white background"),
      pairItem("zh", undefined, "一只红色的猫坐在桌子上面看着窗外的风景"),
      pairItem("short", undefined, "photo"),
      pairItem("empty", undefined, ""),
      pairItem("long", undefined, "word ".repeat(40)),
      pairItem("fr", undefined, "un chat noir dort sur le canapé du salon près de la fenêtre"),
      pairItem("short-fr", undefined, "le chat noir"),
    ];
    const out = await runStage(captionFilter, { maxWords: 30 }, items);
    expect(out.map(verdict)).toEqual([
      "keep",
      "keep",
      "caption_short",
      "caption_short",
      "caption_long",
      "caption_language",
      "keep",
    ]);
    expect(out[1]).toMatchObject({ kind: "keep", items: [{ fields: { language: "cmn" } }] });
  });

  it("accepts any language when the list is empty and rejects an unknown option", async () => {
    const fr = pairItem("fr", undefined, "un chat noir dort sur le canapé du salon près de la fenêtre");
    expect((await runStage(captionFilter, { languages: [] }, [fr])).map(verdict)).toEqual(["keep"]);
    expect(() => captionFilter.options.parse({ minWord: 2 })).toThrow();
  });
});
