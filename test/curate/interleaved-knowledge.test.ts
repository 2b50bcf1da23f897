import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CurateItem, StageOutcome } from "../../src/curate/stage.ts";
import type { Block } from "../../src/curate/stages/interleaved/document.ts";
import { knowledgeDensity } from "../../src/curate/stages/interleaved/knowledge-density.ts";
import { COLOURS, type OpenAiLikeServer, startOpenAiLikeServer } from "../helpers/openai-like-server.ts";
import { flat } from "./helpers/images.ts";

const ctx = { shard: 0, signal: new AbortController().signal };
const openCtx = { baseDir: ".", stateDir: ".", scanInput: async function* () {} };
let api: OpenAiLikeServer;
const swatch: Record<string, Uint8Array> = {};

/** The model under test: answers by the image's colour, in the ways real models answer. */
const ANSWERS: Record<string, string> = {
  red: "Chart.",
  blue: "<think>Coastlines and a scale bar.</think>map",
  green: "photo",
  yellow: "It could be a chart or a table.",
};

beforeAll(async () => {
  api = await startOpenAiLikeServer();
  api.setChatRule(({ imageColours }) => ANSWERS[imageColours[0] ?? ""] ?? "other");
  for (const name of Object.keys(ANSWERS))
    swatch[name] = await flat(40, 40, COLOURS[name] as [number, number, number]);
});
afterAll(() => api.close());

async function run(options: Record<string, unknown>, item: CurateItem): Promise<StageOutcome> {
  const parsed = knowledgeDensity.options.parse({ hook: { url: api.url, model: "glm-4.5v" }, ...options });
  const stage = await knowledgeDensity.open(parsed, openCtx);
  return stage.process(item, ctx);
}

const pair = (colour: string): CurateItem => ({
  id: `pair-${colour}`,
  media: [{ name: "0.png", bytes: swatch[colour] as Uint8Array }],
  fields: { caption: "x" },
});

function doc(colours: string[]): CurateItem {
  const media = colours.map((c, i) => ({ name: `${i}.png`, bytes: swatch[c] as Uint8Array }));
  const blocks = [{ type: "text", text: "Intro." }, ...media.map((m) => ({ type: "image", media: m.name }))];
  return { id: "doc", media, fields: { blocks } };
}

const keptFields = (out: StageOutcome) => {
  if (out.kind !== "keep") throw new Error(`dropped: ${out.reason} ${out.detail}`);
  return (out.items[0] as CurateItem).fields;
};

describe("knowledge-density", () => {
  it("asks the chat model one fixed question per image and parses its answer strictly into a label", async () => {
    expect(keptFields(await run({}, pair("red")))).toMatchObject({
      knowledgeLabel: "chart",
      knowledgeScore: 1,
    });
    expect(keptFields(await run({}, pair("blue")))).toMatchObject({
      knowledgeLabel: "map",
      knowledgeScore: 1,
    });
    expect(keptFields(await run({}, pair("green")))).toMatchObject({
      knowledgeLabel: "photo",
      knowledgeScore: 0.2,
    });
    const hedged = keptFields(await run({}, pair("yellow")));
    expect(hedged).toMatchObject({
      knowledgeLabel: "unknown",
      knowledgeScore: 0,
      knowledgeRaw: "It could be a chart or a table.",
    });
    const last = api.requests.at(-1)?.body as { messages: { content: { type: string; text?: string }[] }[] };
    const parts = last.messages[0]?.content ?? [];
    expect(parts.map((p) => p.type)).toEqual(["image_url", "text"]);
    expect(parts[1]?.text).toContain("- schematic: ");
    expect(parts[1]?.text).toContain("Answer with the category name only");
  });

  it("labels each image block of a document and scores the document by its best image", async () => {
    const fields = keptFields(await run({}, doc(["green", "blue", "yellow"])));
    expect((fields.blocks as Block[]).map((b) => (b.type === "image" ? b.knowledgeLabel : b.type))).toEqual([
      "text",
      "photo",
      "map",
      "unknown",
    ]);
    expect(fields).toMatchObject({ knowledgeLabel: "map", knowledgeScore: 1 });
  });

  it("keep and minScore drop items without a dense image as low_knowledge_density", async () => {
    expect(await run({ keep: ["chart", "table", "map"] }, pair("green"))).toMatchObject({
      kind: "drop",
      reason: "low_knowledge_density",
    });
    expect((await run({ keep: ["chart", "table", "map"] }, doc(["green", "red"]))).kind).toBe("keep");
    expect(await run({ minScore: 0.5 }, doc(["green", "yellow"]))).toMatchObject({
      reason: "low_knowledge_density",
    });
    expect((await run({ weights: { photo: 0.7 }, minScore: 0.5 }, pair("green"))).kind).toBe("keep");
  });

  it("takes custom labels, and refuses keep or weights naming labels it does not have", async () => {
    const labels = [
      { name: "plot", description: "a chart" },
      { name: "picture", description: "anything else" },
    ];
    api.setChatRule(({ imageColours }) => (imageColours[0] === "red" ? "plot" : "picture"));
    try {
      expect(keptFields(await run({ labels, weights: { plot: 2 } }, pair("red")))).toMatchObject({
        knowledgeLabel: "plot",
        knowledgeScore: 2,
      });
    } finally {
      api.setChatRule(({ imageColours }) => ANSWERS[imageColours[0] ?? ""] ?? "other");
    }
    expect(() =>
      knowledgeDensity.options.parse({ hook: { url: api.url, model: "m" }, keep: ["charts"] }),
    ).toThrow(/not a label/);
    expect(() =>
      knowledgeDensity.options.parse({ hook: { url: api.url, model: "m" }, labels, weights: { chart: 1 } }),
    ).toThrow(/not a label/);
  });
});
