import { describe, expect, it } from "vitest";
import { contentHash } from "../../src/curate/image/content-hash.ts";
import { imageMeta, imageThumbnail } from "../../src/curate/image/decode.ts";
import { hamming, hashToHex, hexToHash, phash64 } from "../../src/curate/image/phash.ts";
import { patternImage, reencoded, solidImage } from "../helpers/pairs-images.ts";

describe("phash64", () => {
  it("puts a re-encoded, resized copy within a few bits and a different picture far away", async () => {
    const a = await patternImage(400, 300, 3);
    const copy = await reencoded(a, 280, 50);
    const other = await patternImage(400, 300, 11);
    const [ha, hc, ho] = await Promise.all([phash64(a), phash64(copy), phash64(other)]);
    expect(hamming(ha, hc)).toBeLessThanOrEqual(4);
    expect(hamming(ha, ho)).toBeGreaterThan(12);
  });

  it("round-trips through hex and counts bits over all 64", () => {
    const h = 0xfedcba9876543210n;
    expect(hexToHash(hashToHex(h))).toBe(h);
    expect(hamming(0n, 0xffffffffffffffffn)).toBe(64);
    expect(hamming(0b1011n, 0b0001n)).toBe(2);
  });

  it("rejects bytes that are not an image", async () => {
    await expect(phash64(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow();
  });
});

describe("decode", () => {
  it("reads the size from the header and makes a 64×64 RGB thumbnail", async () => {
    const png = await solidImage(120, 40, [200, 10, 10]);
    expect(await imageMeta(png)).toEqual({ width: 120, height: 40, format: "png" });
    const thumb = await imageThumbnail(png);
    expect(thumb.rgb.length).toBe(64 * 64 * 3);
    expect([thumb.rgb[0], thumb.rgb[1], thumb.rgb[2]]).toEqual([200, 10, 10]);
  });

  it("content hashes differ for different bytes and agree for equal bytes", async () => {
    const a = await solidImage(10, 10, [1, 2, 3]);
    expect(contentHash(a)).toBe(contentHash(Uint8Array.from(a)));
    expect(contentHash(a)).not.toBe(contentHash(await solidImage(10, 10, [1, 2, 4])));
  });
});
