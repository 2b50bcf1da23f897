/** The interleaved stages of `glmv data` (paper §3.1), in the order `glmv data stages` lists them. */
import type { AnyStageDef } from "../../stage.ts";
import { imageRelevance } from "./image-relevance.ts";
import { imageTextRatio } from "./image-text-ratio.ts";
import { knowledgeDensity } from "./knowledge-density.ts";
import { pdfPages } from "./pdf-pages.ts";
import { qrAds } from "./qr-ads.ts";

export const interleavedStages: AnyStageDef[] = [
  pdfPages,
  qrAds,
  imageRelevance,
  knowledgeDensity,
  imageTextRatio,
];
