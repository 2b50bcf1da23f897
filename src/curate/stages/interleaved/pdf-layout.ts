/**
 * Page layout for `pdf-pages`, pure: poppler's `pdftotext -bbox-layout` XHTML read into pages of text blocks with
 * boxes, a column-aware reading order (gutters found by projection, full-width blocks such as titles and footers
 * split the columns into bands), and figure regions found on a page raster once the text is masked out.
 * Boxes are PDF points with the origin at the page's top left, as poppler gives them.
 */
import type { PageBox } from "./document.ts";

export type LaidText = { text: string; box: PageBox };
export type LaidPage = { width: number; height: number; blocks: LaidText[] };

const NUMBER_ATTRS = /(xMin|yMin|xMax|yMax|width|height)="([-\d.]+)"/g;

function attrs(tag: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of tag.matchAll(NUMBER_ATTRS)) out[m[1] as string] = Number(m[2]);
  return out;
}

const boxOf = (a: Record<string, number>): PageBox => [a.xMin ?? 0, a.yMin ?? 0, a.xMax ?? 0, a.yMax ?? 0];

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const decodeEntities = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) => {
    if (name[0] === "#")
      return String.fromCodePoint(
        name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : Number(name.slice(1)),
      );
    return ENTITIES[name] ?? whole;
  });

/** Join a block's lines into one paragraph, mending words hyphenated across a line break ("riv-" + "ers"). */
function joinLines(lines: string[]): string {
  let text = "";
  for (const line of lines) {
    if (!text) text = line;
    else if (/\p{Ll}-$/u.test(text) && /^\p{Ll}/u.test(line)) text = text.slice(0, -1) + line;
    else text = `${text} ${line}`;
  }
  return text;
}

/**
 * Read `pdftotext -bbox-layout` output: one entry per `<page>`, each with its size and its non-empty blocks.
 * @example
 * const pages = parseBboxLayout(await readFile("doc.html", "utf8")); pages[0]?.blocks[0]?.text
 */
export function parseBboxLayout(xhtml: string): LaidPage[] {
  return xhtml
    .split(/<page\s/)
    .slice(1)
    .map((chunk) => {
      const size = attrs(chunk.slice(0, chunk.indexOf(">")));
      const blocks: LaidText[] = [];
      for (const block of chunk.matchAll(/<block\s([^>]*)>([\s\S]*?)<\/block>/g)) {
        const lines = [...(block[2] as string).matchAll(/<line\s[^>]*>([\s\S]*?)<\/line>/g)].map((line) =>
          [...(line[1] as string).matchAll(/<word\s[^>]*>([\s\S]*?)<\/word>/g)]
            .map((w) => decodeEntities(w[1] as string))
            .join(" "),
        );
        const text = joinLines(lines.filter((l) => l.trim() !== "")).trim();
        if (text) blocks.push({ text, box: boxOf(attrs(block[1] as string)) });
      }
      return { width: size.width ?? 0, height: size.height ?? 0, blocks };
    });
}

/**
 * Reading order for boxed blocks on one page. Look for a gutter in the middle half of the region: the x crossed by
 * the least block height. Blocks left of it form one column and blocks right of it another; blocks across it (a
 * title, a wide figure, a footer) cut the columns into bands read top to bottom, each band's left column before its
 * right. Each column is ordered the same way, so three columns also work. Without a gutter: top to bottom.
 * @example
 * readingOrder([{ box: [300, 90, 540, 200] }, { box: [48, 90, 280, 200] }]) // left column first
 */
export function readingOrder<T extends { box: PageBox }>(blocks: T[]): T[] {
  const byTop = (a: T, b: T) => a.box[1] - b.box[1] || a.box[0] - b.box[0];
  if (blocks.length < 2) return blocks;
  const gutter = findGutter(blocks);
  if (gutter === null) return [...blocks].sort(byTop);
  const spanning = blocks.filter((b) => b.box[0] < gutter && b.box[2] > gutter).sort(byTop);
  const centre = (b: T) => (b.box[1] + b.box[3]) / 2;
  const band = (b: T) => spanning.filter((s) => centre(s) < centre(b)).length;
  const out: T[] = [];
  for (let k = 0; k <= spanning.length; k++) {
    const inBand = blocks.filter((b) => !spanning.includes(b) && band(b) === k);
    out.push(...readingOrder(inBand.filter((b) => b.box[2] <= gutter)));
    out.push(...readingOrder(inBand.filter((b) => b.box[0] >= gutter)));
    const wide = spanning[k];
    if (wide) out.push(wide);
  }
  return out;
}

