/**
 * The one schema of a scoring item: a `glmv reward score` input line, a `POST /v1/score` item, an OpenRLHF label
 * plus its response, and what `scoreItem` / `scoreItems` / `RewardPool.score` accept. Unknown extra fields are
 * kept (the CLI copies them to its output).
 */
import { z } from "zod";
import { DOMAINS, STYLES } from "../model/domains.ts";
import { GlmvError } from "../util/errors.ts";
import { zodErrorLine } from "../util/zod-error.ts";
import { ItemPrecisionSchema, PRECISION_EXPECTED } from "./math-forms/precision.ts";
import { ANSWER_FORMATS, BOX_COORDS, BOX_REWARDS } from "./types.ts";

/** The domains whose verifier takes an item's own `precision` (the numeric rule of `verifyWithTolerance`). */
const PRECISION_DOMAINS: readonly string[] = ["math", "physics", "chemistry"];

export const ScoreInputSchema = z
  .looseObject({
    id: z.union([z.string(), z.number()]),
    domain: z.enum(DOMAINS),
    response: z.string(),
    answer: z.string(),
    question: z.string().optional(),
    options: z.union([z.array(z.string()), z.record(z.string(), z.string())]).optional(),
    style: z.enum(STYLES).optional(),
    verifiable: z.boolean().optional(),
    answerFormat: z.enum(ANSWER_FORMATS).optional(),
    // Grounding / detection (verifiers/detection.ts): box frames, image size, reward mode, IoU threshold.
    coords: z.enum(BOX_COORDS).optional(),
    goldCoords: z.enum(BOX_COORDS).optional(),
    imageSize: z.object({ width: z.int().positive(), height: z.int().positive() }).optional(),
    boxReward: z.enum(BOX_REWARDS).optional(),
    iouThreshold: z.number().gt(0).lte(1).optional(),
    // Decimal places (MathVista's field) or a tolerance; null is "none" (MathVista's value for non-float items).
    precision: ItemPrecisionSchema.nullable().optional(),
    // The answer is a tool call (compared by name and arguments); otherwise a tool call is not an answer.
    expectsToolCall: z.boolean().optional(),
  })
  .refine((item) => item.verifiable !== false || (item.answerFormat ?? "glmv") === "glmv", {
    // Open-ended items are gated by the GLM-V format (no box allowed); the other formats exist to find one answer.
    message: 'answerFormat "gsm8k" / "boxed" needs a verifiable item (verifiable: false takes "glmv" only)',
    path: ["answerFormat"],
  })
  .refine(
    (item) => item.imageSize !== undefined || (item.coords !== "pixel" && item.goldCoords !== "pixel"),
    {
      // Pixel boxes become thousandths of the image, so its size must be known.
      message: 'coords / goldCoords "pixel" needs imageSize ({ "width": …, "height": … } in pixels)',
      path: ["imageSize"],
    },
  )
  .refine(
    (item) =>
      item.precision === undefined || item.precision === null || PRECISION_DOMAINS.includes(item.domain),
    {
      // Said, not ignored: the other verifiers have rules of their own (chart's percent rule, counting's whole numbers).
      message: "precision applies to math, physics and chemistry items only",
      path: ["precision"],
    },
  );

/**
 * Why `item` is not a scoring item (a `bad_input` error naming the field under `where`), or null when it is one.
 * @example scoreInputError({ id: 1, domain: "math", answer: "1" }, "items.0")?.where // "items.0.response"
 */
export function scoreInputError(item: unknown, where: string): GlmvError | null {
  const parsed = ScoreInputSchema.safeParse(item);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  const path = (issue?.path ?? []).map(String);
  // A refinement's own message says more than "must be one of …"; other issues read "answer must be a string, got 4".
  // A bad precision says every accepted spelling (zod's union error would only say "Invalid input").
  const message =
    issue?.code === "custom"
      ? issue.message
      : path[0] === "precision"
        ? `precision must be ${PRECISION_EXPECTED}, got ${JSON.stringify((item as { precision?: unknown }).precision)}`
        : zodErrorLine(ScoreInputSchema, parsed.error, item, {
            nameOf: (p) => (p.length === 0 ? "item" : undefined),
          }).message;
  return new GlmvError("bad_input", message, { where: [where, ...path].join(".") });
}

/** Throw `scoreInputError`'s error unless `item` matches `ScoreInputSchema` (the library entry points). */
export function assertScoreInput(item: unknown, where: string): void {
  const error = scoreInputError(item, where);
  if (error !== null) throw error;
}

/**
 * The error of the first item of a batch that is not a scoring item (`items.3.response`), or null when all are.
 * @example scoreInputsError([validItem, { id: 2 }])?.where // "items.1.domain"
 */
export function scoreInputsError(items: unknown): GlmvError | null {
  if (!Array.isArray(items)) return new GlmvError("bad_input", "items must be an array", { where: "items" });
  for (let i = 0; i < items.length; i++) {
    const error = scoreInputError(items[i], `items.${i}`);
    if (error !== null) return error;
  }
  return null;
}
