/**
 * `ocr-documents`: synthetic documents (a title and paragraphs of Latin and CJK text, one or two columns) laid
 * out and shaped by Chromium with Debian's real fonts over generated or user backgrounds, with every word's box
 * measured from the DOM at render time (`Range.getClientRects`) in pixels and 0–999. One browser per shard.
 */
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { z } from "zod";
import { CHROMIUM_PATH } from "../../data/gui-pages.ts";
import { pixelRectToBox } from "../../data/tasks/coords.ts";
import { GlmvError } from "../../util/errors.ts";
import type { Rng } from "../../util/rng.ts";
import type { CurateItem, SourceDef } from "../stage.ts";
import { BACKGROUND_KINDS, generateBackground } from "./backgrounds.ts";
import {
  escapeHtml,
  glmBox,
  IMAGE_FORMAT_OPTION,
  imageItem,
  inShardTab,
  itemRng,
  listFolder,
  qaMessages,
  readLines,
  resolveOptionPath,
  round2,
  SHARDING_OPTIONS,
  screenshotAs,
  shardCountOf,
  shardIndices,
} from "./common.ts";
import {
  DEFAULT_VOCABULARY,
  makeParagraph,
  type TextParagraph,
  type Vocabulary,
  vocabularyFrom,
} from "./ocr-text.ts";
import { MEASURE_WORDS_JS, type MeasuredWord, pageCall } from "./page-scripts.ts";

const NAME = "ocr-documents";
const QUESTION = "Read all the text in the image.";
const IMAGE_TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
};
const INKS = ["#111111", "#222222", "#1d2a44", "#2b1b14", "#0f2f1f", "#333333"];

const range = (lo: number, hi: number) =>
  z.tuple([z.number().min(lo), z.number().max(hi)]).refine(([a, b]) => a <= b, "low must be ≤ high");

export const OcrDocumentsOptions = z
  .object({
    ...SHARDING_OPTIONS,
    width: z.number().int().min(128).max(4096).default(640),
    height: z.number().int().min(128).max(4096).default(800),
    /** A folder of background images (png/jpg/webp) instead of generated ones; a white veil keeps text legible. */
    backgrounds: z.string().min(1).optional(),
    backgroundKinds: z
      .array(z.enum(BACKGROUND_KINDS))
      .min(1)
      .default([...BACKGROUND_KINDS]),
    /** A word list (one or more words a line); CJK words are told apart by script. Default: the shipped lists. */
    words: z.string().min(1).optional(),
    /** The share of paragraphs written in CJK. */
    cjkShare: z.number().min(0).max(1).default(0.3),
    latinFonts: z
      .array(z.string().min(1))
      .min(1)
      .default(["DejaVu Sans", "DejaVu Serif", "Liberation Sans", "Liberation Serif", "Liberation Mono"]),
    cjkFonts: z.array(z.string().min(1)).min(1).default(["Noto Sans CJK SC", "Noto Serif CJK SC"]),
    fontPx: range(6, 200).default([13, 22]),
    /** The share of documents set in two columns. */
    twoColumnShare: z.number().min(0).max(1).default(0.25),
    format: IMAGE_FORMAT_OPTION,
    chromium: z.string().min(1).default(CHROMIUM_PATH),
  })
  .strict();
export type OcrDocumentsOptions = z.infer<typeof OcrDocumentsOptions>;

/** A document to render: its HTML and its blocks (title first) in reading order. */
type DocumentPage = { html: string; blocks: TextParagraph[]; pad: number; fonts: string[] };

