/** The video stages of `glmv data` (paper §3.1), in the order `glmv data stages` lists them. */
import type { AnyStageDef } from "../../stage.ts";
import { videoDedup } from "./dedup.ts";
import { videoFrames } from "./frames.ts";

export const videoStages: AnyStageDef[] = [videoFrames, videoDedup];
