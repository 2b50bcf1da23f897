import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import type { CurateItem, StageOutcome } from "../../src/curate/stage.ts";
import type { Block } from "../../src/curate/stages/interleaved/document.ts";
import { pdfPages } from "../../src/curate/stages/interleaved/pdf-pages.ts";
import { photo } from "./helpers/images.ts";
import { barChartPng, htmlToPdfs, twoColumnHtml } from "./helpers/pdf-make.ts";

const openCtx = { baseDir: ".", stateDir: ".", scanInput: async function* () {} };
let paper: Uint8Array;
let blank: Uint8Array;
let gap: Uint8Array;

beforeAll(async () => {
  [paper, blank, gap] = (await htmlToPdfs([
    twoColumnHtml(await barChartPng(), await photo(600, 240)),
    "<!doctype html><html><body></body></html>",
    `<!doctype html><html><body><p>First page text.</p><div style="break-before:page"></div>
<div style="break-before:page"><p>Third page text.</p></div></body></html>`,
  ])) as [Uint8Array, Uint8Array, Uint8Array];
});

async function run(
  options: unknown,
  item: CurateItem,
  signal = new AbortController().signal,
): Promise<StageOutcome> {
  const stage = await pdfPages.open(pdfPages.options.parse(options), openCtx);
  return stage.process(item, { shard: 0, signal });
}

const pdfItem = (bytes: Uint8Array, fields: Record<string, unknown> = {}): CurateItem => ({
  id: "paper-7",
  media: [{ name: "paper.pdf", bytes }],
  fields,
});

/** Each block as its first word (text) or `[figure]`. */
const outline = (blocks: Block[]) =>
  blocks.map((b) => (b.type === "text" ? b.text.split(" ")[0] : "[figure]"));

const pdfTemps = async () => (await readdir(tmpdir())).filter((n) => n.startsWith("glmv-pdf-"));

