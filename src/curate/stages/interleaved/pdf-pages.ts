/**
 * `pdf-pages`: a PDF (a book, an arXiv paper) into interleaved pages (paper §3.1's book and academic data, with page
 * rasters as in Nougat) through Debian's poppler: `pdfinfo` reads the page count, `pdftotext -bbox-layout` the text
 * blocks with their boxes, `pdftoppm` the page rasters; figures (embedded photos and vector charts alike) are the
 * regions drawn on the raster outside the text, cropped from it. Each page becomes an item `<doc id>-p<page>` whose
 * `blocks` hold text and figures in column-aware reading order, with the raster as media `page.png`.
 * Items without a PDF pass unchanged.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { z } from "zod";
import { type CurateItem, type CurateMedia, drop, keep, keepSome, type StageDef } from "../../stage.ts";
import type { Block, PageBox } from "./document.ts";
import { type EmbeddedImage, embeddedFileName, matchEmbedded, parseImageList } from "./pdf-images.ts";
import { findFigureBoxes, type LaidPage, parseBboxLayout, readingOrder } from "./pdf-layout.ts";

export const PdfPagesOptions = z.strictObject({
  /** The media entry holding the PDF; by default the first one named `*.pdf` or starting with `%PDF-`. */
  media: z.string().optional(),
  /** Page raster resolution (100 dpi: a 600×750 pt page is 833×1042 px). */
  dpi: z.number().int().min(36).max(600).default(100),
  /** Read at most this many pages of a document (`fields.pageCount` still says how many it has). */
  maxPages: z.number().int().min(1).default(500),
  /** A figure is at least this many points wide and high (smaller marks are rules, bullets, logos). */
  minFigureSide: z.number().min(1).default(32),
  /** Drawn parts closer than this many points belong to one figure (a chart's bars, a diagram's boxes). */
  figureGap: z.number().min(0).default(18),
  /** A figure that is one embedded image (`pdfimages`) takes the image's own pixels instead of a raster crop. */
  embedded: z.boolean().default(true),
  /** Keep the page raster as media `page.png`. */
  keepRaster: z.boolean().default(true),
});
export type PdfPagesOptions = z.infer<typeof PdfPagesOptions>;

const exec = promisify(execFile);

/** A poppler failure the document is to blame for (a corrupt or encrypted file), with poppler's own message. */
class PopplerError extends Error {}

