import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formulaImagesSource } from "../../src/curate/sources/formula-images.ts";
import { findSource } from "../../src/curate/sources/index.ts";
import { typesetLatex } from "../../src/curate/sources/mathjax-svg.ts";
import type { CurateItem } from "../../src/curate/stage.ts";

async function collect(options: unknown, shard: number, baseDir = "/"): Promise<CurateItem[]> {
  const o = formulaImagesSource.options.parse(options);
  const out: CurateItem[] = [];
  for await (const item of formulaImagesSource.generate(o, shard, { baseDir })) out.push(item);
  return out;
}

/** Fraction of pixels much darker than the image's brightest: ink on paper. */
async function inkFraction(png: Uint8Array): Promise<number> {
  const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  let dark = 0;
  for (const v of data) if (v < 128) dark++;
  return dark / data.length;
}

describe("formula-images source", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glmv-formula-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is registered and shards count by shardSize", () => {
    expect(findSource("formula-images")).toBe(formulaImagesSource);
    expect(
      formulaImagesSource.shardCount(formulaImagesSource.options.parse({ count: 7, shardSize: 3 })),
    ).toBe(3);
  });

  it("MathJax reports a TeX error and an undefined macro as errors, and typesets good LaTeX", () => {
    expect(typesetLatex("\\frac{a}{b} + \\sum_{i=1}^{n} x_i").ok).toBe(true);
    expect(typesetLatex("\\frac{a}{").ok).toBe(false);
    const undefinedMacro = typesetLatex("\\notamacro{x}");
    expect(undefinedMacro.ok).toBe(false);
    if (!undefinedMacro.ok) expect(undefinedMacro.error).toMatch(/notamacro/);
  });

  it("generates grammar formulas as PNG images paired with their LaTeX, the same on a rerun", async () => {
    const options = { count: 5, shardSize: 3, seed: 4, kinds: ["fraction", "integral", "matrix"] };
    const shard1 = await collect(options, 1);
    expect(shard1.map((i) => i.id)).toEqual(["formula-images-1-3", "formula-images-1-4"]);
    for (const item of shard1) {
      const latex = item.fields.latex as string;
      expect(latex).toMatch(/\\frac|\\int|\\begin\{[pbv]matrix\}/);
      expect(typesetLatex(latex).ok).toBe(true);
      const meta = await sharp(item.media[0]!.bytes).metadata();
      expect(meta.format).toBe("png");
      expect([meta.width, meta.height]).toEqual([item.fields.width, item.fields.height]);
      const ink = await inkFraction(item.media[0]!.bytes);
      expect(ink).toBeGreaterThan(0.01);
      expect(ink).toBeLessThan(0.6);
      expect(item.fields.messages).toEqual([
        expect.objectContaining({ role: "user" }),
        { role: "assistant", content: `<|begin_of_box|>${latex}<|end_of_box|>` },
      ]);
    }
    const again = await collect(options, 1);
    expect(again.map((i) => Buffer.from(i.media[0]!.bytes).toString("base64"))).toEqual(
      shard1.map((i) => Buffer.from(i.media[0]!.bytes).toString("base64")),
    );
  });

  it("typesets a file of LaTeX lines and drops the lines MathJax reports as errors", async () => {
    await writeFile(
      join(dir, "formulas.tex"),
      "# comments are skipped\nE = mc^{2}\n\\frac{a}{\n\\int_0^1 x^2 \\, dx\n\\undefinedmacro{y}\n",
    );
    const items = await collect({ count: 4, shardSize: 4, formulas: "formulas.tex" }, 0, dir);
    expect(items.map((i) => i.fields.latex)).toEqual(["E = mc^{2}", "\\int_0^1 x^2 \\, dx"]);
    expect(items.map((i) => i.id)).toEqual(["formula-images-0-0", "formula-images-0-2"]);
  });

  it("refuses unknown options", () => {
    expect(formulaImagesSource.options.safeParse({ count: 2, colour: "red" }).success).toBe(false);
  });
});