describe("pdf-pages", () => {
  it("splits a two-column paper into page items with text and figures in column-aware reading order", async () => {
    const out = await run({}, pdfItem(paper, { source: "arxiv" }));
    if (out.kind !== "keep") throw new Error(`dropped: ${JSON.stringify(out)}`);
    // the blank third page is left out
    expect(out.items.map((i) => i.id)).toEqual(["paper-7-p1", "paper-7-p2"]);
    const [p1, p2] = out.items as [CurateItem, CurateItem];
    expect(p1.fields).toMatchObject({ page: 1, pageCount: 3, docId: "paper-7", source: "arxiv" });
    // poppler's own flow order reads the right column before the left's second paragraph; ours does not
    expect(outline(p1.fields.blocks as Block[])).toEqual([
      "TITLEWORD",
      "LEFTONE",
      "[figure]",
      "LEFTTWO",
      "RIGHTONE",
      "RIGHTTWO",
      "FOOTERWORD",
    ]);
    expect(outline(p2.fields.blocks as Block[])).toEqual(["PAGETWO", "[figure]", "AFTERPHOTO"]);
    expect((p1.fields.blocks as Block[])[1]).toMatchObject({
      type: "text",
      text: expect.stringContaining("Left one sentence 6 tells about rivers and valleys."),
    });
  });

  it("gives figures that are embedded images their own pixels (pdfimages)", async () => {
    const out = await run({}, pdfItem(paper));
    if (out.kind !== "keep") throw new Error("dropped");
    const figures = out.items.flatMap((item) =>
      (item.fields.blocks as Block[]).flatMap((b) => (b.type === "image" ? [{ item, block: b }] : [])),
    );
    expect(figures.map((f) => [f.item.id, f.block.media, f.block.from])).toEqual([
      ["paper-7-p1", "fig-1.png", "embedded"],
      ["paper-7-p2", "fig-1.png", "embedded"],
    ]);
    const sizes = await Promise.all(
      figures.map(async ({ item, block }) => {
        const m = await sharp(item.media.find((x) => x.name === block.media)?.bytes).metadata();
        return [m.width, m.height];
      }),
    );
    expect(sizes).toEqual([
      [440, 300],
      [600, 240],
    ]);
  });

  it("crops the figure from the page raster and keeps the raster at the configured dpi", async () => {
    const out = await run({ dpi: 72, embedded: false }, pdfItem(paper));
    if (out.kind !== "keep") throw new Error("dropped");
    const p1 = out.items[0] as CurateItem;
    expect(p1.media.map((m) => m.name)).toEqual(["page.png", "fig-1.png"]);
    const page = await sharp((p1.media[0] as { bytes: Uint8Array }).bytes).metadata();
    expect([page.width, page.height]).toEqual([600, 750]); // 600×750 pt at 72 dpi
    const figure = (p1.fields.blocks as Block[]).find((b) => b.type === "image");
    expect(figure?.from).toBe("raster");
    // the chart was placed at 220×150 pt below the first left paragraph; its drawn part (axes and bars) fills most of it
    const [x0, y0, x1, y1] = figure?.box ?? [0, 0, 0, 0];
    expect(x0).toBeGreaterThanOrEqual(48);
    expect(x1).toBeLessThan(280);
    expect(x1 - x0).toBeGreaterThan(180);
    expect(y1 - y0).toBeGreaterThan(110);
    // the crop holds the chart's first (blue) and last (red) bars
    const { data } = await sharp((p1.media[1] as { bytes: Uint8Array }).bytes)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const near = (rgb: number[]) => {
      let n = 0;
      for (let i = 0; i < data.length; i += 3)
        if (
          Math.abs((data[i] as number) - (rgb[0] as number)) +
            Math.abs((data[i + 1] as number) - (rgb[1] as number)) +
            Math.abs((data[i + 2] as number) - (rgb[2] as number)) <
          30
        )
          n++;
      return n;
    };
    expect(near([0, 90, 200])).toBeGreaterThan(100);
    expect(near([160, 90, 80])).toBeGreaterThan(100);
  });

  it("reads at most maxPages pages but reports the document's page count", async () => {
    const out = await run({ maxPages: 1, keepRaster: false }, pdfItem(paper));
    if (out.kind !== "keep") throw new Error("dropped");
    expect(out.items.map((i) => [i.id, i.fields.page, i.fields.pageCount])).toEqual([["paper-7-p1", 1, 3]]);
    expect(out.items[0]?.media.map((m) => m.name)).toEqual(["fig-1.png"]);
  });

  it("drops a corrupt PDF as pdf_unreadable with poppler's message, and a blank one as empty_page", async () => {
    const corrupt = await run(
      {},
      pdfItem(new TextEncoder().encode("%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")),
    );
    expect(corrupt).toMatchObject({ kind: "drop", reason: "pdf_unreadable" });
    if (corrupt.kind === "drop") expect(corrupt.detail).toMatch(/^pdfinfo: .*(trailer|xref)/);
    expect(await run({}, pdfItem(blank))).toMatchObject({ kind: "drop", reason: "empty_page" });
  });

  it("counts a blank page inside a document as empty_page beside the pages it keeps", async () => {
    const out = await run({ keepRaster: false }, pdfItem(gap));
    if (out.kind !== "keep") throw new Error("dropped");
    expect(out.items.map((i) => i.fields.page)).toEqual([1, 3]);
    expect(out.dropped).toEqual({ empty_page: 1 });
    const first = await run({ keepRaster: false, maxPages: 1 }, pdfItem(gap));
    expect(first.kind === "keep" && first.dropped).toBeFalsy();
  });

  it("passes items without a PDF, and removes its temp folder even when the item is aborted", async () => {
    const pair: CurateItem = { id: "p", media: [{ name: "0.jpg", bytes: await photo(32, 32) }], fields: {} };
    expect(await run({}, pair)).toEqual({ kind: "keep", items: [pair] });
    const before = await pdfTemps();
    const aborted = new AbortController();
    aborted.abort(new Error("item time limit"));
    await expect(run({}, pdfItem(paper), aborted.signal)).rejects.toThrow();
    await run({}, pdfItem(blank));
    expect(await pdfTemps()).toEqual(before);
  });
});
