/**
 * GUI items rendered from real HTML pages (paper §3.1 GUI grounding: Playwright screenshots plus render-time
 * DOM boxes). Buttons are laid out by Chromium (flexbox, random alignment, gaps and padding); the target
 * button's box comes from the DOM and is converted to 0–999. Labels are drawn as SVG pixels from the built-in
 * bitmap font, so the page needs no system fonts (CI machines often have none) and reads back exactly.
 * Page building is pure; only `launchGuiBrowser` and `renderGuiPage` touch the browser.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import sharp from "sharp";
import { GlmvError } from "../util/errors.ts";
import { createRng, deriveSeed, type Rng } from "../util/rng.ts";
import { boxCentre, formatBox, formatPoint, pixelRectToBox } from "./tasks/coords.ts";
import { BUTTON_LABELS } from "./tasks/gui.ts";
import { BACKGROUNDS, checkSize, DISTRACTOR_COLOURS, INK } from "./tasks/layout.ts";
import { FONT, GLYPH_WIDTH, measureText, type Rgb, type RgbImage } from "./tasks/raster.ts";
import { contentHash, splitOfHash } from "./tasks/suite.ts";
import { DEFAULT_IMAGE_SIZE, type Split, type TaskItem } from "./tasks/types.ts";

/** Debian's Chromium, driven by playwright-core (no browser download). */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/** Flags for a quiet, offline, sandbox-free headless Chromium. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

/** A page to render: its HTML, the labels in DOM order and the one to click. */
export type GuiPage = { html: string; size: number; labels: string[]; target: string };

/** A rendered page: the screenshot and each button's pixel rectangle (from `getBoundingClientRect`). */
export type RenderedGuiPage = {
  image: RgbImage;
  rects: Record<string, { x: number; y: number; w: number; h: number }>;
};

const css = (c: Rgb) => `rgb(${c[0]},${c[1]},${c[2]})`;

/** A label as an SVG of pixel rectangles from the bitmap font (crisp edges: exact colours, no anti-aliasing). */
function labelSvg(text: string, scale: number): string {
  const { width, height } = measureText(text, scale);
  const rects: string[] = [];
  [...text].forEach((ch, i) => {
    FONT[ch]!.forEach((row, gy) => {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (row[gx] !== "#") continue;
        const x = (i * (GLYPH_WIDTH + 1) + gx) * scale;
        rects.push(`<rect x="${x}" y="${gy * scale}" width="${scale}" height="${scale}"/>`);
      }
    });
  });
  return `<svg width="${width}" height="${height}" shape-rendering="crispEdges" fill="${css(INK)}" style="display:block">${rects.join("")}</svg>`;
}

/**
 * Build a page with `level + 1` buttons (level 1–3) laid out by flexbox. Pure: the same rng state gives the
 * same HTML. Every length is a whole pixel, so the browser places boxes on pixel boundaries.
 * @example buildGuiPage(createRng(1), 2, 56).labels.length // 3
 */
export function buildGuiPage(rng: Rng, level: number, size: number = DEFAULT_IMAGE_SIZE): GuiPage {
  checkSize(size, "buildGuiPage");
  if (![1, 2, 3].includes(level)) {
    throw new GlmvError("bad_argument", `level must be 1, 2 or 3, got ${level}`, { where: "buildGuiPage" });
  }
  // Browser layouts need more room than the 2 × 2 raster screen: scale 1 up to 111 px, then grow.
  const scale = Math.max(1, Math.floor(size / 56));
  const labels = rng.shuffle(BUTTON_LABELS).slice(0, level + 1);
  const target = rng.pick(labels);
  const justify = rng.pick(["flex-start", "flex-end", "space-between"]);
  const align = rng.pick(["flex-start", "flex-end", "space-between"]);
  const gap = rng.int(1, 3) * scale;
  const pad = rng.int(1, 3) * scale;
  const fill = rng.pick(DISTRACTOR_COLOURS);
  const buttons = labels.map((label, i) => {
    const px = rng.int(2, 3) * scale;
    const py = rng.int(1, 2) * scale;
    const colour = level >= 3 ? fill : rng.pick(DISTRACTOR_COLOURS);
    return (
      `<button id="b${i}" data-label="${label}" style="all:unset;display:block;box-sizing:border-box;` +
      `padding:${py}px ${px}px;background:${css(colour)};border:1px solid ${css(INK)}">${labelSvg(label, scale)}</button>`
    );
  });
  const html =
    `<!doctype html><html><head><meta charset="utf-8"></head>` +
    `<body style="margin:0;width:${size}px;height:${size}px;overflow:hidden;box-sizing:border-box;` +
    `background:${css(rng.pick(BACKGROUNDS))};display:flex;flex-wrap:wrap;justify-content:${justify};` +
    `align-content:${align};gap:${gap}px;padding:${pad}px">${buttons.join("")}</body></html>`;
  return { html, size, labels, target };
}

