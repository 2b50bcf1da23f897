/**
 * `sft-format` (paper §4.1 "strict formatting checks, removal of mixed-language / redundant thought"): an SFT item's
 * assistant text must have the shape the RL reward will later demand, so the checks are the reward system's own:
 * `gateResponse` (think → answer, one box for a verifiable item) and `stylePenalties` (repetition, long-paragraph
 * language mixing), with the reward's rule for open-ended items (no box at all, §5.2 "spurious boxing").
 */
import { z } from "zod";
import { STYLES } from "../../../model/domains.ts";
import { SPECIAL_TOKENS } from "../../../model/special-tokens.ts";
import { scanBoxedSpans, scanTokenSpans } from "../../../reward/extract.ts";
import { gateResponse } from "../../../reward/format.ts";
import { stylePenalties } from "../../../reward/style.ts";
import type { FormatStatus } from "../../../reward/types.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { chatTurns } from "./messages.ts";

export const SftFormatOptions = z.strictObject({
  /** The template: "4.1v" wants `<answer>…</answer>` after the think block; "4.5v" the bare answer. */
  style: z.enum(STYLES).default("4.1v"),
  /** A field holding the assistant text itself; unset: the assistant turns of `fields.messages`. */
  responseField: z.string().min(1).optional(),
  /** Which assistant turns of `messages` are checked (earlier turns of a multi-turn item may be history). */
  turns: z.enum(["last", "all"]).default("last"),
  /** The boolean field that marks an item verifiable (its answer boxed) or open-ended (no box allowed). */
  verifiableField: z.string().min(1).default("verifiable"),
  /** An item without that field: verifiable, as the reward system takes it. */
  defaultVerifiable: z.boolean().default(true),
  /** Longest box content in characters, as the reward gate's `maxBoxChars`. */
  maxBoxChars: z.number().int().positive().default(1000),
  /** Checks to run; a failed one drops the item with its reason. */
  checks: z
    .array(z.enum(["format", "box", "language", "repetition"]))
    .default(["format", "box", "language", "repetition"]),
});
export type SftFormatOptions = z.infer<typeof SftFormatOptions>;

/** Drop reasons, by check. */
export type SftFailure = "bad_format" | "missing_box" | "spurious_box" | "mixed_language" | "repetitive";

/** Gate failures that mean the answer carries no usable box (the rest are shape errors: `bad_format`). */
const MISSING_BOX: ReadonlySet<FormatStatus> = new Set(["no_box", "box_in_think_only", "empty_box"]);

/** GLM-4.5V's non-thinking switch: a user turn ending in `/nothink` is answered with an empty think block. */
const NO_THINK = /\/nothink\s*$/;

/** Whether a text holds any box marker of either convention (a never-closed one included). */
function hasBoxMarker(text: string): boolean {
  const tokens = scanTokenSpans(text);
  const boxed = scanBoxedSpans(text);
  return (
    tokens.complete.length + tokens.unclosed + boxed.complete.length + boxed.unclosed > 0 ||
    text.includes(SPECIAL_TOKENS.endBox)
  );
}

type Check = { failure: SftFailure; detail: string };

/** The format and box checks of one assistant text, as the reward system judges a response of this item. */
function shapeCheck(
  response: string,
  verifiable: boolean,
  thinking: boolean,
  o: SftFormatOptions,
): Check | null {
  const gate = gateResponse(response, o.style, { maxBoxChars: o.maxBoxChars, thinking });
  const wantFormat = o.checks.includes("format");
  const wantBox = o.checks.includes("box");
  if (verifiable) {
    if (gate.format === "ok") return null;
    if (MISSING_BOX.has(gate.format)) return wantBox ? { failure: "missing_box", detail: gate.format } : null;
    return wantFormat ? { failure: "bad_format", detail: gate.format } : null;
  }
  if (hasBoxMarker(response))
    return wantBox ? { failure: "spurious_box", detail: "boxed answer on a non-verifiable item" } : null;
  if (!wantFormat) return null;
  if (gate.format !== "ok" && gate.format !== "no_box") return { failure: "bad_format", detail: gate.format };
  if ((gate.answerRegion ?? "").trim().length === 0) return { failure: "bad_format", detail: "empty answer" };
  return null;
}

/** The style checks (the reward's penalties) of one assistant text. */
function styleChecks(response: string, o: SftFormatOptions): Check[] {
  const found: Check[] = [];
  for (const penalty of stylePenalties(response)) {
    if (penalty === "language_mix" && o.checks.includes("language"))
      found.push({ failure: "mixed_language", detail: "a long Chinese and a long English paragraph" });
    if (penalty === "repetition" && o.checks.includes("repetition"))
      found.push({ failure: "repetitive", detail: "a 50-character window repeats 10 times" });
  }
  return found;
}

/** The assistant texts to check, each with the thinking mode its prompt asked for. */
function responsesOf(
  fields: Record<string, unknown>,
  o: SftFormatOptions,
): { text: string; thinking: boolean }[] {
  if (o.responseField !== undefined) {
    const text = fields[o.responseField];
    return typeof text === "string" ? [{ text, thinking: true }] : [];
  }
  const out: { text: string; thinking: boolean }[] = [];
  let thinking = true;
  for (const turn of chatTurns(fields)) {
    if (turn.role === "user") thinking = !NO_THINK.test(turn.text.trim());
    if (turn.role === "assistant") out.push({ text: turn.text, thinking });
  }
  return o.turns === "last" ? out.slice(-1) : out;
}

export const sftFormat: StageDef<SftFormatOptions> = {
  name: "sft-format",
  summary:
    "SFT template checks with the reward system's own gate and style checks (think/answer/box, language mix, repetition)",
  options: SftFormatOptions,
  async open(options) {
    return {
      async process(item) {
        const responses = responsesOf(item.fields, options);
        if (responses.length === 0)
          return drop("bad_format", options.responseField ?? "no assistant message in fields.messages");
        const flag = item.fields[options.verifiableField];
        const verifiable = typeof flag === "boolean" ? flag : options.defaultVerifiable;
        const failures: Check[] = [];
        responses.forEach(({ text, thinking }, i) => {
          const where = responses.length > 1 ? `turn ${i + 1}: ` : "";
          const shape = shapeCheck(text, verifiable, thinking, options);
          for (const c of [...(shape ? [shape] : []), ...styleChecks(text, options)])
            failures.push({ failure: c.failure, detail: `${where}${c.detail}` });
        });
        const [first] = failures;
        if (!first) return keep(item);
        // One reason counts in the report; the detail names every check that failed.
        return drop(first.failure, failures.map((f) => `${f.failure}: ${f.detail}`).join("; "));
      },
    };
  },
};
