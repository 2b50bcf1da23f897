import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import type { CurateItem } from "../../src/curate/stage.ts";
import { findQr, qrAds } from "../../src/curate/stages/interleaved/qr-ads.ts";
import { flat, photo, photoWithQr } from "./helpers/images.ts";

const ctx = { shard: 0, signal: new AbortController().signal };
const openCtx = { baseDir: ".", stateDir: ".", scanInput: async function* () {} };
const AD_URL = "https://ads.example.com/promo?id=42";

async function run(options: unknown, item: CurateItem) {
  const stage = await qrAds.open(qrAds.options.parse(options), openCtx);
  return stage.process(item, ctx);
}

let poster: Uint8Array; // 400×400 photo with an ad QR code
let bigPoster: Uint8Array; // 2400×1800 photo with a QR code at 6 px per module
let textPoster: Uint8Array; // a QR code that is not a URL
let cornerPoster: Uint8Array; // a small code in the corner of a large photo
let clean: Uint8Array;

beforeAll(async () => {
  poster = await photoWithQr(400, 400, AD_URL, { left: 80, top: 80 });
  bigPoster = await photoWithQr(2400, 1800, "https://shop.example.cn/item/9", {
    left: 1500,
    top: 900,
    scale: 6,
  });
  textPoster = await photoWithQr(400, 400, "WIFI CODE 1234", { left: 80, top: 80 });
  cornerPoster = await photoWithQr(1200, 1200, AD_URL, { left: 1030, top: 1030, scale: 4 });
  clean = await photo(480, 320);
});

async function size(bytes: Uint8Array) {
  const m = await sharp(bytes).metadata();
  return [m.width, m.height];
}

describe("qr-ads", () => {
  it("the test images are what they claim: jsQR reads the planted codes and finds none in the photo", async () => {
    expect((await findQr(poster, 400, 400, 1024))?.text).toBe(AD_URL);
    expect((await findQr(bigPoster, 2400, 1800, 1024))?.text).toBe("https://shop.example.cn/item/9");
    expect((await findQr(textPoster, 400, 400, 1024))?.text).toBe("WIFI CODE 1234");
    expect(await findQr(clean, 480, 320, 1024)).toBeNull();
    expect(await size(poster)).toEqual([400, 400]);
  });

  it("removes QR, banner and pixel images from a document and keeps its text and clean images", async () => {
    const doc: CurateItem = {
      id: "web-1",
      media: [
        { name: "hero.jpg", bytes: clean },
        { name: "qr.jpg", bytes: poster },
        { name: "leaderboard.png", bytes: await flat(728, 90, [200, 30, 30]) },
        { name: "strip.png", bytes: await flat(600, 60, [20, 30, 200]) },
        { name: "pixel.png", bytes: await flat(1, 1, [255, 255, 255]) },
        { name: "big-qr.jpg", bytes: bigPoster },
      ],
      fields: {
        url: "https://news.example.org/a",
        blocks: [
          { type: "text", text: "A river runs through the valley." },
          { type: "image", media: "hero.jpg", alt: "the valley" },
          { type: "image", media: "qr.jpg" },
          { type: "text", text: "Scan to win!" },
          { type: "image", media: "leaderboard.png" },
          { type: "image", media: "strip.png" },
          { type: "image", media: "pixel.png" },
          { type: "image", media: "big-qr.jpg" },
        ],
      },
    };
    const out = await run({}, doc);
    if (out.kind !== "keep") throw new Error(`dropped: ${JSON.stringify(out)}`);
    const [kept] = out.items;
    expect(kept?.fields.blocks).toEqual([
      { type: "text", text: "A river runs through the valley." },
      { type: "image", media: "hero.jpg", alt: "the valley" },
      { type: "text", text: "Scan to win!" },
    ]);
    expect(kept?.media.map((m) => m.name)).toEqual(["hero.jpg"]);
    expect(kept?.fields.removedImages).toEqual({ qr_code: 2, ad_banner: 2, tiny_image: 1 });
    expect(kept?.fields.url).toBe("https://news.example.org/a");
  });

  it("drops a pair whose image carries a QR code, naming the code, and keeps a clean pair untouched", async () => {
    const qrPair: CurateItem = {
      id: "p1",
      media: [{ name: "0.jpg", bytes: poster }],
      fields: { caption: "a poster" },
    };
    const out = await run({}, qrPair);
    expect(out).toMatchObject({ kind: "drop", reason: "qr_code" });
    if (out.kind === "drop") expect(out.detail).toContain(AD_URL);
    const cleanPair: CurateItem = {
      id: "p2",
      media: [{ name: "0.jpg", bytes: clean }],
      fields: { caption: "hills" },
    };
    expect(await run({}, cleanPair)).toEqual({ kind: "keep", items: [cleanPair] });
    const banner: CurateItem = {
      id: "p3",
      media: [{ name: "0.png", bytes: await flat(300, 250, [9, 9, 9]) }],
      fields: {},
    };
    expect(await run({}, banner)).toMatchObject({ kind: "drop", reason: "ad_banner" });
  });

  it("qr: url keeps codes that are not links; minQrArea keeps a small code in a large photo", async () => {
    const pair = (bytes: Uint8Array): CurateItem => ({
      id: "p",
      media: [{ name: "0.jpg", bytes }],
      fields: {},
    });
    expect((await run({ qr: "url" }, pair(textPoster))).kind).toBe("keep");
    expect(await run({ qr: "url" }, pair(poster))).toMatchObject({ reason: "qr_code" });
    expect(await run({}, pair(cornerPoster))).toMatchObject({ reason: "qr_code" });
    expect((await run({ minQrArea: 0.05 }, pair(cornerPoster))).kind).toBe("keep");
    expect((await run({ qr: "off" }, pair(poster))).kind).toBe("keep");
  });
});
