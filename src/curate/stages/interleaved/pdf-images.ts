/**
 * Embedded images for `pdf-pages`: `pdfimages -list` names each image with its page, pixel size and resolution (so its
 * placed size in points), and `pdfimages -png -p` writes them. A figure region found on the raster takes the embedded
 * image whose placed size holds it (a photo's drawn part fills most of its placement) when exactly one unused image
 * of its page does: the figure then has the file's own pixels instead of a crop at the raster's dpi.
 */
import type { PageBox } from "./document.ts";

/** One row of `pdfimages -list`: an image drawn on `page`, `width`×`height` pixels placed at `xPpi`×`yPpi`. */
export type EmbeddedImage = {
  page: number;
  num: number;
  width: number;
  height: number;
  xPpi: number;
  yPpi: number;
};

/**
 * Read `pdfimages -list` output, keeping real images (not the soft masks and stencils listed beside them).
 * @example parseImageList(listing).filter((i) => i.page === 1)
 */
export function parseImageList(listing: string): EmbeddedImage[] {
  const out: EmbeddedImage[] = [];
  for (const line of listing.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 14 || cols[2] !== "image" || !/^\d+$/.test(cols[0] as string)) continue;
    const [page, num, , width, height] = cols.map(Number) as number[];
    const [xPpi, yPpi] = [Number(cols[12]), Number(cols[13])];
    if (xPpi > 0 && yPpi > 0) out.push({ page, num, width, height, xPpi, yPpi } as EmbeddedImage);
  }
  return out;
}

/** The placed size of an image on its page, in points. */
const placedSize = (i: EmbeddedImage): [number, number] => [
  (i.width * 72) / i.xPpi,
  (i.height * 72) / i.yPpi,
];

/** Does a region of `size` points fit an image placed at `placed` points (at most a little over, at least 3/4)? */
function fits(size: number, placed: number): boolean {
  return size <= placed * 1.03 + 2 && size >= placed * 0.75;
}

/**
 * For each figure box of a page, the embedded image that holds it, or undefined: the match must be the only unused
 * candidate of the page, so two figures of the same size never swap.
 */
export function matchEmbedded(boxes: PageBox[], images: EmbeddedImage[]): (EmbeddedImage | undefined)[] {
  const used = new Set<EmbeddedImage>();
  return boxes.map((box) => {
    const candidates = images.filter((img) => {
      if (used.has(img)) return false;
      const [w, h] = placedSize(img);
      return fits(box[2] - box[0], w) && fits(box[3] - box[1], h);
    });
    if (candidates.length !== 1) return undefined;
    used.add(candidates[0] as EmbeddedImage);
    return candidates[0];
  });
}

/** The file `pdfimages -png -p ROOT` wrote for an image. */
export const embeddedFileName = (root: string, i: EmbeddedImage): string =>
  `${root}-${String(i.page).padStart(3, "0")}-${String(i.num).padStart(3, "0")}.png`;
