/** Every source (`input.generate`) `glmv data` knows: synthesis of OCR, formula, grounding and GUI data. */
import { GlmvError } from "../../util/errors.ts";
import type { AnySourceDef } from "../stage.ts";
import { formulaImagesSource } from "./formula-images.ts";
import { groundingScenesSource } from "./grounding-scenes.ts";
import { guiGroundingSource } from "./gui-grounding.ts";
import { ocrDocumentsSource } from "./ocr-documents.ts";

export const allSources: AnySourceDef[] = [
  ocrDocumentsSource,
  formulaImagesSource,
  groundingScenesSource,
  guiGroundingSource,
];

export function findSource(name: string, where?: string): AnySourceDef {
  const source = allSources.find((s) => s.name === name);
  if (!source)
    throw new GlmvError(
      "bad_config",
      `unknown source "${name}"; known: ${allSources.map((s) => s.name).join(", ") || "(none)"}`,
      { where },
    );
  return source;
}
