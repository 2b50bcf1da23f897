/**
 * `taxonomy` (paper §3.1, instruction data "enforces taxonomy"): one label per item from a configured list, asked of
 * a chat model through the chat hook with a fixed prompt (the labels, the item's question and first image). The
 * answer must name exactly one label (reasoning, box tokens, quotes and a trailing full stop aside); anything else
 * is `unknown`, with the raw answer kept beside it so a person can see what the model said. Optional `keep:` drops
 * the other labels as `off_taxonomy`.
 */
import { z } from "zod";
import { cleanAnswer } from "../../../reward/clean.ts";
import {
  ChatHook,
  type ChatMessage,
  type ChatPart,
  createChatClient,
  imagePart,
  textPart,
} from "../../hooks/chat.ts";
import { sniffImageMime } from "../../hooks/data-url.ts";
import { type CurateItem, drop, keep, type StageDef } from "../../stage.ts";
import { questionTexts } from "./messages.ts";

/** The label of an item the model's answer did not name one label for. */
export const UNKNOWN_LABEL = "unknown";

const Label = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().min(1), description: z.string().min(1) }),
]);

export const TaxonomyOptions = z
  .strictObject({
    hook: ChatHook,
    /** The taxonomy: label names, or `{ name, description }` where the name alone is ambiguous. */
    labels: z.array(Label).min(2),
    /** Labels to keep; the others (and `unknown`, unless listed) are dropped as `off_taxonomy`. Unset: keep all. */
    keep: z.array(z.string().min(1)).min(1).optional(),
    /** The field the label goes to; the raw answer of an `unknown` goes to `<field>Raw`. */
    field: z.string().min(1).default("taxonomy"),
    /** Text fields shown to the model after the user turns of `messages`. */
    textFields: z.array(z.string().min(1)).default(["question", "text", "caption"]),
    /** Images of the item sent with the question (0: text only). */
    maxImages: z.number().int().min(0).default(1),
    /** The item's text is cut to this many characters (a long document needs no more to be placed). */
    maxChars: z.number().int().positive().default(4000),
    /** Ask again for an item that already carries one of the labels in `field` (off: such a label is kept as is). */
    overwrite: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    const names = o.labels.map(labelName);
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (seen.has(n.toLowerCase()) || n.toLowerCase() === UNKNOWN_LABEL)
        ctx.addIssue({
          code: "custom",
          path: ["labels", i],
          message: `label "${n}" is repeated or reserved`,
        });
      seen.add(n.toLowerCase());
    });
    (o.keep ?? []).forEach((k, i) => {
      if (k !== UNKNOWN_LABEL && !names.includes(k))
        ctx.addIssue({ code: "custom", path: ["keep", i], message: `"${k}" is not one of the labels` });
    });
  });
export type TaxonomyOptions = z.infer<typeof TaxonomyOptions>;

function labelName(l: z.infer<typeof Label>): string {
  return typeof l === "string" ? l : l.name;
}

/**
 * The fixed instruction: the labels (with descriptions where given) and the answer format.
 * @example taxonomyPrompt(["math", "chart"]) // "Classify this instruction-tuning example … - math\n- chart …"
 */
export function taxonomyPrompt(labels: TaxonomyOptions["labels"]): string {
  const lines = labels.map((l) => (typeof l === "string" ? `- ${l}` : `- ${l.name}: ${l.description}`));
  return [
    "Classify this instruction-tuning example (its images and the request below) into exactly one category of this taxonomy:",
    ...lines,
    "Answer with the category name only, exactly as written above, and nothing else.",
  ].join("\n");
}

/** Normalise an answer for comparison: no reasoning or box tokens, no quotes, backticks or final full stop, lower case. */
function normaliseAnswer(raw: string): string {
  return cleanAnswer(raw)
    .replace(/^[\s"'`*]+|[\s"'`*.]+$/g, "")
    .toLowerCase();
}

/**
 * The one label an answer names, or null: the whole cleaned answer must equal a label, ignoring case.
 * @example parseLabel("<think>It plots sales.</think>Chart.", ["math", "chart"]) // "chart"
 * @example parseLabel("math or chart", ["math", "chart"]) // null
 */
export function parseLabel(raw: string, names: readonly string[]): string | null {
  const answer = normaliseAnswer(raw);
  return names.find((n) => normaliseAnswer(n) === answer) ?? null;
}

/** The images of an item that a chat model can take (sniffed by content, so video and PDF bytes stay out). */
function itemImages(item: CurateItem, max: number): Uint8Array[] {
  return item.media
    .filter((m) => sniffImageMime(m.bytes).startsWith("image/"))
    .slice(0, max)
    .map((m) => m.bytes);
}

/** The request: system instruction, then the item's images and text in one user turn. */
function classifyMessages(item: CurateItem, o: TaxonomyOptions, prompt: string): ChatMessage[] {
  const text = questionTexts(item.fields, o.textFields).join("\n\n").slice(0, o.maxChars);
  const parts: ChatPart[] = [
    ...itemImages(item, o.maxImages).map(imagePart),
    textPart(`${prompt}\n\nExample:\n${text.length > 0 ? text : "(no text)"}`),
  ];
  return [{ role: "user", content: parts }];
}

export const taxonomy: StageDef<TaxonomyOptions> = {
  name: "taxonomy",
  summary:
    "one taxonomy label per item from a chat model (strictly parsed; unknown keeps the raw answer); optional keep list",
  options: TaxonomyOptions,
  async open(options) {
    const chat = createChatClient(options.hook);
    const names = options.labels.map(labelName);
    const prompt = taxonomyPrompt(options.labels);
    const kept = options.keep ? new Set(options.keep) : null;
    return {
      async process(item, { signal }) {
        const existing = item.fields[options.field];
        let label: string;
        let raw: string | undefined;
        if (!options.overwrite && typeof existing === "string" && names.includes(existing)) label = existing;
        else {
          const answer = await chat.complete(classifyMessages(item, options, prompt), signal);
          const parsed = parseLabel(answer.text, names);
          label = parsed ?? UNKNOWN_LABEL;
          if (parsed === null) raw = answer.text;
        }
        if (kept && !kept.has(label))
          return drop("off_taxonomy", raw === undefined ? label : `${label} (answer: ${raw.slice(0, 200)})`);
        const fields = { ...item.fields, [options.field]: label };
        if (raw !== undefined) fields[`${options.field}Raw`] = raw;
        else delete fields[`${options.field}Raw`];
        return keep({ ...item, fields });
      },
    };
  },
};
