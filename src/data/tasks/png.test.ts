import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { encodePng, writePng } from "./png.ts";
import { buildSuite } from "./suite.ts";

describe("encodePng", () => {
  it("encodes a raster that sharp decodes back to the same pixels", async () => {
    const [item] = buildSuite({ seed: 1, perFamily: 1, split: "train", families: ["chart"] });
    const png = await encodePng(item!.image);
    expect([...png.slice(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([56, 56, 3]);
    expect(new Uint8Array(data)).toEqual(item!.image.data);
  });

  it("writes a decodable file of the configured size", async () => {
    const dir = await mkdtemp(join(tmpdir(), "glmv-png-"));
    try {
      const [item] = buildSuite({ seed: 1, perFamily: 1, split: "heldout", families: ["gui"], size: 112 });
      const path = join(dir, "gui.png");
      await writePng(path, item!.image);
      const meta = await sharp(await readFile(path)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(["png", 112, 112]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects a raster whose buffer does not match its size", async () => {
    await expect(encodePng({ width: 4, height: 4, data: new Uint8Array(10) })).rejects.toThrow(/expected 48/);
  });
});