function buildDocument(
  rng: Rng,
  o: OcrDocumentsOptions,
  vocab: Vocabulary,
  background: string,
): DocumentPage {
  const latinFont = rng.pick(o.latinFonts);
  const cjkFont = rng.pick(o.cjkFonts);
  const fontPx = rng.int(Math.ceil(o.fontPx[0]), Math.floor(o.fontPx[1]));
  const pad = rng.int(
    Math.round(Math.min(o.width, o.height) * 0.04),
    Math.round(Math.min(o.width, o.height) * 0.09),
  );
  const script = (): "latin" | "cjk" => (rng.float() < o.cjkShare ? "cjk" : "latin");
  const blocks = [makeParagraph(rng, script(), vocab, "title")];
  // More paragraphs than fit: the renderer cuts at the first one that leaves the page.
  const room = (o.width * o.height) / (fontPx * fontPx * 40);
  for (let i = 0; i < Math.max(2, Math.ceil(room)); i++) blocks.push(makeParagraph(rng, script(), vocab));
  const family = (p: TextParagraph) =>
    p.script === "cjk" ? `'${cjkFont}', '${latinFont}'` : `'${latinFont}'`;
  const columns = rng.float() < o.twoColumnShare ? 2 : 1;
  const css =
    `html,body{margin:0;padding:0}body{width:${o.width}px;height:${o.height}px;overflow:hidden;box-sizing:border-box;` +
    `padding:${pad}px;color:${rng.pick(INKS)};background:${background};font-size:${fontPx}px}` +
    `#doc{height:100%;column-count:${columns};column-gap:${pad}px;column-fill:auto}` +
    `h1{margin:0 0 ${Math.round(fontPx * 0.8)}px;font-size:${(1.4 + rng.float() * 0.6).toFixed(2)}em;line-height:1.25}` +
    `p{margin:0 0 ${Math.round(fontPx * (0.4 + rng.float()))}px;line-height:${(1.25 + rng.float() * 0.45).toFixed(2)};` +
    `text-align:${rng.pick(["left", "left", "justify"])}}`;
  const body = blocks
    .map((b, i) => {
      const tag = i === 0 ? "h1" : "p";
      return `<${tag} data-p="${i}" style="font-family:${family(b)}">${escapeHtml(b.text)}</${tag}>`;
    })
    .join("");
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>${css}</style></head><body><div id="doc">${body}</div></body></html>`;
  return { html, blocks, pad, fonts: [latinFont, cjkFont] };
}

/** The CSS background of a document: a generated PNG, or a user image under a white veil, as a data URL. */
async function backgroundCss(
  rng: Rng,
  o: OcrDocumentsOptions,
  files: string[] | null,
): Promise<{ css: string; kind: string }> {
  if (files) {
    const file = rng.pick(files);
    const bytes = await readFile(file);
    const veil = (0.35 + rng.float() * 0.3).toFixed(2);
    const url = `data:${IMAGE_TYPES[extname(file).toLowerCase()]};base64,${bytes.toString("base64")}`;
    return {
      css: `linear-gradient(rgba(255,255,255,${veil}),rgba(255,255,255,${veil})),url(${url}) center/cover`,
      kind: `file:${file.split("/").at(-1)}`,
    };
  }
  const kind = rng.pick(o.backgroundKinds);
  const png = await generateBackground(rng, kind, o.width, o.height);
  return { css: `url(data:image/png;base64,${Buffer.from(png).toString("base64")})`, kind };
}

/** The first `tokens` tokens of a paragraph (the page cut it there). */
function truncateParagraph(p: TextParagraph, tokens: number): TextParagraph {
  const offsets = p.offsets.slice(0, tokens);
  return { ...p, tokens: p.tokens.slice(0, tokens), offsets, text: p.text.slice(0, offsets.at(-1)![1]) };
}

async function* generateDocuments(
  o: OcrDocumentsOptions,
  shard: number,
  ctx: { baseDir: string },
): AsyncIterable<CurateItem> {
  const indices = shardIndices(o, shard);
  if (indices.length === 0) return;
  const vocab = o.words
    ? vocabularyFrom(await readLines(resolveOptionPath(ctx.baseDir, o.words), "words"))
    : DEFAULT_VOCABULARY;
  const files = o.backgrounds
    ? await listFolder(resolveOptionPath(ctx.baseDir, o.backgrounds), Object.keys(IMAGE_TYPES), "backgrounds")
    : null;
  yield* inShardTab(o.chromium, async function* (tab) {
    await tab.setViewportSize({ width: o.width, height: o.height });
    for (const index of indices) {
      const rng = itemRng(NAME, o.seed, index);
      const background = await backgroundCss(rng, o, files);
      const doc = buildDocument(rng, o, vocab, background.css);
      await tab.setContent(doc.html, { waitUntil: "load" });
      await tab.evaluate("document.fonts.ready.then(() => true)");
      const measured = (await tab.evaluate(
        pageCall(MEASURE_WORDS_JS, { pad: doc.pad, offsets: doc.blocks.map((b) => b.offsets) }),
      )) as {
        kept: number;
        lastTokens: number;
        words: MeasuredWord[][];
      };
      if (measured.kept === 0)
        throw new GlmvError(
          "bad_config",
          `not even the title fits a ${o.width}×${o.height} page at these font sizes`,
          {
            where: `${NAME}.fontPx`,
          },
        );
      const bytes = await screenshotAs(tab, o.format);
      const words = measured.words.flat().map((w) => {
        const [x1, y1, x2, y2] = [round2(w.x), round2(w.y), round2(w.x + w.w), round2(w.y + w.h)];
        return {
          text: w.text,
          box: pixelRectToBox(x1, y1, x2 - x1, y2 - y1, o.width, o.height),
          px: [x1, y1, x2, y2],
        };
      });
      const kept = doc.blocks.slice(0, measured.kept);
      if (measured.lastTokens >= 0)
        kept[kept.length - 1] = truncateParagraph(kept.at(-1)!, measured.lastTokens);
      const text = kept.map((b) => b.text).join("\n");
      yield imageItem(
        NAME,
        shard,
        index,
        { format: o.format, bytes },
        {
          width: o.width,
          height: o.height,
          text,
          words,
          scripts: [...new Set(kept.map((b) => b.script))],
          fonts: doc.fonts,
          background: background.kind,
          domain: "ocr",
          question: QUESTION,
          answer: text,
          messages: qaMessages(QUESTION, glmBox(text)),
        },
      );
    }
  });
}

/** Synthetic OCR pages: real fonts shaped by Chromium, per-word boxes from the DOM, text in reading order. */
export const ocrDocumentsSource: SourceDef<OcrDocumentsOptions> = {
  name: NAME,
  summary:
    "synthetic documents (Latin + CJK, real fonts, Chromium layout) over backgrounds, with per-word boxes and text",
  options: OcrDocumentsOptions,
  shardCount: shardCountOf,
  generate: generateDocuments,
};