/** The x of a column gutter, or null: both sides must hold blocks, and the blocks across it must be the minority. */
function findGutter<T extends { box: PageBox }>(blocks: T[]): number | null {
  const left = Math.min(...blocks.map((b) => b.box[0]));
  const right = Math.max(...blocks.map((b) => b.box[2]));
  const height = (b: T) => b.box[3] - b.box[1];
  const total = blocks.reduce((s, b) => s + height(b), 0);
  let best: { x: number; crossed: number } | null = null;
  for (let x = left + (right - left) / 4; x <= left + ((right - left) * 3) / 4; x += 1) {
    const crossed = blocks.filter((b) => b.box[0] < x && b.box[2] > x).reduce((s, b) => s + height(b), 0);
    if (!best || crossed < best.crossed) best = { x, crossed };
  }
  if (!best || best.crossed > total / 2) return null;
  const x = best.x;
  const hasLeft = blocks.some((b) => b.box[2] <= x);
  const hasRight = blocks.some((b) => b.box[0] >= x);
  return hasLeft && hasRight ? x : null;
}

/** A greyscale raster of a page: `scale` pixels per PDF point. */
export type PageRaster = { grey: Uint8Array; width: number; height: number; scale: number };

export type FigureOptions = { minSide: number; mergeGap: number };

/**
 * Figure regions on a page: what is drawn once the text blocks are blanked (photos, charts, vector diagrams),
 * grouped on a grid of 2-point cells into regions (parts closer than `mergeGap` points join), and those
 * narrower or shorter than `minSide` points (rules, bullets, stray marks) left out. Boxes in points, top to bottom.
 */
export function findFigureBoxes(raster: PageRaster, textBoxes: PageBox[], options: FigureOptions): PageBox[] {
  const { grey, width, height, scale } = raster;
  const background = modeOf(grey);
  const cell = Math.max(1, Math.round(2 * scale));
  const cols = Math.ceil(width / cell);
  const rows = Math.ceil(height / cell);
  const blank = new Uint8Array(width * height);
  for (const [x0, y0, x1, y1] of textBoxes) {
    const [px0, py0] = [Math.max(0, Math.floor((x0 - 1) * scale)), Math.max(0, Math.floor((y0 - 1) * scale))];
    const [px1, py1] = [
      Math.min(width, Math.ceil((x1 + 1) * scale)),
      Math.min(height, Math.ceil((y1 + 1) * scale)),
    ];
    for (let y = py0; y < py1; y++) blank.fill(1, y * width + px0, y * width + px1);
  }
  const ink = new Uint8Array(cols * rows);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!blank[i] && Math.abs((grey[i] as number) - background) > 24)
        ink[Math.floor(y / cell) * cols + Math.floor(x / cell)] = 1;
    }
  const regions = mergeOverlapping(components(ink, cols, rows, Math.ceil(options.mergeGap / 2)));
  return regions
    .map(([c0, r0, c1, r1]): PageBox => {
      const px = (c: number) => Math.min(width, c * cell) / scale;
      const py = (r: number) => Math.min(height, r * cell) / scale;
      return [px(c0), py(r0), px(c1 + 1), py(r1 + 1)];
    })
    .filter((b) => b[2] - b[0] >= options.minSide && b[3] - b[1] >= options.minSide)
    .sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}

/** The most common grey level: the page's paper colour. */
function modeOf(grey: Uint8Array): number {
  const counts = new Uint32Array(256);
  for (const v of grey) counts[v] = (counts[v] as number) + 1;
  let best = 255;
  for (let v = 0; v < 256; v++) if ((counts[v] as number) > (counts[best] as number)) best = v;
  return best;
}

type CellBox = [number, number, number, number];

/** Bounding boxes (in cells, inclusive) of the set cells connected through neighbours up to `reach` cells away. */
function components(ink: Uint8Array, cols: number, rows: number, reach: number): CellBox[] {
  const seen = new Uint8Array(ink.length);
  const out: CellBox[] = [];
  for (let start = 0; start < ink.length; start++) {
    if (!ink[start] || seen[start]) continue;
    const box: CellBox = [cols, rows, -1, -1];
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop() as number;
      const [c, r] = [i % cols, Math.floor(i / cols)];
      box[0] = Math.min(box[0], c);
      box[1] = Math.min(box[1], r);
      box[2] = Math.max(box[2], c);
      box[3] = Math.max(box[3], r);
      for (let dr = -reach; dr <= reach; dr++)
        for (let dc = -reach; dc <= reach; dc++) {
          const [nc, nr] = [c + dc, r + dr];
          const j = nr * cols + nc;
          if (nc >= 0 && nr >= 0 && nc < cols && nr < rows && ink[j] && !seen[j]) {
            seen[j] = 1;
            stack.push(j);
          }
        }
    }
    out.push(box);
  }
  return out;
}

/** Merge boxes that overlap (two L-shaped regions can), until none do. */
function mergeOverlapping(boxes: CellBox[]): CellBox[] {
  const out = [...boxes];
  for (let merged = true; merged; ) {
    merged = false;
    for (let i = 0; i < out.length && !merged; i++)
      for (let j = i + 1; j < out.length && !merged; j++) {
        const [a, b] = [out[i] as CellBox, out[j] as CellBox];
        if (a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]) {
          out[i] = [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
          out.splice(j, 1);
          merged = true;
        }
      }
  }
  return out;
}
