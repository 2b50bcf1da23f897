/** Every stage `glmv data` knows, by its `use:` name. Each group lists its own in `<group>/index.ts`. */
import { GlmvError } from "../../util/errors.ts";
import type { AnyStageDef } from "../stage.ts";
import { instructStages } from "./instruct/index.ts";
import { interleavedStages } from "./interleaved/index.ts";
import { pairsStages } from "./pairs/index.ts";
import { videoStages } from "./video/index.ts";

export const allStages: AnyStageDef[] = [
  ...pairsStages,
  ...interleavedStages,
  ...videoStages,
  ...instructStages,
];

export function findStage(name: string, where?: string): AnyStageDef {
  const stage = allStages.find((s) => s.name === name);
  if (!stage)
    throw new GlmvError(
      "bad_config",
      `unknown stage "${name}"; known: ${allStages.map((s) => s.name).join(", ") || "(none)"}`,
      { where },
    );
  return stage;
}