/** A running headless Chromium with a fresh profile; `close` ends it and deletes the profile. */
export type GuiBrowser = { context: BrowserContext; close(): Promise<void> };

/**
 * Launch Debian's Chromium through playwright-core with a fresh user-data folder.
 * @example const browser = await launchGuiBrowser(); try { … } finally { await browser.close(); }
 */
export async function launchGuiBrowser(executablePath: string = CHROMIUM_PATH): Promise<GuiBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "glmv-chromium-"));
  try {
    // Playwright passes the profile as --user-data-dir itself and adds --headless for headless: true.
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_FLAGS.filter((f) => f !== "--headless"),
      deviceScaleFactor: 1,
      offline: true,
    });
    return {
      context,
      close: async () => {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw new GlmvError("engine_error", `cannot launch Chromium at ${executablePath}`, {
      where: "launchGuiBrowser",
      cause: e,
    });
  }
}

/** Render a page at its size: an RGB screenshot plus each button's rectangle from the DOM. */
export async function renderGuiPage(browser: GuiBrowser, page: GuiPage): Promise<RenderedGuiPage> {
  const tab = await browser.context.newPage();
  try {
    await tab.setViewportSize({ width: page.size, height: page.size });
    await tab.setContent(page.html, { waitUntil: "load" });
    const rects = await tab.evaluate(() => {
      // Runs in the page; typed by hand because the project compiles without the DOM lib.
      type Rect = { x: number; y: number; width: number; height: number };
      type El = { getBoundingClientRect(): Rect; getAttribute(name: string): string | null };
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<El> } })
        .document;
      const out: Record<string, { x: number; y: number; w: number; h: number }> = {};
      for (const el of doc.querySelectorAll("button")) {
        const r = el.getBoundingClientRect();
        out[el.getAttribute("data-label") ?? ""] = { x: r.x, y: r.y, w: r.width, h: r.height };
      }
      return out;
    });
    const png = await tab.screenshot({ type: "png", animations: "disabled", caret: "hide" });
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.width !== page.size || info.height !== page.size) {
      throw new GlmvError(
        "image_invalid",
        `screenshot is ${info.width}×${info.height}, expected ${page.size}`,
        {
          where: "renderGuiPage",
        },
      );
    }
    return { image: { width: info.width, height: info.height, data: new Uint8Array(data) }, rects };
  } finally {
    await tab.close();
  }
}

/** Where a 0–999 point sits, in words (thirds of the screen). */
function placeWords([x, y]: readonly [number, number]): string {
  const row = y < 333 ? "top" : y < 666 ? "middle" : "bottom";
  const col = x < 333 ? "left" : x < 666 ? "centre" : "right";
  return row === "middle" && col === "centre" ? "centre" : `${row} ${col}`;
}

export type GuiPageSuiteOptions = {
  seed: number;
  count: number;
  split: Split;
  size?: number;
  levels?: readonly number[];
};

/**
 * Render `count` GUI items from browser-laid-out pages for one split, with the same split rule as
 * `buildSuite` (the content hash decides), so page items never cross between train and held-out.
 * @example const items = await buildGuiPageItems(browser, { seed: 1, count: 8, split: "train" });
 */
export async function buildGuiPageItems(browser: GuiBrowser, opts: GuiPageSuiteOptions): Promise<TaskItem[]> {
  const size = opts.size ?? DEFAULT_IMAGE_SIZE;
  const levels = opts.levels ?? [1, 2, 3];
  const items: TaskItem[] = [];
  for (let j = 0; j < opts.count; j++) {
    const level = levels[j % levels.length]!;
    for (let attempt = 0; ; attempt++) {
      if (attempt === 100) {
        throw new GlmvError("engine_error", `no ${opts.split} page item found`, {
          where: "buildGuiPageItems",
        });
      }
      const seed = deriveSeed(opts.seed, opts.split, "gui-page", j, attempt);
      const page = buildGuiPage(createRng(seed), level, size);
      const rendered = await renderGuiPage(browser, page);
      const r = rendered.rects[page.target];
      if (!r)
        throw new GlmvError("engine_error", `button ${page.target} not in the DOM`, {
          where: "renderGuiPage",
        });
      const gold = pixelRectToBox(r.x, r.y, r.w, r.h, size, size);
      const centre = boxCentre(gold);
      const content = {
        image: rendered.image,
        question: `click ${page.target}.`,
        answer: formatBox(gold),
        responseAnswer: formatPoint(centre),
        cot: `${page.target} is ${placeWords(centre)}.`,
      };
      if (splitOfHash(contentHash("gui", content)) !== opts.split) continue;
      items.push({
        id: `${opts.split}-gui-page-${opts.seed}-${j}`,
        family: "gui",
        domain: "gui",
        level,
        split: opts.split,
        seed,
        ...content,
      });
      break;
    }
  }
  return items;
}