async function poppler(tool: string, args: string[], signal: AbortSignal): Promise<string> {
  try {
    const { stdout } = await exec(tool, args, { signal, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" });
    return stdout;
  } catch (e) {
    if (signal.aborted) throw e;
    const err = e as { stderr?: string; message?: string; code?: unknown };
    if (err.code === "ENOENT")
      throw new Error(`${tool} is not installed (Debian: apt-get install poppler-utils)`);
    const message = (err.stderr ?? "").trim().split("\n").slice(-3).join(" / ") || (err.message ?? String(e));
    throw new PopplerError(`${tool}: ${message}`);
  }
}

const findPdf = (item: CurateItem, name?: string): CurateMedia | undefined =>
  name !== undefined
    ? item.media.find((m) => m.name === name)
    : item.media.find(
        (m) =>
          m.name.toLowerCase().endsWith(".pdf") ||
          Buffer.from(m.bytes.subarray(0, 5)).toString("latin1") === "%PDF-",
      );

export const pdfPages: StageDef<PdfPagesOptions> = {
  name: "pdf-pages",
  summary:
    "split a PDF into interleaved page items (poppler: text blocks and figures in reading order, page rasters)",
  options: PdfPagesOptions,
  async open(options) {
    return {
      async process(item, { signal }) {
        const pdf = findPdf(item, options.media);
        if (!pdf) return keep(item);
        const dir = await mkdtemp(join(tmpdir(), "glmv-pdf-"));
        try {
          const pages = await splitPdf(item, pdf, dir, options, signal);
          if (pages.length === 0) return drop("empty_page", "no page has text or figures");
          const read = Math.min(Number(pages[0]!.fields.pageCount), options.maxPages);
          return read > pages.length ? keepSome(pages, { empty_page: read - pages.length }) : keep(...pages);
        } catch (e) {
          if (e instanceof PopplerError) return drop("pdf_unreadable", e.message);
          throw e;
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  },
};

async function splitPdf(
  item: CurateItem,
  pdf: CurateMedia,
  dir: string,
  options: PdfPagesOptions,
  signal: AbortSignal,
) {
  const file = join(dir, "doc.pdf");
  await writeFile(file, pdf.bytes);
  const info = await poppler("pdfinfo", [file], signal);
  const pageCount = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1] ?? 0);
  if (pageCount === 0) throw new PopplerError("pdfinfo: the document has no pages");
  const last = String(Math.min(pageCount, options.maxPages));
  const layout = parseBboxLayout(await poppler("pdftotext", ["-bbox-layout", "-l", last, file, "-"], signal));
  await poppler("pdftoppm", ["-r", String(options.dpi), "-png", "-l", last, file, join(dir, "page")], signal);
  const rasters = await rasterFiles(dir);
  let embedded: EmbeddedImage[] = [];
  if (options.embedded) {
    embedded = parseImageList(await poppler("pdfimages", ["-list", "-l", last, file], signal));
    if (embedded.length)
      await poppler("pdfimages", ["-png", "-p", "-l", last, file, join(dir, "img")], signal);
  }
  const readEmbedded = (i: EmbeddedImage) => readFile(embeddedFileName(join(dir, "img"), i));
  const out: CurateItem[] = [];
  for (const [index, page] of layout.entries()) {
    signal.throwIfAborted();
    const rasterPath = rasters.get(index + 1);
    if (!rasterPath) throw new PopplerError(`pdftoppm: no raster for page ${index + 1}`);
    const onPage = embedded.filter((i) => i.page === index + 1);
    const made = await buildPage(page, await readFile(rasterPath), options, onPage, readEmbedded);
    if (!made) continue;
    out.push({
      id: `${item.id}-p${index + 1}`,
      media: made.media,
      fields: { ...item.fields, blocks: made.blocks, page: index + 1, pageCount, docId: item.id },
    });
  }
  return out;
}

/** pdftoppm's files by page number (it zero-pads the number to the page count's width). */
async function rasterFiles(dir: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const name of await readdir(dir)) {
    const m = /^page-(\d+)\.png$/.exec(name);
    if (m) out.set(Number(m[1]), join(dir, name));
  }
  return out;
}

/** One page's blocks in reading order and its media, or null when it has neither text nor figures. */
async function buildPage(
  page: LaidPage,
  png: Buffer,
  options: PdfPagesOptions,
  embedded: EmbeddedImage[],
  readEmbedded: (i: EmbeddedImage) => Promise<Buffer>,
) {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const scale = info.width / page.width;
  const raster = {
    grey: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    scale,
  };
  const figureBoxes = findFigureBoxes(
    raster,
    page.blocks.map((b) => b.box),
    { minSide: options.minFigureSide, mergeGap: options.figureGap },
  );
  // Text drawn inside a figure (axis labels, diagram captions in boxes) belongs to the figure, not the page's prose.
  const inside = (t: PageBox) => figureBoxes.findIndex((f) => overlapShare(t, f) >= 0.8);
  const text = page.blocks.filter((b) => inside(b.box) < 0);
  if (text.length === 0 && figureBoxes.length === 0) return null;
  const media: CurateMedia[] = [];
  const figures: Block[] = [];
  const matches = matchEmbedded(figureBoxes, embedded);
  for (const [k, box] of figureBoxes.entries()) {
    const name = `figure-${k}`; // renamed in reading order below
    const figureText = page.blocks.filter((b) => inside(b.box) === k).map((b) => b.text);
    const match = matches[k];
    const bytes = match ? await readEmbedded(match) : await crop(png, box, scale, info.width, info.height);
    media.push({ name, bytes: new Uint8Array(bytes) });
    const extra = figureText.length ? { figureText: figureText.join(" ") } : {};
    figures.push({ type: "image", media: name, box, from: match ? "embedded" : "raster", ...extra });
  }
  if (options.keepRaster) media.unshift({ name: "page.png", bytes: new Uint8Array(png) });
  const blocks = readingOrder<Block & { box: PageBox }>([
    ...text.map((t) => ({ type: "text" as const, text: t.text, box: t.box })),
    ...(figures as (Block & { box: PageBox })[]),
  ]);
  // Number the figures in reading order (fig-1 is the first one a reader meets).
  const rename = new Map(
    blocks.flatMap((b) => (b.type === "image" ? [b.media] : [])).map((old, n) => [old, `fig-${n + 1}.png`]),
  );
  return {
    blocks: blocks.map((b) => (b.type === "image" ? { ...b, media: rename.get(b.media) as string } : b)),
    media: [
      ...media.filter((m) => !rename.has(m.name)),
      ...[...rename].map(([old, name]) => ({
        name,
        bytes: (media.find((m) => m.name === old) as CurateMedia).bytes,
      })),
    ],
  };
}

/** The share of box `a`'s area that lies inside box `b`. */
function overlapShare(a: PageBox, b: PageBox): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const area = (a[2] - a[0]) * (a[3] - a[1]);
  return area > 0 ? (w * h) / area : 0;
}

async function crop(
  png: Buffer,
  box: PageBox,
  scale: number,
  width: number,
  height: number,
): Promise<Uint8Array> {
  const left = Math.max(0, Math.floor(box[0] * scale));
  const top = Math.max(0, Math.floor(box[1] * scale));
  const right = Math.min(width, Math.ceil(box[2] * scale));
  const bottom = Math.min(height, Math.ceil(box[3] * scale));
  const region = { left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
  return new Uint8Array(await sharp(png).extract(region).png().toBuffer());
}
