/**
 * LaTeX → SVG with MathJax in Node (mathjax-full 3, lite DOM adaptor, no browser), then → PNG with sharp. A formula
 * MathJax cannot typeset (a TeX error, an undefined macro) renders as an `merror` node: it is reported, not drawn.
 */
import { liteAdaptor } from "mathjax-full/js/adaptors/liteAdaptor.js";
import { RegisterHTMLHandler } from "mathjax-full/js/handlers/html.js";
import { AllPackages } from "mathjax-full/js/input/tex/AllPackages.js";
import { TeX } from "mathjax-full/js/input/tex.js";
import { mathjax } from "mathjax-full/js/mathjax.js";
import { SVG } from "mathjax-full/js/output/svg.js";
import sharp from "sharp";

/** MathJax's TeX font has an x-height of 0.442 em: its SVG sizes are in ex. */
const EX_PER_EM = 0.442;
/** `noerrors` and `noundefined` would hide errors as plain text; without them every error is an `merror`. */
const PACKAGES = AllPackages.filter((p) => p !== "noerrors" && p !== "noundefined");

type Typesetter = { toSvg(latex: string): string };
let typesetter: Typesetter | undefined;

/** One MathJax document per process, made on first use (importing this module starts nothing). */
function getTypesetter(): Typesetter {
  if (typesetter) return typesetter;
  const adaptor = liteAdaptor();
  RegisterHTMLHandler(adaptor);
  const doc = mathjax.document("", {
    InputJax: new TeX({ packages: PACKAGES }),
    // No font cache: every glyph is an inline path, so the SVG stands alone for librsvg.
    OutputJax: new SVG({ fontCache: "none" }),
  });
  typesetter = { toSvg: (latex) => adaptor.innerHTML(doc.convert(latex, { display: true })) };
  return typesetter;
}

/** A typeset formula: the SVG and its size in ex, or the error MathJax reported. */
export type TypesetResult =
  | { ok: true; svg: string; widthEx: number; heightEx: number }
  | { ok: false; error: string };

/**
 * Typeset `latex` as display math. `ok: false` when MathJax made an `merror` node (its message is the error).
 * @example typesetLatex("\\frac{a}{b}").ok // true
 * @example typesetLatex("\\frac{a}{").ok // false
 */
export function typesetLatex(latex: string): TypesetResult {
  let svg: string;
  try {
    svg = getTypesetter().toSvg(latex);
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  if (svg.includes('data-mml-node="merror"')) {
    const title = /<title>([^<]*)<\/title>/.exec(svg)?.[1] ?? /data-mjx-error="([^"]*)"/.exec(svg)?.[1];
    return { ok: false, error: title ?? "MathJax reported an error" };
  }
  const widthEx = Number(/width="([\d.]+)ex"/.exec(svg)?.[1]);
  const heightEx = Number(/height="([\d.]+)ex"/.exec(svg)?.[1]);
  if (!(widthEx > 0 && heightEx > 0)) return { ok: false, error: "MathJax gave an SVG without a size" };
  return { ok: true, svg, widthEx, heightEx };
}

export type FormulaRaster = { png: Uint8Array; width: number; height: number };

/**
 * Rasterise a typeset formula at `fontPx` pixels per em, on a `background` colour with `padding` pixels around,
 * the glyphs in `ink`.
 * @example const r = await rasteriseFormula(ok, { fontPx: 32, padding: 8, ink: "#000", background: "#fff" });
 */
export async function rasteriseFormula(
  typeset: Extract<TypesetResult, { ok: true }>,
  o: { fontPx: number; padding: number; ink: string; background: string },
): Promise<FormulaRaster> {
  const pxPerEx = o.fontPx * EX_PER_EM;
  const w = Math.ceil(typeset.widthEx * pxPerEx);
  const h = Math.ceil(typeset.heightEx * pxPerEx);
  const width = w + 2 * o.padding;
  const height = h + 2 * o.padding;
  const inner = typeset.svg
    .replace(/ style="[^"]*"/, "")
    .replace(/width="[\d.]+ex"/, `x="${o.padding}" y="${o.padding}" width="${w}"`)
    .replace(/height="[\d.]+ex"/, `height="${h}"`)
    .replaceAll("currentColor", o.ink);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="${o.background}"/>${inner}</svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return { png: new Uint8Array(png), width, height };
}
