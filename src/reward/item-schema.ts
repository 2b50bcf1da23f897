/**
 * The one schema of a scoring item: a `glmv reward score` input line, a `POST /v1/score` item, an OpenRLHF label
 * plus its response, and what `scoreItem` / `scoreItems` accept. Unknown extra fields are kept (the CLI copies them
 * to its output).
 */
import { z } from "zod";
import { DOMAINS, STYLES } from "./types.ts";

export const ScoreInputSchema = z.looseObject({
  id: z.union([z.string(), z.number()]),
  domain: z.enum(DOMAINS),
  response: z.string(),
  answer: z.string(),
  question: z.string().optional(),
  options: z.union([z.array(z.string()), z.record(z.string(), z.string())]).optional(),
  style: z.enum(STYLES).optional(),
  verifiable: z.boolean().optional(),
});
