/**
 * `knowledge-density` (paper §3.1: a "high-knowledge-density" image classifier that prioritises charts, schematics,
 * maps and tables): each image is shown to an OpenAI-compatible chat model with a fixed prompt listing the labels, and
 * the answer must name exactly one of them (parsed as `taxonomy` does; anything else is `unknown`, with the raw answer
 * kept). An image block gets `knowledgeLabel`; the item gets `fields.knowledgeLabel` and `fields.knowledgeScore`, the
 * label and weight of its best image, for a later stage to sort or resample by. `keep` drops items with no image of
 * a kept label and `minScore` items under a weight, as `low_knowledge_density`; items without images pass.
 */
import { z } from "zod";
import { ChatHook, createChatClient, imagePart, textPart } from "../../hooks/chat.ts";
import { sniffImageMime } from "../../hooks/data-url.ts";
import { type CurateItem, drop, keep, type StageDef } from "../../stage.ts";
import { parseLabel, UNKNOWN_LABEL } from "../instruct/taxonomy.ts";
import { type Block, readBlocks } from "./document.ts";

const Label = z.strictObject({ name: z.string().min(1), description: z.string().min(1) });

/** The paper's dense kinds first; weights say how much each is worth to a later sort or resample. */
export const DEFAULT_LABELS: z.infer<typeof Label>[] = [
  { name: "chart", description: "a plot of data: bar, line, pie or scatter chart" },
  { name: "table", description: "values or text laid out in rows and columns" },
  {
    name: "schematic",
    description: "a technical or scientific drawing: circuit, mechanism, molecule, engineering plan",
  },
  { name: "map", description: "a geographic map, a floor plan or a route" },
  {
    name: "diagram",
    description: "a flowchart, infographic or labelled illustration that explains something",
  },
  { name: "document", description: "printed or handwritten text, formulas, a screenshot of a page" },
  { name: "photo", description: "a natural photograph of people, objects or scenes" },
  { name: "other", description: "anything else: logos, icons, decorations, memes, ads" },
];
const DEFAULT_WEIGHTS: Record<string, number> = {
  chart: 1,
  table: 1,
  schematic: 1,
  map: 1,
  diagram: 0.8,
  document: 0.6,
  photo: 0.2,
  other: 0,
};

export const KnowledgeDensityOptions = z
  .strictObject({
    hook: ChatHook,
    labels: z.array(Label).min(2).default(DEFAULT_LABELS),
    /** Weight of each label (labels left out and `unknown` weigh 0). Unset: the defaults, for the default labels. */
    weights: z.record(z.string(), z.number()).optional(),
    /** Keep only items with an image of one of these labels. Unset: keep all. */
    keep: z.array(z.string().min(1)).min(1).optional(),
    /** Keep only items whose best image weighs at least this. */
    minScore: z.number().optional(),
    /** Images of a document asked about, in reading order (the rest keep no label). */
    maxImages: z.number().int().min(1).default(16),
  })
  .superRefine((o, ctx) => {
    const names = new Set(o.labels.map((l) => l.name));
    for (const [i, k] of (o.keep ?? []).entries())
      if (k !== UNKNOWN_LABEL && !names.has(k))
        ctx.addIssue({ code: "custom", path: ["keep", i], message: `"${k}" is not a label` });
    for (const k of Object.keys(o.weights ?? {}))
      if (k !== UNKNOWN_LABEL && !names.has(k))
        ctx.addIssue({ code: "custom", path: ["weights", k], message: `"${k}" is not a label` });
  });
export type KnowledgeDensityOptions = z.infer<typeof KnowledgeDensityOptions>;

/** The fixed question asked with each image. */
export function knowledgePrompt(labels: KnowledgeDensityOptions["labels"]): string {
  return [
    "What kind of image is this? Choose exactly one category:",
    ...labels.map((l) => `- ${l.name}: ${l.description}`),
    "Answer with the category name only, exactly as written above, and nothing else.",
  ].join("\n");
}

type Verdict = { label: string; score: number; raw?: string };

export const knowledgeDensity: StageDef<KnowledgeDensityOptions> = {
  name: "knowledge-density",
  summary:
    "label each image (chart, table, schematic, map, …) with a chat model; weight, keep or drop by label",
  options: KnowledgeDensityOptions,
  async open(options) {
    const chat = createChatClient(options.hook);
    const names = options.labels.map((l) => l.name);
    const prompt = knowledgePrompt(options.labels);
    const kept = options.keep ? new Set(options.keep) : null;
    const weights: Record<string, number> = options.weights ?? DEFAULT_WEIGHTS;

    async function classify(bytes: Uint8Array, signal: AbortSignal): Promise<Verdict> {
      const messages = [{ role: "user" as const, content: [imagePart(bytes), textPart(prompt)] }];
      const { text } = await chat.complete(messages, signal);
      const label = parseLabel(text, names);
      if (label === null)
        return { label: UNKNOWN_LABEL, score: weights[UNKNOWN_LABEL] ?? 0, raw: text.slice(0, 200) };
      return { label, score: weights[label] ?? 0 };
    }

    function decide(item: CurateItem, verdicts: Verdict[]) {
      const best = verdicts.reduce<Verdict | null>((b, v) => (b === null || v.score > b.score ? v : b), null);
      if (!best) return keep(item);
      const labels = verdicts.map((v) => v.label).join(", ");
      if (kept && !verdicts.some((v) => kept.has(v.label)))
        return drop("low_knowledge_density", `labels ${labels}`);
      if (options.minScore !== undefined && best.score < options.minScore)
        return drop(
          "low_knowledge_density",
          `best weight ${best.score} (${best.label}) under ${options.minScore}`,
        );
      const fields: Record<string, unknown> = {
        ...item.fields,
        knowledgeLabel: best.label,
        knowledgeScore: best.score,
      };
      if (best.raw !== undefined) fields.knowledgeRaw = best.raw;
      return keep({ ...item, fields });
    }

    return {
      async process(item, { signal }) {
        const read = readBlocks(item);
        if (read.kind === "bad") return drop("bad_blocks", read.detail);
        if (read.kind === "absent") {
          const image = item.media.find((m) => sniffImageMime(m.bytes).startsWith("image/"));
          return decide(item, image ? [await classify(image.bytes, signal)] : []);
        }
        const asked = read.blocks
          .flatMap((b, at) => (b.type === "image" ? [{ b, at }] : []))
          .slice(0, options.maxImages);
        const verdicts = await Promise.all(
          asked.map(({ b }) =>
            classify((item.media.find((m) => m.name === b.media) as { bytes: Uint8Array }).bytes, signal),
          ),
        );
        const blocks: Block[] = [...read.blocks];
        asked.forEach(({ b, at }, k) => {
          const v = verdicts[k] as Verdict;
          blocks[at] = {
            ...b,
            knowledgeLabel: v.label,
            ...(v.raw !== undefined ? { knowledgeRaw: v.raw } : {}),
          };
        });
        return decide({ ...item, fields: { ...item.fields, blocks } }, verdicts);
      },
    };
  },
};
