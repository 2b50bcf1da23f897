/** The instruct stages of `glmv data` (paper §3.1), in the order `glmv data stages` lists them. */
import type { AnyStageDef } from "../../stage.ts";
import { contamination } from "./contamination.ts";
import { sftFormat } from "./sft-format.ts";
import { taxonomy } from "./taxonomy.ts";

export const instructStages: AnyStageDef[] = [taxonomy, sftFormat, contamination];
