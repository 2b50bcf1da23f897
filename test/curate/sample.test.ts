import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jsQRModule from "jsqr";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCurationSample, type SampleTruth } from "../../src/curate/sample/make-sample.ts";

// jsqr is CommonJS whose module.exports is the function; TypeScript sees its `default` export instead.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

let dir: string;
let truth: SampleTruth;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "glmv-sample-"));
  truth = await makeCurationSample(dir, { distinct: 48, seed: 3 });
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const records = async () =>
  (await readFile(join(dir, "pairs.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { id: string; image: string; caption: string });

describe("the generated curation sample", () => {
  it("writes every pair with an image on disk and lists each planted kind", async () => {
    const rows = await records();
    expect(rows).toHaveLength(truth.pairs);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect((await readdir(join(dir, "images"))).sort()).toEqual(rows.map((r) => r.image).sort());
    for (const ids of Object.values(truth.planted)) expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const [copy, original] of Object.entries(truth.duplicateOf)) {
      expect(rows.some((r) => r.id === copy)).toBe(true);
      expect(rows.some((r) => r.id === original)).toBe(true);
    }
  });

  it("plants exact copies byte for byte, solid colours with one value, and QR ads a decoder reads", async () => {
    const rows = new Map((await records()).map((r) => [r.id, r]));
    const bytes = (id: string) => readFile(join(dir, "images", rows.get(id)!.image));
    const exact = truth.planted.exactDuplicate[0]!;
    expect(Buffer.compare(await bytes(exact), await bytes(truth.duplicateOf[exact]!))).toBe(0);
    const near = truth.planted.nearDuplicate[0]!;
    expect(Buffer.compare(await bytes(near), await bytes(truth.duplicateOf[near]!))).not.toBe(0);
    const stats = await sharp(await bytes(truth.planted.solidColor[0]!)).stats();
    for (const c of stats.channels) expect(c.max - c.min).toBeLessThanOrEqual(2);
    const { data, info } = await sharp(await bytes(truth.planted.qrAd[0]!))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const code = jsQR(new Uint8ClampedArray(data), info.width, info.height);
    expect(code?.data).toMatch(/^https:\/\/shop\.example\.com\/deal\//);
    const small = await sharp(await bytes(truth.planted.tooSmall[0]!)).metadata();
    expect(small.width).toBeLessThan(64);
  });

  it("prints a real two-page PDF with two embedded images and saves the HTML pages", async () => {
    const pdf = join(dir, "docs", "paper.pdf");
    expect(execFileSync("pdfinfo", [pdf], { encoding: "utf8" })).toMatch(/Pages:\s+2/);
    const images = execFileSync("pdfimages", ["-list", pdf], { encoding: "utf8" })
      .trim()
      .split("\n")
      .slice(2);
    expect(images).toHaveLength(2);
    expect(execFileSync("pdftotext", [pdf, "-"], { encoding: "utf8" })).toContain("perceptual hash");
    expect((await readdir(join(dir, "pages"))).sort()).toEqual([...truth.pages].sort());
  });

  it("is the same for the same seed", async () => {
    const again = await mkdtemp(join(tmpdir(), "glmv-sample-"));
    try {
      const second = await makeCurationSample(again, { distinct: 48, seed: 3 });
      expect(second.planted).toEqual(truth.planted);
      expect(await readFile(join(again, "pairs.jsonl"), "utf8")).toBe(
        await readFile(join(dir, "pairs.jsonl"), "utf8"),
      );
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  }, 120_000);
});
