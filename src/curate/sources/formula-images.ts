/**
 * `formula-images`: LaTeX formulas rendered by MathJax and rasterised with sharp, as HMER-style (image, LaTeX)
 * pairs (paper §3.1 OCR synthesis). Formulas come from a small grammar (`formula-grammar.ts`) or from a file of
 * LaTeX lines; a formula MathJax cannot typeset is never emitted (a generated one is redrawn, a file line skipped).
 */
import { z } from "zod";
import { GlmvError } from "../../util/errors.ts";
import type { CurateItem, SourceDef } from "../stage.ts";
import {
  glmBox,
  imageItem,
  itemRng,
  qaMessages,
  readLines,
  resolveOptionPath,
  SHARDING_OPTIONS,
  shardCountOf,
  shardIndices,
} from "./common.ts";
import { FORMULA_KINDS, generateFormula } from "./formula-grammar.ts";
import { rasteriseFormula, typesetLatex } from "./mathjax-svg.ts";

const NAME = "formula-images";
/** Redraws of a generated formula that MathJax refused before the item is given up (the grammar never should). */
const MAX_ATTEMPTS = 20;
const QUESTION = "Convert the formula in the image to LaTeX.";

export const FormulaImagesOptions = z
  .object({
    ...SHARDING_OPTIONS,
    /** A file of LaTeX formulas, one a line (`#` comments): item i typesets line i mod n instead of the grammar. */
    formulas: z.string().min(1).optional(),
    /** Which grammar shapes to draw from (all by default). */
    kinds: z
      .array(z.enum(FORMULA_KINDS))
      .min(1)
      .default([...FORMULA_KINDS]),
    /** Font size range in pixels per em; each item draws one. */
    fontPx: z
      .tuple([z.number().int().min(8), z.number().int().max(256)])
      .default([24, 48])
      .refine(([lo, hi]) => lo <= hi, "fontPx: low must be ≤ high"),
    padding: z.number().int().min(0).max(256).default(12),
  })
  .strict();
export type FormulaImagesOptions = z.infer<typeof FormulaImagesOptions>;

const INKS = ["#000000", "#1a1a1a", "#202860", "#3a1f1f", "#0b3d2e"];
const PAPERS = ["#ffffff", "#fbfaf5", "#f4f1e8", "#eef3f8", "#f7f7f7"];

async function* generateFormulaImages(
  o: FormulaImagesOptions,
  shard: number,
  ctx: { baseDir: string },
): AsyncIterable<CurateItem> {
  const lines = o.formulas ? await readLines(resolveOptionPath(ctx.baseDir, o.formulas), "formulas") : null;
  for (const index of shardIndices(o, shard)) {
    let latex: string | undefined;
    let typeset: ReturnType<typeof typesetLatex> | undefined;
    if (lines) {
      latex = lines[index % lines.length]!;
      typeset = typesetLatex(latex);
      if (!typeset.ok) continue; // a line MathJax cannot typeset has no image to pair with
    } else {
      for (let attempt = 0; attempt < MAX_ATTEMPTS && !typeset?.ok; attempt++) {
        latex = generateFormula(itemRng(NAME, o.seed, index, attempt), pickKind(o, index, attempt));
        typeset = typesetLatex(latex);
      }
      if (!typeset?.ok || latex === undefined)
        throw new GlmvError("engine_error", `MathJax refused ${MAX_ATTEMPTS} generated formulas in a row`, {
          where: `${NAME} item ${index}`,
        });
    }
    const rng = itemRng(`${NAME}/style`, o.seed, index);
    const raster = await rasteriseFormula(typeset, {
      fontPx: rng.int(o.fontPx[0], o.fontPx[1]),
      padding: o.padding,
      ink: rng.pick(INKS),
      background: rng.pick(PAPERS),
    });
    yield imageItem(
      NAME,
      shard,
      index,
      { format: "png", bytes: raster.png },
      {
        latex,
        text: latex,
        width: raster.width,
        height: raster.height,
        domain: "ocr",
        question: QUESTION,
        answer: latex,
        messages: qaMessages(QUESTION, glmBox(latex)),
      },
    );
  }
}

function pickKind(o: FormulaImagesOptions, index: number, attempt: number) {
  return itemRng(`${NAME}/kind`, o.seed, index, attempt).pick(o.kinds);
}

/** HMER pairs: MathJax-typeset LaTeX formulas (grammar or file) as PNG images with their source LaTeX. */
export const formulaImagesSource: SourceDef<FormulaImagesOptions> = {
  name: NAME,
  summary:
    "LaTeX formulas (a grammar or a file) typeset by MathJax and rasterised: image + fields.latex (HMER pairs)",
  options: FormulaImagesOptions,
  shardCount: shardCountOf,
  generate: generateFormulaImages,
};
