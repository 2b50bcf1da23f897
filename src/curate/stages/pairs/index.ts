/** The pairs stages of `glmv data` (paper §3.1), in the order `glmv data stages` lists them. */
import type { AnyStageDef } from "../../stage.ts";
import { captionFilter } from "./caption-filter.ts";
import { clipFilter } from "./clip-filter.ts";
import { conceptBalance } from "./concept-balance.ts";
import { exactDedup } from "./exact-dedup.ts";
import { imageBounds } from "./image-bounds.ts";
import { lowInformation } from "./low-information.ts";
import { phashStage } from "./phash.ts";
import { phashDedup } from "./phash-dedup.ts";
import { recaption } from "./recaption.ts";

export const pairsStages: AnyStageDef[] = [
  imageBounds,
  lowInformation,
  captionFilter,
  phashStage,
  exactDedup,
  phashDedup,
  clipFilter,
  conceptBalance,
  recaption,
];
